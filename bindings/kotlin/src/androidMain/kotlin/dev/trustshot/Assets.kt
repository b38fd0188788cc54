// Loading the models from the app's assets. NOT COMPILED on the development
// machine (no android.jar there); the loading itself (FaceVerifier.fromModelFiles,
// every file checked against its pin) is tested on the JVM.
package dev.trustshot

import android.content.res.AssetManager
import java.io.FileNotFoundException

/**
 * The models shipped under `assets/<dir>/` (the files `modelFileNames()` lists;
 * keep them uncompressed: `androidResources { noCompress += "tar" }`). A missing
 * liveness model leaves liveness unavailable. Call off the main thread (about 0.3 s).
 */
fun FaceVerifier.Companion.fromAssets(assets: AssetManager, dir: String = "trustshot-models", config: TrustshotConfig = defaultConfig()): FaceVerifier {
    val files = modelFileNames().mapNotNull { name ->
        try {
            name to assets.open("$dir/$name").use { it.readBytes() }
        } catch (_: FileNotFoundException) {
            null
        }
    }.toMap()
    return FaceVerifier.fromModelFiles(files, config)
}
