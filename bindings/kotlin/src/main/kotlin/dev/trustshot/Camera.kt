// Hand-written Kotlin: camera frames as phones deliver them, turned into the
// SDK's ImageInput. Plain JVM code (tested on the JVM with real photos
// converted to YUV_420_888 planes); the Android adapters in androidMain
// (ImageProxy, android.media.Image) only read their planes and call it.
package dev.trustshot

import java.nio.ByteBuffer

/** The Rotation for Android's `imageInfo.rotationDegrees` (0, 90, 180, 270). */
fun rotationOf(degrees: Int): Rotation = when (Math.floorMod(degrees, 360)) {
    0 -> Rotation.DEG0
    90 -> Rotation.DEG90
    180 -> Rotation.DEG180
    270 -> Rotation.DEG270
    else -> throw IllegalArgumentException("rotation must be a multiple of 90 degrees, got $degrees")
}

/** One plane's bytes (from its position to its limit; the buffer is not moved). */
private fun ByteBuffer.bytes(): ByteArray {
    val copy = duplicate()
    return ByteArray(copy.remaining()).also { copy.get(it) }
}

/**
 * A YUV_420_888 frame from its three planes (Android `Image.Plane`: buffer,
 * rowStride, pixelStride). Camera frames are full-range BT.601 on Android.
 * The plane bytes are copied once, into the record the SDK reads.
 */
fun yuv420Image(
    y: ByteBuffer, yRowStride: Int,
    u: ByteBuffer, uRowStride: Int, uPixelStride: Int,
    v: ByteBuffer, vRowStride: Int, vPixelStride: Int,
    width: Int, height: Int, rotationDegrees: Int,
    range: YuvRange = YuvRange.FULL,
    matrix: YuvMatrix = YuvMatrix.BT601,
): ImageInput.Planes = ImageInput.Planes(
    ImagePlane(y.bytes(), yRowStride.toUInt(), 1u),
    ImagePlane(u.bytes(), uRowStride.toUInt(), uPixelStride.toUInt()),
    ImagePlane(v.bytes(), vRowStride.toUInt(), vPixelStride.toUInt()),
    width.toUInt(), height.toUInt(), range, matrix, rotationOf(rotationDegrees),
)
