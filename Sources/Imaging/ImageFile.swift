import CImageCodecs
import FileAccess

/// Why an image file could not be used. Every case names the file, because the person who
/// reads the message has to find it.
public struct ImageFileError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Reason: Equatable, Sendable {
        /// The file system refused (missing file, permissions, a directory...).
        case cannotRead(String)
        /// Zero bytes.
        case empty
        /// Neither a PNG nor a JPEG signature, whatever the extension says.
        case unrecognisedFormat
        /// The codec found the data malformed: truncated, bad CRC, bad marker, and so on.
        case corrupt(String)
        /// Well formed, but a variant the product does not read.
        case unsupported(String)
        /// Declared dimensions beyond the pixel limit (checked before allocating).
        case tooLarge(String)
        /// The machine ran out of memory while decoding.
        case outOfMemory(String)
        case cannotWrite(String)
    }

    public let path: String
    public let reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

extension ImageFileError.Reason: CustomStringConvertible {
    /// The reason in words, without the path (for lists that name the file already).
    public var description: String {
        switch self {
        case .cannotRead(let why): "cannot read: \(why)"
        case .empty: "the file is empty"
        case .unrecognisedFormat: "not a PNG or JPEG file"
        case .corrupt(let why): "corrupt image: \(why)"
        case .unsupported(let why): "unsupported image: \(why)"
        case .tooLarge(let why): "image too large: \(why)"
        case .outOfMemory(let why): "out of memory: \(why)"
        case .cannotWrite(let why): "cannot write: \(why)"
        }
    }
}

public enum ImageFormat: String, Sendable {
    case png = "PNG"
    case jpeg = "JPEG"

    /// Identifies the format from the first bytes; the file name is never trusted.
    public init?(signature bytes: [UInt8]) {
        if bytes.count >= 8 && bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF {
            self = .jpeg
        } else {
            return nil
        }
    }
}

/// A decoded file: the image plus what the file said about itself.
public struct DecodedImage: Sendable {
    public let image: Image
    public let format: ImageFormat
    /// Bits per sample in the file as decoded (8 or 16).
    public let bitDepth: Int
    /// The file's own colour description, e.g. "palette 4-bit", "grey 16-bit", "CMYK".
    public let sourceKind: String
}

/// Reading and writing PNG and JPEG files. Every libpng / libjpeg call goes through the
/// CImageCodecs shim, which turns their longjmp-based error reporting into status codes.
public enum ImageFile {
    /// Images with more pixels than this are refused before decoding (about 12k × 8k):
    /// a corrupt or hostile header cannot make the process allocate gigabytes.
    public static let defaultMaxPixels = 100_000_000
    /// Files above this size are refused before reading.
    public static let maxFileBytes = 512 << 20

    public static func read(_ path: String, maxPixels: Int = defaultMaxPixels) throws(ImageFileError) -> DecodedImage {
        let bytes: [UInt8]
        do {
            bytes = try BinaryFile.read(path, limit: maxFileBytes)
        } catch {
            switch error.reason {
            case .tooLarge: throw ImageFileError(path: path, reason: .tooLarge(error.description))
            case .notARegularFile: throw ImageFileError(path: path, reason: .cannotRead("not a regular file"))
            case .cannotRead, .cannotWrite: throw ImageFileError(path: path, reason: .cannotRead(error.systemMessage ?? "unreadable"))
            }
        }
        return try decode(bytes, name: path, maxPixels: maxPixels)
    }

    /// Decodes PNG or JPEG bytes. `name` is used in error messages.
    public static func decode(_ bytes: [UInt8], name: String, maxPixels: Int = defaultMaxPixels) throws(ImageFileError) -> DecodedImage {
        guard !bytes.isEmpty else { throw ImageFileError(path: name, reason: .empty) }
        guard let format = ImageFormat(signature: bytes) else {
            throw ImageFileError(path: name, reason: .unrecognisedFormat)
        }
        var decoded = nc_decoded_image()
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { input in
            message.withUnsafeMutableBufferPointer { text in
                switch format {
                case .png:
                    nc_png_decode(input.baseAddress, input.count, UInt64(maxPixels), &decoded, text.baseAddress, text.count)
                case .jpeg:
                    nc_jpeg_decode(input.baseAddress, input.count, UInt64(maxPixels), &decoded, text.baseAddress, text.count)
                }
            }
        }
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard status == NC_CODEC_OK, let samples = decoded.pixels else {
            throw ImageFileError(path: name, reason: reason(for: status, text))
        }
        defer { nc_codec_free(samples) }
        let width = Int(decoded.width), height = Int(decoded.height), channels = Int(decoded.channels)
        let image = planarImage(from: samples, width: width, height: height, channels: channels,
                                bitDepth: Int(decoded.bit_depth))
        let kind = withUnsafeBytes(of: decoded.source_kind) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return DecodedImage(image: image, format: format, bitDepth: Int(decoded.bit_depth), sourceKind: kind)
    }

