// Hand-written Kotlin on top of the generated bindings (dev.trustshot, generated
// by uniffi-bindgen from the trustshot-ffi library): device signers and the
// store key, over java.security, for the JVM and as the pattern Android follows.
package dev.trustshot

import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.PrivateKey
import java.security.PublicKey
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import java.util.Base64

/** PEM `PUBLIC KEY` (SubjectPublicKeyInfo) of a java.security EC public key. */
fun PublicKey.toPem(): String {
    val body = Base64.getMimeEncoder(64, "\n".toByteArray()).encodeToString(encoded)
    return "-----BEGIN PUBLIC KEY-----\n$body\n-----END PUBLIC KEY-----\n"
}

/**
 * A device signer over java.security: `SHA256withECDSA` with a P-256 key, DER
 * signatures (converted to COSE's raw form by the SDK). On Android the same
 * code works with a key from the `AndroidKeyStore` provider, which never leaves
 * the secure hardware (see AndroidKeystoreSigner). `attestationChain` is the
 * key's certificate chain, DER, leaf first (`KeyStore.getCertificateChain`),
 * signed into each package for the operator to check; empty for none.
 */
open class JcaDeviceSigner(
    private val privateKey: PrivateKey,
    private val publicKey: PublicKey,
    private val attestationChain: List<ByteArray> = emptyList(),
) : DeviceSigner {
    override fun publicKeyPem(): String = publicKey.toPem()

    override fun attestationChain(): List<ByteArray> = attestationChain.map { it.copyOf() }

    override fun sign(message: ByteArray): ByteArray =
        Signature.getInstance("SHA256withECDSA").run {
            initSign(privateKey)
            update(message)
            sign()
        }

    override fun signatureFormat(): SignatureFormat = SignatureFormat.DER

    companion object {
        /** A fresh in-memory P-256 key (tests, and platforms without a keystore). */
        fun generate(): JcaDeviceSigner {
            val pair: KeyPair = KeyPairGenerator.getInstance("EC").run {
                initialize(ECGenParameterSpec("secp256r1"))
                generateKeyPair()
            }
            return JcaDeviceSigner(pair.private, pair.public)
        }
    }
}

/** A store key the app already holds (e.g. unwrapped with a Keystore key). */
class StaticStoreKey(private val key: ByteArray) : StoreKeyProvider {
    init {
        require(key.size == 32) { "the store key must be 32 bytes" }
    }

    override fun storeKey(): ByteArray = key.copyOf()
}

/** An encoded (JPEG/PNG) picture from a file. */
fun encodedImage(file: java.io.File): ImageInput = ImageInput.Encoded(file.readBytes())
