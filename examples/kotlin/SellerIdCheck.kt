// Seed flow 2: a seller takes a selfie and photographs their ID; the SDK checks
// liveness and the document capture, matches the faces, and returns a decision
// with every score and reason for a human reviewer.
package dev.trustshot.examples

import dev.trustshot.FaceVerifier
import dev.trustshot.IdReasonCode
import dev.trustshot.encodedImage
import java.io.File

fun main(args: Array<String>) {
    val (models, samples) = args[0] to File(args[1])
    FaceVerifier(models).use { verifier ->
        // No ID document ships with the sample photos: a portrait photo stands
        // in for the document here, so expect a review, not an approval.
        val result = verifier.verifyId(encodedImage(File(samples, "obama3.jpg")), encodedImage(File(samples, "obama.jpg")))
        println("seller ID check: ${result.decision} (face match ${result.faceMatch}, approve at ${result.approveThreshold}, reject below ${result.rejectThreshold})")
        result.liveness?.let { println("  selfie liveness ${"%.3f".format(it.score)} (live: ${it.live})") } ?: println("  liveness model not installed")
        result.reasons.forEach { println("  reason ${describe(it.code)}: measured ${it.measured}, threshold ${it.threshold}") }
        check(result.faceMatch != null && result.faceMatch!! >= result.approveThreshold)
    }
}

/** A reason's name for a log line (variants without fields are plain objects). */
fun describe(code: IdReasonCode): String = when (code) {
    is IdReasonCode.SelfieQuality -> "SelfieQuality(${code.code})"
    else -> code::class.simpleName ?: "unknown"
}
