// Seed flow 3: at the door, the driver photographs the parcel; bystanders'
// faces are pixelated, metadata dropped, the location rounded, and the photo is
// signed by the device key and sealed for the operator. The operator opens it.
package dev.trustshot.examples

import dev.trustshot.DeliveryPolicy
import dev.trustshot.EvidenceKind
import dev.trustshot.EvidenceRequest
import dev.trustshot.FaceRedaction
import dev.trustshot.FaceVerifier
import dev.trustshot.GeoPoint
import dev.trustshot.JcaDeviceSigner
import dev.trustshot.SealOptions
import dev.trustshot.encodedImage
import dev.trustshot.generateKeyPair
import dev.trustshot.openPackage
import java.io.File

fun main(args: Array<String>) {
    val (models, samples) = args[0] to File(args[1])
    val operator = generateKeyPair() // the operator's key; the app only has its public half
    val device = JcaDeviceSigner.generate() // on Android: AndroidKeystoreSigner.forAlias("trustshot-device")
    FaceVerifier(models).use { verifier ->
        val request = EvidenceRequest(
            kind = EvidenceKind.PROOF_OF_DELIVERY,
            subjectId = "delivery-0815",
            capturedAtUnix = System.currentTimeMillis() / 1000,
            location = GeoPoint(52.520008, 13.404954, 100u),
            retentionDays = 90u,
            verdict = null,
        )
        val sealed = verifier.sealDelivery(
            request, encodedImage(File(samples, "obama.jpg")), SealOptions(FaceRedaction.PIXELATE, DeliveryPolicy()), listOf(operator.publicKeyPem), device,
        )
        println("proof of delivery: sealed ${sealed.`package`.size} bytes")
        // On the operator's backend:
        val opened = openPackage(sealed.`package`, operator.privateKeyPem, device.publicKeyPem())
        println("  opened: ${opened.manifestJson}")
        check(opened.photo != null)
    }
}
