// JUnit 5 tests of the Kotlin binding surface, on the JVM through JNA against
// the release library, with the real models and the sample photos that
// scripts/setup fetched. Run by scripts/kotlin-test.
package dev.trustshot

import java.awt.image.BufferedImage
import java.io.File
import java.security.KeyFactory
import java.security.SecureRandom
import java.security.cert.CertificateFactory
import java.security.cert.X509Certificate
import java.security.spec.PKCS8EncodedKeySpec
import java.security.spec.X509EncodedKeySpec
import java.util.Base64
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import javax.imageio.ImageIO
import kotlin.test.assertContains
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.asFlow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.io.TempDir

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrustshotTest {
    private val models = System.getProperty("trustshot.models") ?: "models/dist"
    private val samples = File(System.getProperty("trustshot.samples") ?: "samples")
    private val verifier = FaceVerifier(models)

    private fun sample(name: String): ImageInput = encodedImage(File(samples, name))

    /** A sample photo as an RGBA camera buffer, darkened by `factor`. */
    private fun cameraBuffer(name: String, factor: Double): ImageInput.Camera {
        val image: BufferedImage = ImageIO.read(File(samples, name))
        val (w, h) = image.width to image.height
        val stride = w * 4 + 16
        val bytes = ByteArray(stride * h)
        for (y in 0 until h) {
            for (x in 0 until w) {
                val rgb = image.getRGB(x, y)
                val i = y * stride + x * 4
                bytes[i] = (((rgb shr 16) and 0xFF) * factor).toInt().toByte()
                bytes[i + 1] = (((rgb shr 8) and 0xFF) * factor).toInt().toByte()
                bytes[i + 2] = ((rgb and 0xFF) * factor).toInt().toByte()
                bytes[i + 3] = 0xFF.toByte()
            }
        }
        return ImageInput.Camera(bytes, w.toUInt(), h.toUInt(), stride.toUInt(), PixelFormat.RGBA8888, Rotation.DEG0)
    }

    @AfterAll
    fun close() = verifier.close()

    @Test
    fun enrollAndVerifyOnRealPhotos(@TempDir dir: File) {
        val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
        EnrollmentStore.open(File(dir, "templates.bin").path, StaticStoreKey(key)).use { store ->
            val templates = store.enroll(verifier, "driver-1", listOf(sample("obama2.jpg"), sample("obama3.jpg")))
            assertEquals(2, templates.size)
            assertEquals(2, store.list().size)

            val same = store.verify(verifier, "driver-1", sample("obama.jpg"))
            assertEquals(MatchDecision.MATCH, same.decision)
            assertTrue(same.score!! >= same.threshold)
            val other = store.verify(verifier, "driver-1", sample("biden.jpg"))
            assertEquals(MatchDecision.NO_MATCH, other.decision)

            assertEquals(2u, store.deletePerson("driver-1"))
            assertFailsWith<StoreException.NotEnrolled> { store.verify(verifier, "driver-1", sample("obama.jpg")) }
        }
        // Another key cannot read the store (and learns nothing of it).
        EnrollmentStore.open(File(dir, "templates.bin").path, StaticStoreKey(key)).use { it.enroll(verifier, "d", listOf(sample("obama3.jpg"))) }
        assertFailsWith<StoreException.Unreadable> {
            EnrollmentStore.open(File(dir, "templates.bin").path, StaticStoreKey(ByteArray(32)))
        }
    }

    @Test
    fun twoHandlesLoseNothingAndACopiedBackStoreIsRefused(@TempDir dir: File) {
        val key = StaticStoreKey(ByteArray(32).also { SecureRandom().nextBytes(it) })
        val path = File(dir, "templates.bin")
        val a = EnrollmentStore.open(path.path, key)
        val b = EnrollmentStore.open(path.path, key)
        a.enroll(verifier, "alice", listOf(sample("obama2.jpg")))
        val withAlice = path.readBytes()
        b.enroll(verifier, "bob", listOf(sample("biden.jpg")))
        assertEquals(setOf("alice", "bob"), a.list().map { it.personId }.toSet())
        a.deletePerson("alice")
        b.enroll(verifier, "carol", listOf(sample("obama3.jpg")))
        assertEquals(setOf("bob", "carol"), a.list().map { it.personId }.toSet())
        val kept = a.generation()
        assertEquals(4uL, kept)
        // The copy with alice put back: both handles refuse it, and so does a
        // fresh one told the generation the app kept.
        path.writeBytes(withAlice)
        assertFailsWith<StoreException.Rollback> { a.list() }
        assertFailsWith<StoreException.Rollback> { b.enroll(verifier, "eve", listOf(sample("obama.jpg"))) }
        EnrollmentStore.open(path.path, key).use { fresh ->
            assertFailsWith<StoreException.Rollback> { fresh.expectGenerationAtLeast(kept) }
        }
        a.close()
        b.close()
    }

    @Test
    fun aRejectedCaptureComesBackWithItsReasons() {
        val dark = cameraBuffer("obama.jpg", 0.25)
        val result = verifier.verify(dark, listOf(sample("obama3.jpg")))
        assertEquals(MatchDecision.REJECTED, result.decision)
        assertNull(result.score)
        val reason = result.reasons.single { it.reason.code == QualityCode.TOO_DARK }
        assertEquals(ImageRole.Probe, reason.image)
        assertTrue(reason.reason.measured < reason.reason.threshold)
        assertTrue(reason.reason.advice.isNotEmpty())
        // The face was found (and passed the detector's second look); only the light is wrong.
        val face = verifier.analyze(dark).faces.single()
        assertTrue(face.faceProbability >= 0.7f && face.score >= 0.6f, face.toString())
        // The same buffer at full brightness passes.
        assertEquals(MatchDecision.MATCH, verifier.verify(cameraBuffer("obama.jpg", 1.0), listOf(sample("obama3.jpg"))).decision)
    }

    private fun deliveryRequest(id: String) = EvidenceRequest(
        kind = EvidenceKind.PROOF_OF_DELIVERY,
        subjectId = id,
        capturedAtUnix = 1_790_000_000,
        location = GeoPoint(52.520008, 13.404954, 100u),
        retentionDays = 90u,
        verdict = null,
    )

    @Test
    fun sealWithAKotlinSignerAndOpenInRust() {
        val operator = generateKeyPair()
        val device = JcaDeviceSigner.generate()
        val sealed = verifier.sealDelivery(
            deliveryRequest("D-100"), sample("obama.jpg"), SealOptions(FaceRedaction.PIXELATE, DeliveryPolicy()), listOf(operator.publicKeyPem), device,
        )
        assertContains(sealed.manifestJson, "\"subject\":\"D-100\"")
        val opened = openPackage(sealed.`package`, operator.privateKeyPem, device.publicKeyPem())
        assertEquals(sealed.manifestJson, opened.manifestJson)
        assertEquals("image/jpeg", opened.mediaType)
        assertNotNull(ImageIO.read(opened.photo!!.inputStream()), "the opened photo is a JPEG")
        val info = inspectPackage(sealed.`package`, listOf(operator.publicKeyPem))
        assertEquals(operator.keyId, info.recipients.single().keyId)
    }

    /**
     * A signer that hands over its key's attestation chain (the committed test
     * chain: a StrongBox Key Attestation leaf for device.key, an intermediate,
     * a root): the chain crosses the callback, is signed into the package and
     * comes back from openPackage byte for byte; java.security checks the links.
     */
    @Test
    fun anAttestationChainFromAKotlinSignerTravelsInThePackage() {
        val dir = File("crates/trustshot-evidence/tests/vectors/attestation")
        fun der(name: String, label: String): ByteArray = Base64.getMimeDecoder().decode(
            File(dir, name).readText().substringAfter("-----BEGIN $label-----").substringBefore("-----END $label-----"),
        )
        val keyFactory = KeyFactory.getInstance("EC")
        val privateKey = keyFactory.generatePrivate(PKCS8EncodedKeySpec(der("device.key", "PRIVATE KEY")))
        val publicKey = keyFactory.generatePublic(X509EncodedKeySpec(der("device.pub", "PUBLIC KEY")))
        val certs = File(dir, "chain.pem").inputStream().use {
            CertificateFactory.getInstance("X.509").generateCertificates(it).map { c -> c as X509Certificate }
        }
        assertEquals(3, certs.size)
        assertEquals(publicKey, certs[0].publicKey, "the leaf certifies the device key")
        certs.zipWithNext().forEach { (cert, issuer) -> cert.verify(issuer.publicKey) }
        assertNotNull(certs[0].getExtensionValue("1.3.6.1.4.1.11129.2.1.17"), "Key Attestation extension")

        val operator = generateKeyPair()
        val device = JcaDeviceSigner(privateKey, publicKey, certs.map { it.encoded })
        val sealed = sealReceipt(deliveryRequest("D-103"), DeliveryPolicy(), listOf(operator.publicKeyPem), device)
        val opened = openPackage(sealed.`package`, operator.privateKeyPem, device.publicKeyPem())
        assertEquals(certs.map { it.encoded.toList() }, opened.attestationChain.map { it.toList() })
        val plain = JcaDeviceSigner.generate()
        val withoutChain = sealReceipt(deliveryRequest("D-104"), DeliveryPolicy(), listOf(operator.publicKeyPem), plain)
        assertTrue(openPackage(withoutChain.`package`, operator.privateKeyPem, plain.publicKeyPem()).attestationChain.isEmpty())
    }

    @Test
    fun aTamperedPackageThrowsTheRightExceptionType() {
        val operator = generateKeyPair()
        val device = JcaDeviceSigner.generate()
        val sealed = sealReceipt(deliveryRequest("D-101"), DeliveryPolicy(), listOf(operator.publicKeyPem), device).`package`
        val macAt = String(sealed, Charsets.ISO_8859_1).indexOf("--- ") + 5
        // Another valid base64 character in the MAC's first position (a plain bit
        // flip can make it invalid base64, which is a different error).
        val flipped = sealed.copyOf().also { it[macAt] = (if (it[macAt] == 'A'.code.toByte()) 'B' else 'A').code.toByte() }
        assertFailsWith<EvidenceException.HeaderMac> { openPackage(flipped, operator.privateKeyPem, device.publicKeyPem()) }
        val cut = sealed.copyOf(sealed.size - 3)
        assertFailsWith<EvidenceException.PayloadCorrupt> { openPackage(cut, operator.privateKeyPem, device.publicKeyPem()) }
        assertFailsWith<EvidenceException.NoMatchingRecipient> {
            openPackage(sealed, generateKeyPair().privateKeyPem, device.publicKeyPem())
        }
        assertFailsWith<EvidenceException.SignerMismatch> {
            openPackage(sealed, operator.privateKeyPem, JcaDeviceSigner.generate().publicKeyPem())
        }
    }

    @Test
    fun thePolicyRefusesAPhotoButNotAReceipt() {
        val operator = generateKeyPair()
        val device = JcaDeviceSigner.generate()
        assertFailsWith<EvidenceException.PhotoNotAllowed> {
            verifier.sealDelivery(deliveryRequest("D-102"), sample("obama.jpg"), SealOptions(FaceRedaction.PIXELATE, DeliveryPolicy(photoOptOut = true)), listOf(operator.publicKeyPem), device)
        }
        val receipt = sealReceipt(deliveryRequest("D-102"), DeliveryPolicy(photoOptOut = true), listOf(operator.publicKeyPem), device)
        assertNull(openPackage(receipt.`package`, operator.privateKeyPem, device.publicKeyPem()).photo)
    }

    @Test
    fun derSignaturesFromJavaConvertToRaw() {
        val device = JcaDeviceSigner.generate()
        val der = device.sign("message".toByteArray())
        assertEquals(0x30, der[0].toInt())
        assertEquals(64, derSignatureToRaw(der).size)
        assertFailsWith<EvidenceException.Signer> { derSignatureToRaw(byteArrayOf(0x30, 0x03, 0x02, 0x01)) }
    }

    @Test
    fun eightThreadsVerifyingConcurrentlyGetIdenticalResults() {
        val expected = verifier.verify(sample("obama.jpg"), listOf(sample("obama3.jpg")))
        val pool = Executors.newFixedThreadPool(8)
        try {
            val results = pool.invokeAll((1..8).map { Callable { verifier.verify(sample("obama.jpg"), listOf(sample("obama3.jpg"))) } })
            results.forEach { assertEquals(expected, it.get()) }
        } finally {
            pool.shutdown()
        }
    }

    @Test
    fun badInputIsATypedException() {
        assertFailsWith<FaceException.InvalidImage> { verifier.analyze(ImageInput.Encoded(ByteArray(0))) }
        val jpeg = File(samples, "obama.jpg").readBytes()
        assertFailsWith<FaceException.InvalidImage> { verifier.analyze(ImageInput.Encoded(jpeg.copyOf(jpeg.size / 2))) }
        assertFailsWith<FaceException.InvalidImage> {
            verifier.analyze(ImageInput.Camera(ByteArray(10), 640u, 480u, 2560u, PixelFormat.RGBA8888, Rotation.DEG0))
        }
        // A rotation is one of four enum values: 45 degrees cannot even be written.
    }

    @Test
    fun oneConfigurationWithDefaultsFromTheCore() {
        val defaults = defaultConfig()
        assertEquals(defaults, verifier.config())
        assertEquals(1e-4, defaults.fmr)
        assertEquals(10u, defaults.flash.steps)
        // A changed copy is used; a bad value is refused before any model loads.
        FaceVerifier.withConfig(models, defaults.copy(fmr = 1e-2)).use { loose ->
            assertEquals(1e-2, loose.config().fmr)
            val r = loose.verify(sample("obama.jpg"), listOf(sample("obama3.jpg")))
            assertEquals(1e-2, r.fmr)
            assertTrue(r.threshold < verifier.verify(sample("obama.jpg"), listOf(sample("obama3.jpg"))).threshold)
        }
        assertFailsWith<FaceException.InvalidArgument> {
            FaceVerifier.withConfig(models, defaults.copy(deliveryJpegQuality = 0u))
        }
        assertFailsWith<FaceException.InvalidArgument> {
            FaceVerifier.withConfig(models, defaults.copy(challenge = defaults.challenge.copy(blinkClosedRatio = 0.9f)))
        }
    }

    @Test
    fun challengeSessionsRefuseFramesOutOfOrder() {
        verifier.startChallenge(2u).use { session ->
            assertEquals(2, session.actions().size)
            val frame = sample("obama.jpg")
            // The first frontal face starts the session: hold still until a prompt at a random moment.
            assertEquals(ChallengeState.Holding(0u), session.pushFrame(frame, 1_000u))
            assertFailsWith<LivenessException.OutOfOrder> { session.pushFrame(frame, 900u) }
            // The same frames: passive score, guidance and the sharpest frontal frame are kept.
            val passive = session.passive()!!
            assertTrue(passive.live && passive.frames == 1u, passive.toString())
            assertTrue(session.guidance().none { it.code == GuidanceCode.NO_FACE })
            val best = session.bestFrameJpeg()!!
            assertTrue(best.size > 1000 && best[0] == 0xFF.toByte() && best[1] == 0xD8.toByte())
        }
        assertEquals("challenge.hold", challengeHoldPrompt().key)
    }

    @Test
    fun aCaptureScreenGetsGuidanceAndASessionVerdict() {
        // The face fills little of a frame padded to four times its width: move closer.
        val image = ImageIO.read(File(samples, "obama.jpg"))
        val wide = BufferedImage(image.width * 4, image.height, BufferedImage.TYPE_INT_RGB)
        wide.createGraphics().apply { color = java.awt.Color.GRAY; fillRect(0, 0, wide.width, wide.height); drawImage(image, 0, 0, null); dispose() }
        val png = java.io.ByteArrayOutputStream().also { ImageIO.write(wide, "png", it) }.toByteArray()
        val hints = verifier.guidance(ImageInput.Encoded(png))
        assertTrue(hints.any { it.code == GuidanceCode.TOO_FAR } && hints.any { it.code == GuidanceCode.OFF_CENTRE }, hints.toString())
        assertEquals("guidance.too_far", hints.first { it.code == GuidanceCode.TOO_FAR }.key)
        // Passive liveness judged over a session's frames (the median).
        verifier.startLivenessSession().use { session ->
            assertNull(session.verdict())
            for (name in listOf("obama.jpg", "obama2.jpg", "obama3.jpg")) assertNotNull(session.pushFrame(sample(name)))
            val v = session.verdict()!!
            assertEquals(3u, v.frames)
            assertTrue(v.live, v.toString())
        }
    }

    @Test
    fun aChallengeOfFourActionsAsksEachActionOnce() {
        verifier.startChallenge(4u).use { session ->
            assertEquals(ChallengeAction.entries.toSet(), session.actions().toSet())
            assertTrue(ChallengeAction.BLINK in session.actions())
        }
        // Every action has a stable prompt key and a default English text to show.
        val prompts = ChallengeAction.entries.map { challengePrompt(it) }
        assertEquals(
            listOf("challenge.turn_left", "challenge.turn_right", "challenge.move_closer", "challenge.blink"),
            prompts.map { it.key },
        )
        assertTrue(prompts.all { it.text.isNotBlank() })
        assertEquals("Turn your head slowly to your left.", challengePrompt(ChallengeAction.TURN_LEFT).text)
    }

    @Test
    fun idCheckWithoutAPortraitIsRejectedWithItsReason() {
        // The bottom of a portrait photo stands in for a document without a portrait.
        val image = ImageIO.read(File(samples, "obama.jpg"))
        val bottom = image.getSubimage(0, image.height * 6 / 10, image.width, image.height * 4 / 10)
        val png = java.io.ByteArrayOutputStream().also { ImageIO.write(bottom, "png", it) }.toByteArray()
        val result = verifier.verifyId(ImageInput.Encoded(png), sample("obama.jpg"))
        assertEquals(IdVerdict.REJECT, result.decision)
        assertTrue(result.reasons.any { it.code == IdReasonCode.PortraitNotFound })
    }

    @Test
    fun theBenchHarnessRunsFromKotlin() {
        val report = runBench(models, File(samples, "obama.jpg").readBytes(), 2u)
        assertEquals(1280u, report.imageWidth)
        val stages = report.stages.map { it.stage }
        assertTrue("detect" in stages && "embed" in stages && "evidence_seal_4mb" in stages, stages.toString())
        assertTrue(report.stages.all { it.p50Ms > 0.0 && it.samples == 2u })
    }

    /**
     * SIMULATED colour-flash frames: the sample photo relit in linear light as
     * a face 0.35 m from the screen would be (skin inside the face box gets 15%
     * of the room's light in the screen's colour, the room 0.054 of that),
     * 120 ms camera latency, 15 fps. No device capture exists here; the
     * thresholds still need calibration on real recordings.
     */
    private fun flashFrames(session: FlashChallenge, respond: Boolean): List<Pair<ULong, ImageInput.Camera>> {
        val image = ImageIO.read(File(samples, "obama.jpg"))
        val box = verifier.analyze(sample("obama.jpg")).let { it.faces[it.mainFace!!.toInt()].bbox }
        val lin = DoubleArray(256) { v -> (v / 255.0).let { if (it <= 0.04045) it / 12.92 else Math.pow((it + 0.055) / 1.055, 2.4) } }
        fun srgb(v: Double) = (255 * (if (v <= 0.0031308) v * 12.92 else 1.055 * Math.pow(v, 1 / 2.4) - 0.055)).toInt().coerceIn(0, 255)
        val steps = session.sequence()
        val shown = steps.runningFold(1_000uL) { t, s -> t + s.durationMs }
        val end = shown.last()
        val (w, h) = image.width to image.height
        val (cx, cy, ax, ay) = listOf(box.x + box.width / 2, box.y + box.height / 2, box.width / 2, box.height / 2)
        return (1_000uL..end + 300uL step 66L).map { t ->
            val i = shown.indexOfLast { it + 120uL <= t }
            val colour = if (respond && i in steps.indices) steps[i] else null
            val emitted = colour?.let { doubleArrayOf(lin[it.red.toInt()], lin[it.green.toInt()], lin[it.blue.toInt()]) }
            val bytes = ByteArray(w * h * 4)
            for (y in 0 until h) for (x in 0 until w) {
                val rgb = image.getRGB(x, y)
                val inFace = Math.pow((x - cx) / ax.toDouble(), 2.0) + Math.pow((y - cy) / ay.toDouble(), 2.0) <= 1
                val rho = if (inFace) 0.15 else 0.15 * 0.054
                for (c in 0 until 3) {
                    val v = lin[(rgb shr (16 - 8 * c)) and 0xFF] * (1 + rho * (emitted?.get(c) ?: 0.0))
                    bytes[(y * w + x) * 4 + c] = srgb(v.coerceAtMost(1.0)).toByte()
                }
                bytes[(y * w + x) * 4 + 3] = 0xFF.toByte()
            }
            t to ImageInput.Camera(bytes, w.toUInt(), h.toUInt(), (w * 4).toUInt(), PixelFormat.RGBA8888, Rotation.DEG0)
        }
    }

    private fun runFlash(session: FlashChallenge, frames: List<Pair<ULong, ImageInput.Camera>>): FlashVerdict {
        val steps = session.sequence()
        val shown = steps.runningFold(1_000uL) { t, s -> t + s.durationMs }.dropLast(1)
        var next = 0
        for ((t, frame) in frames) {
            while (next < shown.size && shown[next] <= t) session.displayed(next.toUInt(), shown[next]).also { next++ }
            session.pushFrame(frame, t)
        }
        assertTrue(session.progress().finished)
        return session.verdict()
    }

    @Test
    fun aColourFlashSessionJudgesTheLightTheFaceReturns(@TempDir dir: File) {
        // Live (SIMULATED reflection) passes, with its measurements and thresholds.
        verifier.startFlashChallenge().use { session ->
            val steps = session.sequence()
            assertEquals(10, steps.size)
            assertTrue(steps.zipWithNext().all { (a, b) -> a.colour != b.colour })
            assertTrue(steps.all { it.durationMs in 300u..500u })
            assertFailsWith<LivenessException.NotFinished> { session.verdict() }
            assertFailsWith<LivenessException.OutOfOrder> { session.displayed(3u, 10u) }
            session.recordTo(dir.path)
            val v = runFlash(session, flashFrames(session, respond = true))
            assertTrue(v.passed, v.toString())
            assertNull(v.failure)
            assertTrue(v.correlation >= v.minCorrelation && v.lagMs <= v.maxLagMs, v.toString())
            assertTrue(session.cameraStopped().finished)
            val tsv = File(dir, "session.tsv").readLines()
            assertEquals("trustshot-flash-session\t1", tsv.first())
            assertEquals(10, tsv.count { it.startsWith("step\t") && !it.endsWith("\t-") })
            assertEquals(tsv.count { it.startsWith("frame\t") }, dir.listFiles()!!.count { it.name.endsWith(".jpg") })
        }
        // The same pictures without the reflection do not.
        verifier.startFlashChallenge().use { session ->
            val v = runFlash(session, flashFrames(session, respond = false))
            assertEquals(FlashFailure.NO_RESPONSE, v.failure, v.toString())
        }
        // Every session draws its own sequence.
        val a = verifier.startFlashChallenge().use { it.sequence() }
        val b = verifier.startFlashChallenge().use { it.sequence() }
        assertTrue(a != b)
    }

    @Test
    fun aHighAssuranceDecisionNamesEveryLayerAndGoesIntoTheReceipt(@TempDir dir: File): Unit = runBlocking {
        verifier.startChallenge(2u).use { challenge ->
            verifier.startFlashChallenge().use { flash ->
                // The flash answered (SIMULATED reflection), the challenge only started.
                assertTrue(runFlash(flash, flashFrames(flash, respond = true)).passed)
                // No frame yet: no selfie to compare with an ID.
                assertFailsWith<FaceException.NoFace> { verifier.verifyIdSession(sample("obama3.jpg"), challenge, flash) }
                challenge.recordTo(File(dir, "challenge").path)
                challenge.pushFrame(sample("obama.jpg"), 1_000u)
                val challengeTsv = File(dir, "challenge/challenge.tsv").readLines()
                assertEquals("trustshot-challenge-session\t1", challengeTsv.first())
                assertEquals(2, challengeTsv.count { it.startsWith("action\t") })
                assertEquals(listOf("frame\tframe-00000.jpg\t1000"), challengeTsv.filter { it.startsWith("frame\t") })
                // The ID check of the session: the actions were not done, so it is rejected with that reason.
                val id = verifier.verifyIdSessionAsync(sample("obama3.jpg"), challenge, flash)
                assertEquals(IdVerdict.REJECT, id.decision)
                assertContains(id.reasons.map { it.code }, IdReasonCode.AssuranceFailed(AssuranceLayer.ACTIONS))
                assertEquals(AssuranceLayer.entries.toSet(), id.assurance!!.checks.map { it.layer }.toSet())
                assertTrue(id.faceMatch!! > id.rejectThreshold, id.toString())
                assertNull(verifier.verifyId(sample("obama3.jpg"), sample("obama.jpg")).assurance)
                val r = verifier.judgeHighAssurance(challenge, flash)
                assertFalse(r.passed)
                assertEquals(AssuranceLayer.entries.toSet(), r.checks.map { it.layer }.toSet())
                val check = { layer: AssuranceLayer -> r.checks.single { it.layer == layer } }
                assertTrue(check(AssuranceLayer.FLASH).passed)
                assertFalse(check(AssuranceLayer.ACTIONS).passed)
                assertTrue(check(AssuranceLayer.SAME_FACE).passed, r.toString())
                assertEquals(ReceiptDecision.FAILED, r.receiptVerdict.decision)
                assertContains(r.receiptVerdict.reasons, "actions_failed")
                // Every score and threshold goes into the signed receipt.
                val operator = generateKeyPair()
                val device = JcaDeviceSigner.generate()
                val request = deliveryRequest("S-1").copy(kind = EvidenceKind.IDENTITY_CHECK, verdict = r.receiptVerdict)
                val sealed = sealReceipt(request, DeliveryPolicy(), listOf(operator.publicKeyPem), device)
                val opened = openPackage(sealed.`package`, operator.privateKeyPem, device.publicKeyPem())
                assertContains(opened.manifestJson, "\"decision\":\"failed\"")
                assertContains(opened.manifestJson, "\"same_face\"")
            }
        }
    }

    @Test
    fun slowCallsRunFromCoroutinesAndASessionStopsWhenCancelled(): Unit = runBlocking {
        loadFaceVerifier(models).use { v ->
            assertEquals(MatchDecision.MATCH, v.verifyAsync(sample("obama.jpg"), listOf(sample("obama3.jpg"))).decision)
            assertEquals(IdVerdict.REJECT, v.verifyIdAsync(sample("obama3.jpg"), cameraBuffer("obama.jpg", 0.25)).decision)
            // A session fed from a flow of frames, cancelled after a few: no frame is taken after it.
            v.startChallenge(2u).use { session ->
                var produced = 0
                val camera = flow {
                    var t = 0uL
                    while (true) {
                        produced++
                        emit(TimedFrame(sample("obama.jpg"), t))
                        t += 100u
                    }
                }
                val job = launch(Dispatchers.Default) { session.run(camera) }
                while (produced < 3) delay(5)
                job.cancelAndJoin()
                val atCancel = produced
                delay(200)
                assertTrue(job.isCancelled)
                assertEquals(atCancel, produced)
            }
            // A session ends on its own: the same photo over and over is a still image.
            v.startChallenge(1u).use { session ->
                val still = (0 until 40).asFlow().map { TimedFrame(sample("obama.jpg"), (it * 100).toULong()) }
                assertEquals(ChallengeState.Failed(ChallengeFailure.STILL_IMAGE), session.run(still))
            }
        }
    }

    /** `name` as an Android camera delivers it: YUV_420_888 planes, rows padded, U and V interleaved (pixel stride 2). */
    private fun yuv420Planes(name: String): ImageInput.Planes {
        val image = ImageIO.read(File(samples, name))
        val (w, h) = image.width to image.height
        val (cw, ch) = (w + 1) / 2 to (h + 1) / 2
        val yStride = w + 48
        val cStride = 2 * cw + 32
        val y = java.nio.ByteBuffer.allocateDirect((h - 1) * yStride + w)
        val chroma = java.nio.ByteBuffer.allocateDirect((ch - 1) * cStride + 2 * cw)
        for (row in 0 until h) for (col in 0 until w) {
            val p = image.getRGB(col, row)
            val (r, g, b) = Triple((p shr 16) and 0xFF, (p shr 8) and 0xFF, p and 0xFF)
            y.put(row * yStride + col, (0.299 * r + 0.587 * g + 0.114 * b).toInt().coerceIn(0, 255).toByte())
            if (row % 2 == 0 && col % 2 == 0) {
                val luma = 0.299 * r + 0.587 * g + 0.114 * b
                val i = (row / 2) * cStride + col
                chroma.put(i, (128 + (b - luma) * 0.564).toInt().coerceIn(0, 255).toByte())
                chroma.put(i + 1, (128 + (r - luma) * 0.713).toInt().coerceIn(0, 255).toByte())
            }
        }
        // Android hands U and V as two views of one interleaved buffer, V one byte on.
        val u = chroma.duplicate().limit(chroma.capacity() - 1) as java.nio.ByteBuffer
        val v = chroma.duplicate().position(1) as java.nio.ByteBuffer
        return yuv420Image(y, yStride, u, cStride, 2, v, cStride, 2, w, h, 0)
    }

    @Test
    fun cameraFramesInPlanesGiveTheSameFace() {
        val planes = yuv420Planes("obama.jpg")
        assertEquals(2u, planes.u.pixelStride)
        val r = verifier.verify(planes, listOf(sample("obama.jpg")))
        assertEquals(MatchDecision.MATCH, r.decision)
        assertTrue(r.score!! > 0.95f, r.toString())
        assertEquals(Rotation.DEG270, rotationOf(-90))
        // A plane too short for its stated strides is a typed error.
        val short = planes.copy(v = planes.v.copy(bytes = planes.v.bytes.copyOf(planes.v.bytes.size - 10)))
        assertFailsWith<FaceException.InvalidImage> { verifier.analyze(short) }
    }

    @Test
    fun modelsLoadFromMemoryAsFromAssetsAndAreCheckedTheSameWay() {
        val names = modelFileNames()
        assertEquals(5, names.size, names.toString())
        val files = names.associateWith { File(models, it).readBytes() }
        FaceVerifier.fromModelFiles(files, defaultConfig()).use { fromMemory ->
            // The same files as from the model directory (same digests in the receipts).
            assertTrue(fromMemory.models().all { m -> verifier.models().any { it.sha256 == m.sha256 } })
            val r = fromMemory.verify(sample("obama.jpg"), listOf(sample("obama3.jpg")))
            assertEquals(verifier.verify(sample("obama.jpg"), listOf(sample("obama3.jpg"))), r)
        }
        // One byte changed in the embedder's file: refused, as from a directory.
        val sface = names.single { it.startsWith("sface") }
        val tampered = files + (sface to files.getValue(sface).copyOf().also { it[it.size / 2] = (it[it.size / 2] + 1).toByte() })
        assertFailsWith<FaceException.ModelFailed> { FaceVerifier.fromModelFiles(tampered, defaultConfig()) }
        // Without the liveness model: loads, liveness unavailable.
        FaceVerifier.fromModelFiles(files.filterKeys { !it.startsWith("minifasnet") }, defaultConfig()).use {
            assertFalse(it.livenessAvailable())
        }
    }

    @Test
    fun versionAndModelInfo() {
        assertTrue(sdkVersion().isNotEmpty())
        val ids = verifier.models().map { it.id }
        assertTrue("sface-2021dec" in ids && "yunet-2023mar" in ids && "mtcnn-onet" in ids, ids.toString())
        assertTrue(verifier.models().all { it.sha256.length == 64 })
    }
}
