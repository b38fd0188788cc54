// Hand-written Swift on top of the generated bindings: a device signer backed by
// the Secure Enclave (the key never leaves it) and a store key provider.
import CryptoKit
import Foundation

/// Signs with a P-256 key in the Secure Enclave. `sign` hashes with SHA-256,
/// as the SDK's `DeviceSigner` contract asks; the DER signature is converted
/// to COSE's raw form by the SDK.
public final class SecureEnclaveSigner: DeviceSigner, @unchecked Sendable {
    private let key: SecureEnclave.P256.Signing.PrivateKey

    /// A new key, or the one whose `dataRepresentation` the app kept (in the keychain).
    public init(dataRepresentation: Data? = nil) throws {
        if let data = dataRepresentation {
            key = try SecureEnclave.P256.Signing.PrivateKey(dataRepresentation: data)
        } else {
            key = try SecureEnclave.P256.Signing.PrivateKey()
        }
    }

    /// What to store (in the keychain) to use the same key again; not the key itself.
    public var dataRepresentation: Data { key.dataRepresentation }

    public func publicKeyPem() throws -> String {
        key.publicKey.pemRepresentation
    }

    public func sign(message: Data) throws -> Data {
        do {
            return try key.signature(for: message).derRepresentation
        } catch {
            throw EvidenceError.Signer(detail: "Secure Enclave signing failed: \(error)")
        }
    }

    public func signatureFormat() -> SignatureFormat {
        .der
    }

    /// Secure Enclave keys have no X.509 attestation chain; App Attest's
    /// statement has a reserved slot in the format (docs/evidence-format.md §5)
    /// and is not sent by this version.
    public func attestationChain() throws -> [Data] {
        []
    }
}

/// A software P-256 signer (simulator, tests).
public final class SoftwareSigner: DeviceSigner, @unchecked Sendable {
    private let key = P256.Signing.PrivateKey()

    public init() {}

    public func publicKeyPem() throws -> String {
        key.publicKey.pemRepresentation
    }

    public func sign(message: Data) throws -> Data {
        try key.signature(for: message).derRepresentation
    }

    public func signatureFormat() -> SignatureFormat {
        .der
    }

    public func attestationChain() throws -> [Data] {
        []
    }
}

/// A store key the app already holds (for example, read from the keychain).
public final class StaticStoreKey: StoreKeyProvider, @unchecked Sendable {
    private let key: Data

    public init(_ key: Data) {
        precondition(key.count == 32, "the store key must be 32 bytes")
        self.key = key
    }

    public func storeKey() throws -> Data {
        key
    }
}
