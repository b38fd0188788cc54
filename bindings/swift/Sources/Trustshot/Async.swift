// Hand-written Swift on top of the generated bindings: `async` versions of
// every slow call, so that an app never runs them on the main actor. NOT
// COMPILED on the development machine (no Swift compiler there): checked for
// syntax, and its calls against the generated signatures, by scripts/swift-check.
//
// Each call runs on a global queue (the SDK's calls are CPU-bound and
// thread-safe). A call already running in native code finishes; task
// cancellation is checked before it starts and between frames of a session.
import Foundation

private func offMain<T>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try Task.checkCancellation()
    return try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Result { try work() })
        }
    }
}

public extension FaceVerifier {
    /// Loads the models (about 0.3 s) off the main actor.
    static func load(modelDir: String, config: TrustshotConfig = defaultConfig()) async throws -> FaceVerifier {
        try await offMain { try FaceVerifier.withConfig(modelDir: modelDir, config: config) }
    }

    func analyzeAsync(image: ImageInput) async throws -> FaceAnalysis {
        try await offMain { try self.analyze(image: image) }
    }

    func verifyAsync(probe: ImageInput, references: [ImageInput]) async throws -> VerificationResult {
        try await offMain { try self.verify(probe: probe, references: references) }
    }

    func verifyIdAsync(document: ImageInput, selfie: ImageInput) async throws -> IdResult {
        try await offMain { try self.verifyId(document: document, selfie: selfie) }
    }

    /// The high-assurance ID check over a finished challenge and colour-flash session.
    func verifyIdSessionAsync(document: ImageInput, challenge: ChallengeSession,
                              flash: FlashChallenge) async throws -> IdResult {
        try await offMain { try self.verifyIdSession(document: document, challenge: challenge, flash: flash) }
    }

    func sealDeliveryAsync(request: EvidenceRequest, photo: ImageInput, options: SealOptions,
                           recipientsPem: [String], signer: DeviceSigner) async throws -> SealedEvidence {
        try await offMain {
            try self.sealDelivery(request: request, photo: photo, options: options,
                                  recipientsPem: recipientsPem, signer: signer)
        }
    }
}

public extension EnrollmentStore {
    func enrollAsync(verifier: FaceVerifier, personId: String, images: [ImageInput]) async throws -> [TemplateInfo] {
        try await offMain { try self.enroll(verifier: verifier, personId: personId, images: images) }
    }

    func verifyAsync(verifier: FaceVerifier, personId: String, probe: ImageInput) async throws -> VerificationResult {
        try await offMain { try self.verify(verifier: verifier, personId: personId, probe: probe) }
    }
}

public extension ChallengeSession {
    /// Feeds camera frames (image, timestamp in ms) until the session ends
    /// and returns its final state (or the last one if the frames end first).
    /// Cancelling the task stops between two frames.
    func run<Frames: AsyncSequence>(_ frames: Frames) async throws -> ChallengeState
        where Frames.Element == (ImageInput, UInt64) {
        var last = ChallengeState.starting
        for try await (image, timestampMs) in frames {
            try Task.checkCancellation()
            last = try await offMain { try self.pushFrame(image: image, timestampMs: timestampMs) }
            switch last {
            case .passed, .failed, .timedOut: return last
            default: continue
            }
        }
        return last
    }
}
