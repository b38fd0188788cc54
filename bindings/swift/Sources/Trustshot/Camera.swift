// Camera frames from AVFoundation as trustshot ImageInputs. NOT COMPILED on
// the development machine (no Swift compiler there): syntax-checked, and its
// calls checked against the generated signatures, by scripts/swift-check.
//
// Feeding an AVCaptureVideoDataOutput (alwaysDiscardsLateVideoFrames = true):
//   func captureOutput(_ output: AVCaptureOutput, didOutput sample: CMSampleBuffer, from connection: AVCaptureConnection) {
//       guard let pixels = CMSampleBufferGetImageBuffer(sample),
//             let image = try? ImageInput(pixelBuffer: pixels, rotation: .deg90) else { return }
//       let ms = UInt64(CMSampleBufferGetPresentationTimeStamp(sample).seconds * 1000)
//       _ = try? session.pushFrame(image: image, timestampMs: ms)
//   }
import CoreVideo
import Foundation

public enum CameraFrameError: Error {
    case unsupportedPixelFormat(OSType)
    case noBaseAddress
}

public extension ImageInput {
    /// A camera frame: 32BGRA, or 4:2:0 bi-planar full- or video-range
    /// (BT.601 below 720p, BT.709 from 720p, as iOS cameras encode them; the
    /// buffer's own YCbCr matrix attachment wins when present).
    init(pixelBuffer: CVPixelBuffer, rotation: Rotation) throws {
        CVPixelBufferLockBaseAddress(pixelBuffer, .readOnly)
        defer { CVPixelBufferUnlockBaseAddress(pixelBuffer, .readOnly) }
        let width = UInt32(CVPixelBufferGetWidth(pixelBuffer))
        let height = UInt32(CVPixelBufferGetHeight(pixelBuffer))
        let format = CVPixelBufferGetPixelFormatType(pixelBuffer)
        func bytes(plane: Int?) throws -> (Data, Int) {
            let base = plane.map { CVPixelBufferGetBaseAddressOfPlane(pixelBuffer, $0) } ?? CVPixelBufferGetBaseAddress(pixelBuffer)
            guard let base else { throw CameraFrameError.noBaseAddress }
            let stride = plane.map { CVPixelBufferGetBytesPerRowOfPlane(pixelBuffer, $0) } ?? CVPixelBufferGetBytesPerRow(pixelBuffer)
            let rows = plane.map { CVPixelBufferGetHeightOfPlane(pixelBuffer, $0) } ?? Int(height)
            return (Data(bytes: base, count: stride * rows), stride)
        }
        switch format {
        case kCVPixelFormatType_32BGRA:
            let (data, stride) = try bytes(plane: nil)
            self = .camera(bytes: data, width: width, height: height, rowStride: UInt32(stride),
                           format: .bgra8888, rotation: rotation)
        case kCVPixelFormatType_420YpCbCr8BiPlanarFullRange, kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange:
            let (luma, lumaStride) = try bytes(plane: 0)
            let (chroma, chromaStride) = try bytes(plane: 1)
            let matrixAttachment = CVBufferCopyAttachment(pixelBuffer, kCVImageBufferYCbCrMatrixKey, nil) as? String
            let bt709 = matrixAttachment.map { $0 == (kCVImageBufferYCbCrMatrix_ITU_R_709_2 as String) } ?? (height >= 720)
            self = .planes(
                y: ImagePlane(bytes: luma, rowStride: UInt32(lumaStride), pixelStride: 1),
                u: ImagePlane(bytes: chroma, rowStride: UInt32(chromaStride), pixelStride: 2),
                v: ImagePlane(bytes: chroma.dropFirst(), rowStride: UInt32(chromaStride), pixelStride: 2),
                width: width, height: height,
                range: format == kCVPixelFormatType_420YpCbCr8BiPlanarFullRange ? .full : .limited,
                matrix: bt709 ? .bt709 : .bt601,
                rotation: rotation)
        default:
            throw CameraFrameError.unsupportedPixelFormat(format)
        }
    }
}
