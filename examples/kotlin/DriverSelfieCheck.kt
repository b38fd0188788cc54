// Seed flow 1: before a shift, the driver takes a selfie; the app checks the
// capture and compares it with the driver's enrolled templates, on the phone.
package dev.trustshot.examples

import dev.trustshot.EnrollmentStore
import dev.trustshot.FaceVerifier
import dev.trustshot.MatchDecision
import dev.trustshot.StaticStoreKey
import dev.trustshot.encodedImage
import java.io.File
import java.security.SecureRandom

fun main(args: Array<String>) {
    val (models, samples) = args[0] to File(args[1])
    // The store key: on Android, unwrap it with a Keystore key; here a random one.
    val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
    // The store lives in its own folder (with its lock file beside it).
    val storeDir = kotlin.io.path.createTempDirectory("driver-templates").toFile()
    val storeFile = File(storeDir, "templates.bin")
    FaceVerifier(models).use { verifier ->
        EnrollmentStore.open(storeFile.path, StaticStoreKey(key)).use { store ->
            // Enrollment, once, from reference photos.
            store.enroll(verifier, "driver-42", listOf(encodedImage(File(samples, "obama2.jpg")), encodedImage(File(samples, "obama3.jpg"))))
            // Before the shift.
            val result = store.verify(verifier, "driver-42", encodedImage(File(samples, "obama.jpg")))
            when (result.decision) {
                MatchDecision.MATCH -> println("driver selfie: match (score ${"%.3f".format(result.score)}, threshold ${result.threshold} at FMR ${result.fmr})")
                MatchDecision.NO_MATCH -> println("driver selfie: not the enrolled driver")
                MatchDecision.REJECTED -> println("driver selfie: retake — " + result.reasons.joinToString { it.reason.advice })
            }
            check(result.decision == MatchDecision.MATCH)
            // The driver asks for removal: everything goes.
            store.deleteAll()
        }
    }
    storeDir.deleteRecursively()
}
