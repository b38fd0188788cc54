// Android only (compiled by the Gradle module, not on the JVM here): the device
// key lives in the Android Keystore and never leaves it. It is created in
// StrongBox (a separate secure chip) where the device has one, else in the
// trusted execution environment; `protectionOf` says which one holds it.
package dev.trustshot

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyInfo
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import java.security.KeyFactory
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.spec.ECGenParameterSpec

/** Where a Keystore key lives, as the Keystore reports it. */
enum class KeyProtection {
    /** A separate secure chip (API 28+ devices that have one). */
    STRONGBOX,
    /** The trusted execution environment (TEE). */
    TRUSTED_ENVIRONMENT,
    /** Secure hardware, TEE or StrongBox: API 24–30 cannot tell which. */
    SECURE_HARDWARE,
    /** Secure hardware of a kind this Android version does not name. */
    UNKNOWN_SECURE,
    /** Software only: an emulator or a device without a hardware Keystore. */
    SOFTWARE,
}

object AndroidKeystoreSigner {
    /**
     * The signer for `alias`, creating a non-exportable P-256 key on first use.
     * With an `attestationChallenge` (a nonce from the operator's backend, at
     * most 128 bytes) the new key is attested: its Key Attestation chain goes
     * into every package, and the operator's opener checks it against Google's
     * roots and reports StrongBox / TEE / software. A key made without a
     * challenge has a one-certificate self-signed chain, which is not sent.
     */
    fun forAlias(alias: String, attestationChallenge: ByteArray? = null): JcaDeviceSigner {
        val store = keyStore()
        if (!store.containsAlias(alias)) {
            generate(alias, attestationChallenge)
        }
        val entry = store.getEntry(alias, null) as KeyStore.PrivateKeyEntry
        val chain = store.getCertificateChain(alias)?.map { it.encoded }.orEmpty()
        return JcaDeviceSigner(
            entry.privateKey as PrivateKey,
            entry.certificate.publicKey,
            if (chain.size > 1) chain else emptyList(),
        )
    }

    /** Where the key for `alias` lives (for the app's records or a risk decision). */
    fun protectionOf(alias: String): KeyProtection {
        val key = keyStore().getKey(alias, null) as PrivateKey
        val info = KeyFactory.getInstance(key.algorithm, "AndroidKeyStore").getKeySpec(key, KeyInfo::class.java)
        if (Build.VERSION.SDK_INT >= 31) {
            return when (info.securityLevel) {
                KeyProperties.SECURITY_LEVEL_STRONGBOX -> KeyProtection.STRONGBOX
                KeyProperties.SECURITY_LEVEL_TRUSTED_ENVIRONMENT -> KeyProtection.TRUSTED_ENVIRONMENT
                KeyProperties.SECURITY_LEVEL_SOFTWARE -> KeyProtection.SOFTWARE
                else -> KeyProtection.UNKNOWN_SECURE
            }
        }
        @Suppress("DEPRECATION")
        return if (info.isInsideSecureHardware) KeyProtection.SECURE_HARDWARE else KeyProtection.SOFTWARE
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    private fun spec(alias: String, challenge: ByteArray?): KeyGenParameterSpec.Builder =
        KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
            .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
            .setDigests(KeyProperties.DIGEST_SHA256)
            .apply { if (challenge != null) setAttestationChallenge(challenge) }

    /** StrongBox first where the API has it; the TEE where the device has no StrongBox. */
    private fun generate(alias: String, challenge: ByteArray?) {
        val generator = KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, "AndroidKeyStore")
        if (Build.VERSION.SDK_INT >= 28) {
            try {
                generator.initialize(spec(alias, challenge).setIsStrongBoxBacked(true).build())
                generator.generateKeyPair()
                return
            } catch (_: StrongBoxUnavailableException) {
                // No StrongBox on this device: fall through to the TEE.
            }
        }
        generator.initialize(spec(alias, challenge).build())
        generator.generateKeyPair()
    }
}
