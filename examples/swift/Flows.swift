// The three seed flows from an iOS app (source only: no Swift compiler on the
// development machine; syntax-checked by scripts/test).
import Foundation
import Trustshot

/// Flow 1: the driver's selfie before a shift.
func driverSelfieCheck(verifier: FaceVerifier, store: EnrollmentStore, selfieJpeg: Data) throws -> Bool {
    let result = try store.verify(verifier: verifier, personId: "driver-42", probe: .encoded(bytes: selfieJpeg))
    switch result.decision {
    case .match:
        return true
    case .noMatch:
        return false
    case .rejected:
        // Show the first reason's advice (localise by `code` in a real app) and retake.
        print(result.reasons.first?.reason.advice ?? "retake")
        return false
    }
}

/// Flow 2: a seller against their ID, in the high-assurance flow: `challenge` and `flash` are the
/// finished sessions of one capture (ChallengeView, then the colour flash); the selfie compared
/// with the ID is the session's best frame. The result goes to a reviewer unless approved.
func sellerIdCheck(verifier: FaceVerifier, documentJpeg: Data, challenge: ChallengeSession,
                   flash: FlashChallenge) throws -> IdResult {
    let result = try verifier.verifyIdSession(document: .encoded(bytes: documentJpeg), challenge: challenge,
                                              flash: flash)
    for check in result.assurance?.checks ?? [] {
        print("\(check.layer): passed \(check.passed), threshold \(check.threshold)")
    }
    for reason in result.reasons {
        print("\(reason.code): measured \(reason.measured), threshold \(reason.threshold)")
    }
    return result
}

/// Flow 3: proof of delivery, signed in the Secure Enclave and sealed for the operator.
func proofOfDelivery(verifier: FaceVerifier, photoJpeg: Data, operatorPublicKeyPem: String, deliveryId: String,
                     latitude: Double, longitude: Double) throws -> Data {
    let signer = try SecureEnclaveSigner()
    let request = EvidenceRequest(kind: .proofOfDelivery, subjectId: deliveryId,
                                  capturedAtUnix: Int64(Date().timeIntervalSince1970),
                                  location: GeoPoint(latitude: latitude, longitude: longitude, precisionM: 100),
                                  retentionDays: 90, verdict: nil)
    let sealed = try verifier.sealDelivery(request: request, photo: .encoded(bytes: photoJpeg),
                                           options: SealOptions(faces: .pixelate, policy: DeliveryPolicy()),
                                           recipientsPem: [operatorPublicKeyPem], signer: signer)
    return sealed.package
}
