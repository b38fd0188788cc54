// A SwiftUI view that runs a challenge from the camera: the prompt of each
// state, the per-frame guidance, and the verdict. NOT COMPILED here (no Swift
// compiler on the development machine): syntax- and call-checked by
// scripts/swift-check. The camera side (an AVCaptureSession with a
// AVCaptureVideoDataOutput calling `frame(_:at:)`) is the app's.
import AVFoundation
import SwiftUI

@MainActor
final class ChallengeModel: ObservableObject {
    @Published var prompt = challengeHoldPrompt().text
    @Published var hint = ""
    @Published var result: ChallengeState?
    private let session: ChallengeSession
    private var busy = false

    init(verifier: FaceVerifier) throws {
        session = try verifier.startChallenge(actions: 2)
    }

    /// Called for each camera frame; a frame that arrives while one is judged is dropped.
    func frame(_ pixelBuffer: CVPixelBuffer, at timestampMs: UInt64) {
        guard !busy, result == nil, let image = try? ImageInput(pixelBuffer: pixelBuffer, rotation: .deg90) else { return }
        busy = true
        let session = self.session
        Task.detached(priority: .userInitiated) {
            let state = try? session.pushFrame(image: image, timestampMs: timestampMs)
            let hint = session.guidance().first?.text ?? ""
            await MainActor.run {
                self.busy = false
                self.hint = hint
                guard let state else { return }
                switch state {
                case .inProgress(_, let current): self.prompt = challengePrompt(action: current).text
                case .holding, .starting: self.prompt = challengeHoldPrompt().text
                case .passed, .failed, .timedOut: self.result = state
                }
            }
        }
    }
}

struct ChallengeView: View {
    @ObservedObject var model: ChallengeModel

    var body: some View {
        VStack(spacing: 12) {
            Text(model.prompt).font(.title2)
            Text(model.hint).foregroundColor(.secondary)
            if let result = model.result {
                Text(String(describing: result))
            }
        }
        .padding()
    }
}
