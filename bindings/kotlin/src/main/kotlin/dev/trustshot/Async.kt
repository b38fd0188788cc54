// Hand-written Kotlin on top of the generated bindings: suspend versions of
// every slow call, so that an app never runs them on its main thread.
//
// Each runs on Dispatchers.Default (the SDK's calls are CPU-bound and
// thread-safe). A call already running in native code finishes (Rust cannot be
// interrupted halfway through a network); cancellation is checked before it
// starts and when it returns, and between frames of a session.
//
// Measured on the development machine (2-core x86_64, README "Measured"):
// loading ~0.3 s; verify or enroll ~70 ms per picture; an ID check ~250 ms;
// a challenge or colour-flash frame ~10-25 ms; sealing a delivery photo
// ~0.1 s for 1280x720, ~1 s for a 4000x3000 photo (bystander search).
package dev.trustshot

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.firstOrNull
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.withContext

/** Runs [block] on Dispatchers.Default; cancellation is honoured before and after it. */
private suspend fun <T> offMain(block: () -> T): T = withContext(Dispatchers.Default) {
    ensureActive()
    block().also { ensureActive() }
}

/** Loads the models (about 0.3 s) off the main thread. */
suspend fun loadFaceVerifier(modelDir: String, config: TrustshotConfig = defaultConfig()): FaceVerifier =
    offMain { FaceVerifier.withConfig(modelDir, config) }

suspend fun FaceVerifier.analyzeAsync(image: ImageInput): FaceAnalysis = offMain { analyze(image) }

suspend fun FaceVerifier.verifyAsync(probe: ImageInput, references: List<ImageInput>): VerificationResult =
    offMain { verify(probe, references) }

suspend fun FaceVerifier.verifyIdAsync(document: ImageInput, selfie: ImageInput): IdResult =
    offMain { verifyId(document, selfie) }

/** The high-assurance ID check over a finished challenge and colour-flash session. */
suspend fun FaceVerifier.verifyIdSessionAsync(
    document: ImageInput,
    challenge: ChallengeSession,
    flash: FlashChallenge,
): IdResult = offMain { verifyIdSession(document, challenge, flash) }

suspend fun FaceVerifier.checkLivenessAsync(image: ImageInput): LivenessResult = offMain { checkLiveness(image) }

suspend fun FaceVerifier.sealDeliveryAsync(
    request: EvidenceRequest,
    photo: ImageInput,
    options: SealOptions,
    recipientsPem: List<String>,
    signer: DeviceSigner,
): SealedEvidence = offMain { sealDelivery(request, photo, options, recipientsPem, signer) }

suspend fun EnrollmentStore.enrollAsync(verifier: FaceVerifier, personId: String, images: List<ImageInput>): List<TemplateInfo> =
    offMain { enroll(verifier, personId, images) }

suspend fun EnrollmentStore.verifyAsync(verifier: FaceVerifier, personId: String, probe: ImageInput): VerificationResult =
    offMain { verify(verifier, personId, probe) }

/** A camera frame and when it was taken (the clock the session's timestamps use). */
data class TimedFrame(val image: ImageInput, val timestampMs: ULong)

/** Whether a challenge state ends its session. */
val ChallengeState.isFinal: Boolean
    get() = this is ChallengeState.Passed || this is ChallengeState.Failed || this is ChallengeState.TimedOut

/**
 * Feeds [frames] (e.g. a CameraX analyzer's output as a Flow) to the session
 * until it ends; returns the final state (or the last one, if the frames end
 * first). Cancelling the collecting coroutine stops between two frames.
 * Frames arriving while one is judged are the producer's to drop (CameraX
 * `STRATEGY_KEEP_ONLY_LATEST`).
 */
suspend fun ChallengeSession.run(frames: Flow<TimedFrame>): ChallengeState {
    var last: ChallengeState = ChallengeState.Starting
    return frames
        .map { frame -> offMain { pushFrame(frame.image, frame.timestampMs) }.also { last = it } }
        .firstOrNull { it.isFinal } ?: last
}