    /// PNG bytes of `image`, samples clamped to [0, 1]: 8-bit for any channel count, or 16-bit
    /// (used for raw heatmaps, where 256 levels would lose the ranking of saliency values).
    public static func encodePNG(_ image: Image, bitDepth: Int = 8, name: String = "<memory>") throws(ImageFileError) -> [UInt8] {
        guard bitDepth == 8 || bitDepth == 16 else {
            throw ImageFileError(path: name, reason: .unsupported("PNG bit depth \(bitDepth); use 8 or 16"))
        }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        var message = [CChar](repeating: 0, count: 256)
        let status: nc_codec_status
        if bitDepth == 8 {
            let samples = interleaved8(image)
            status = samples.withUnsafeBytes { raw in
                message.withUnsafeMutableBufferPointer { text in
                    nc_png_encode(raw.baseAddress, UInt32(image.width), UInt32(image.height), UInt32(image.channels),
                                  8, 6, &output, &length, text.baseAddress, text.count)
                }
            }
        } else {
            let samples = interleaved16(image)
            status = samples.withUnsafeBytes { raw in
                message.withUnsafeMutableBufferPointer { text in
                    nc_png_encode(raw.baseAddress, UInt32(image.width), UInt32(image.height), UInt32(image.channels),
                                  16, 6, &output, &length, text.baseAddress, text.count)
                }
            }
        }
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard status == NC_CODEC_OK, let bytes = output else {
            throw ImageFileError(path: name, reason: status == NC_CODEC_NO_MEMORY ? .outOfMemory(text) : .cannotWrite(text))
        }
        defer { nc_codec_free(bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: length))
    }

    /// Writes `image` as PNG, atomically (a reader never sees a half-written file).
    public static func writePNG(_ image: Image, to path: String, bitDepth: Int = 8) throws(ImageFileError) {
        let bytes = try encodePNG(image, bitDepth: bitDepth, name: path)
        do {
            try BinaryFile.writeAtomically(bytes, to: path)
        } catch {
            throw ImageFileError(path: path, reason: .cannotWrite(error.systemMessage ?? error.description))
        }
    }

    private static func reason(for status: nc_codec_status, _ text: String) -> ImageFileError.Reason {
        switch status {
        case NC_CODEC_UNSUPPORTED: return .unsupported(text)
        case NC_CODEC_TOO_LARGE: return .tooLarge(text)
        case NC_CODEC_NO_MEMORY: return .outOfMemory(text)
        default: return .corrupt(text.isEmpty ? "undecodable data" : text)
        }
    }

    private static func planarImage(from samples: UnsafeMutableRawPointer, width: Int, height: Int,
                                    channels: Int, bitDepth: Int) -> Image {
        let plane = width * height
        var pixels = [Float](repeating: 0, count: plane * channels)
        pixels.withUnsafeMutableBufferPointer { out in
            if bitDepth == 16 {
                let input = samples.assumingMemoryBound(to: UInt16.self)
                for i in 0..<plane {
                    for c in 0..<channels { out[c * plane + i] = Float(input[i * channels + c]) / 65535 }
                }
            } else {
                let input = samples.assumingMemoryBound(to: UInt8.self)
                let table = byteValues
                for i in 0..<plane {
                    for c in 0..<channels { out[c * plane + i] = table[Int(input[i * channels + c])] }
                }
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// v / 255 for every byte, correctly rounded: decoding gives exactly the value an 8-bit
    /// encode of that value started from, so round trips are bit-exact.
    private static let byteValues: [Float] = (0...255).map { Float($0) / 255 }

    private static func interleaved8(_ image: Image) -> [UInt8] {
        let plane = image.planeSize, channels = image.channels
        var out = [UInt8](repeating: 0, count: plane * channels)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<plane {
                for c in 0..<channels {
                    out[i * channels + c] = UInt8((min(max(p[c * plane + i], 0), 1) * 255).rounded())
                }
            }
        }
        return out
    }

    private static func interleaved16(_ image: Image) -> [UInt16] {
        let plane = image.planeSize, channels = image.channels
        var out = [UInt16](repeating: 0, count: plane * channels)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<plane {
                for c in 0..<channels {
                    out[i * channels + c] = UInt16((min(max(p[c * plane + i], 0), 1) * 65535).rounded())
                }
            }
        }
        return out
    }
}
