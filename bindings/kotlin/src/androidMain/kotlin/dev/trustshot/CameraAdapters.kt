// CameraX and camera2 frames as trustshot ImageInputs. NOT COMPILED on the
// development machine (no android.jar there): kept to plane reading only;
// the conversion they call, yuv420Image (Camera.kt), is tested on the JVM.
//
// Feeding a CameraX analyzer:
//   ImageAnalysis.Builder().setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST).build()
//       .setAnalyzer(executor) { proxy -> proxy.use { session.pushFrame(it.toTrustshotImage(), it.imageInfo.timestamp / 1_000_000) } }
// (or emit TimedFrame(it.toTrustshotImage(), ...) into a Flow for ChallengeSession.run).
package dev.trustshot

import android.graphics.ImageFormat
import android.media.Image
import androidx.camera.core.ImageProxy

/** A CameraX frame (YUV_420_888, the analyzer's default format), upright by its rotation. */
fun ImageProxy.toTrustshotImage(): ImageInput {
    require(format == ImageFormat.YUV_420_888) { "ImageAnalysis must deliver YUV_420_888 (got format $format)" }
    val (y, u, v) = planes
    return yuv420Image(
        y.buffer, y.rowStride, u.buffer, u.rowStride, u.pixelStride, v.buffer, v.rowStride, v.pixelStride,
        width, height, imageInfo.rotationDegrees,
    )
}

/** A camera2 frame (YUV_420_888); `rotationDegrees` from the sensor and display orientation. */
fun Image.toTrustshotImage(rotationDegrees: Int): ImageInput {
    require(format == ImageFormat.YUV_420_888) { "expected YUV_420_888 (got format $format)" }
    val (y, u, v) = planes
    return yuv420Image(
        y.buffer, y.rowStride, u.buffer, u.rowStride, u.pixelStride, v.buffer, v.rowStride, v.pixelStride,
        width, height, rotationDegrees,
    )
}
