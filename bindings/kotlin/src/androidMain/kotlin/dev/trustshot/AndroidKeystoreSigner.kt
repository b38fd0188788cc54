// Android only (compiled by the Gradle module, not on the JVM here): the device
// key lives in the Android Keystore (StrongBox when available) and never leaves it.
package dev.trustshot

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.spec.ECGenParameterSpec

object AndroidKeystoreSigner {
    /** The signer for `alias`, creating a non-exportable P-256 key on first use. */
    fun forAlias(alias: String): JcaDeviceSigner {
        val store = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
        if (!store.containsAlias(alias)) {
            KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, "AndroidKeyStore").run {
                initialize(
                    KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
                        .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
                        .setDigests(KeyProperties.DIGEST_SHA256)
                        .build()
                )
                generateKeyPair()
            }
        }
        val entry = store.getEntry(alias, null) as KeyStore.PrivateKeyEntry
        return JcaDeviceSigner(entry.privateKey as PrivateKey, entry.certificate.publicKey)
    }
}
