// XCTest mirror of bindings/kotlin/src/test (TrustshotTest.kt): the binding
// surface against the real library on a simulator or device. Resources/ holds
// models/ and samples/, copied by scripts/build-xcframework.sh.
// Not compiled on the development machine (no Swift toolchain there).
import Foundation
import Trustshot
import UIKit
import XCTest

final class TrustshotTests: XCTestCase {
    static let resources = Bundle.module.resourceURL!.appendingPathComponent("Resources")
    static let verifier = try! FaceVerifier(modelDir: resources.appendingPathComponent("models").path)

    func sample(_ name: String) throws -> ImageInput {
        .encoded(bytes: try Data(contentsOf: Self.resources.appendingPathComponent("samples").appendingPathComponent(name)))
    }

    func testEnrollAndVerifyOnRealPhotos() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        var key = Data(count: 32)
        _ = key.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, 32, $0.baseAddress!) }
        let store = try EnrollmentStore.open(path: path, key: StaticStoreKey(key))
        let templates = try store.enroll(verifier: Self.verifier, personId: "driver-1", images: [try sample("obama2.jpg"), try sample("obama3.jpg")])
        XCTAssertEqual(templates.count, 2)
        XCTAssertEqual(try store.verify(verifier: Self.verifier, personId: "driver-1", probe: try sample("obama.jpg")).decision, .match)
        XCTAssertEqual(try store.verify(verifier: Self.verifier, personId: "driver-1", probe: try sample("biden.jpg")).decision, .noMatch)
        XCTAssertEqual(try store.deletePerson(personId: "driver-1"), 2)
        XCTAssertThrowsError(try store.verify(verifier: Self.verifier, personId: "driver-1", probe: try sample("obama.jpg"))) { error in
            guard case StoreError.NotEnrolled = error else { return XCTFail("\(error)") }
        }
    }

    func testARejectedCaptureComesBackWithItsReasons() throws {
        // The sample as a darkened BGRA camera buffer.
        let image = UIImage(data: try Data(contentsOf: Self.resources.appendingPathComponent("samples/obama.jpg")))!.cgImage!
        let (w, h) = (image.width, image.height)
        var bytes = Data(count: w * h * 4)
        bytes.withUnsafeMutableBytes { raw in
            let ctx = CGContext(data: raw.baseAddress, width: w, height: h, bitsPerComponent: 8, bytesPerRow: w * 4,
                                space: CGColorSpaceCreateDeviceRGB(),
                                bitmapInfo: CGBitmapInfo.byteOrder32Little.rawValue | CGImageAlphaInfo.premultipliedFirst.rawValue)!
            ctx.draw(image, in: CGRect(x: 0, y: 0, width: w, height: h))
            for i in 0..<(w * h * 4) where i % 4 != 3 { raw[i] = UInt8(Double(raw[i]) * 0.25) }
        }
        let dark = ImageInput.camera(bytes: bytes, width: UInt32(w), height: UInt32(h), rowStride: UInt32(w * 4), format: .bgra8888, rotation: .deg0)
        let result = try Self.verifier.verify(probe: dark, references: [try sample("obama3.jpg")])
        XCTAssertEqual(result.decision, .rejected)
        XCTAssertTrue(result.reasons.contains { $0.reason.code == .tooDark && $0.image == .probe })
    }

    func testSealWithTheDeviceSignerAndOpenInRust() throws {
        let operatorKey = try generateKeyPair()
        let device = SoftwareSigner()
        let request = EvidenceRequest(kind: .proofOfDelivery, subjectId: "D-100", capturedAtUnix: 1_790_000_000,
                                      location: GeoPoint(latitude: 52.52, longitude: 13.405, precisionM: 100),
                                      retentionDays: 90, verdict: nil)
        let sealed = try Self.verifier.sealDelivery(request: request, photo: try sample("obama.jpg"),
                                                    options: SealOptions(faces: .pixelate, policy: DeliveryPolicy()),
                                                    recipientsPem: [operatorKey.publicKeyPem], signer: device)
        let opened = try openPackage(package: sealed.package, recipientPrivateKeyPem: operatorKey.privateKeyPem,
                                     signerPublicKeyPem: try device.publicKeyPem())
        XCTAssertEqual(opened.manifestJson, sealed.manifestJson)
        XCTAssertNotNil(opened.photo)
    }

    func testATamperedPackageThrowsTheRightErrorType() throws {
        let operatorKey = try generateKeyPair()
        let device = SoftwareSigner()
        let request = EvidenceRequest(kind: .proofOfDelivery, subjectId: "D-101", capturedAtUnix: 1_790_000_000,
                                      location: nil, retentionDays: 30, verdict: nil)
        var package = try sealReceipt(request: request, policy: DeliveryPolicy(), recipientsPem: [operatorKey.publicKeyPem], signer: device).package
        // Another valid base64 character in the MAC's first position (a plain bit
        // flip can make it invalid base64, which is a different error).
        let mac = package.range(of: Data("--- ".utf8))!.upperBound
        package[mac] = package[mac] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertThrowsError(try openPackage(package: package, recipientPrivateKeyPem: operatorKey.privateKeyPem,
                                             signerPublicKeyPem: try device.publicKeyPem())) { error in
            guard case EvidenceError.HeaderMac = error else { return XCTFail("\(error)") }
        }
    }

    func testEightThreadsVerifyingConcurrentlyGetIdenticalResults() throws {
        let expected = try Self.verifier.verify(probe: try sample("obama.jpg"), references: [try sample("obama3.jpg")])
        let probe = try sample("obama.jpg")
        let reference = try sample("obama3.jpg")
        var results = [VerificationResult?](repeating: nil, count: 8)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let r = try? Self.verifier.verify(probe: probe, references: [reference])
            lock.lock()
            results[i] = r
            lock.unlock()
        }
        XCTAssertTrue(results.allSatisfy { $0 == expected })
    }
}
