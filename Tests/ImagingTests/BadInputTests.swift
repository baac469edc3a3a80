import FileAccess
import Imaging
import Testing
import TestSupport

/// Every kind of bad file gives a typed error naming the file, never a trap.
@Suite struct BadInputTests {
    static let fixtures = repositoryRoot() + "/Tests/ImagingTests/Fixtures"

    func fixture(_ name: String) throws -> [UInt8] { try BinaryFile.read("\(Self.fixtures)/\(name)") }

    func reason(decoding bytes: [UInt8], name: String = "part.png", maxPixels: Int = ImageFile.defaultMaxPixels) -> ImageFileError? {
        do {
            _ = try ImageFile.decode(bytes, name: name, maxPixels: maxPixels)
            return nil
        } catch {
            return error
        }
    }

    @Test func missingFileNamesTheFile() {
        #expect(throws: ImageFileError(path: "/no/such/part.png", reason: .cannotRead("No such file or directory"))) {
            try ImageFile.read("/no/such/part.png")
        }
    }

    @Test func emptyFile() {
        let error = reason(decoding: [])
        #expect(error == ImageFileError(path: "part.png", reason: .empty))
        #expect(error?.description == "part.png: the file is empty")
    }

    @Test func randomBytesAndWrongExtension() {
        var generator = 0x1234_5678 as UInt64
        let noise = (0..<500).map { _ -> UInt8 in
            generator = generator &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: generator >> 33)
        }
        #expect(reason(decoding: noise)?.reason == .unrecognisedFormat)
        // A text file named like an image.
        let text = Array("id,label\n1,ok\n".utf8)
        let error = reason(decoding: text, name: "weld_0001.jpg")
        #expect(error?.reason == .unrecognisedFormat)
        #expect(error?.description == "weld_0001.jpg: not a PNG or JPEG file")
    }

    @Test func aPngNamedJpgIsReadByContent() throws {
        let bytes = try fixture("rgb8.png")
        let decoded = try ImageFile.decode(bytes, name: "mislabelled.jpg")
        #expect(decoded.format == .png)
    }

    @Test func everyTruncationOfAPngIsAnError() throws {
        let bytes = try fixture("interlaced_rgb8.png")
        for length in 1..<bytes.count {
            guard let error = reason(decoding: Array(bytes[0..<length])) else {
                Issue.record("a PNG cut to \(length) of \(bytes.count) bytes decoded")
                continue
            }
            #expect(error.path == "part.png")
        }
    }

    @Test func everyTruncationOfAJpegIsAnError() throws {
        let bytes = try fixture("progressive.jpg")
        for length in stride(from: 1, to: bytes.count - 1, by: 3) {
            if let error = reason(decoding: Array(bytes[0..<length]), name: "cut.jpg") {
                #expect(error.path == "cut.jpg")
            } else {
                Issue.record("a JPEG cut to \(length) of \(bytes.count) bytes decoded")
            }
        }
    }

    @Test func badCrcInImageDataIsCorrupt() throws {
        let error = reason(decoding: try fixture("bad_crc.png"))
        guard case .corrupt(let why)? = error?.reason else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        #expect(why.contains("CRC"))
    }

    @Test func jpegWithMissingMarkersIsCorrupt() throws {
        var bytes = try fixture("rgb.jpg")
        // Remove everything between SOI and the first SOS-less tail: keep SOI + garbage.
        bytes = Array(bytes[0..<2]) + [0xFF, 0xD9]
        #expect(reason(decoding: bytes, name: "x.jpg") != nil)
        // Drop the quantisation tables (first DQT segment) of an otherwise whole file.
        let full = try fixture("rgb.jpg")
        if let dqt = (0..<(full.count - 1)).first(where: { full[$0] == 0xFF && full[$0 + 1] == 0xDB }) {
            let length = Int(full[dqt + 2]) << 8 | Int(full[dqt + 3])
            let stripped = Array(full[0..<dqt]) + Array(full[(dqt + 2 + length)...])
            #expect(reason(decoding: stripped, name: "x.jpg") != nil)
        }
    }

    @Test func absurdDeclaredDimensionsAreRefusedBeforeAllocating() throws {
        // The 4×3 grey PNG with its header rewritten to claim 100000 × 100000 pixels (with a valid CRC).
        var bytes = try fixture("grey8.png")
        let ihdr = 16  // width starts after signature(8) + length(4) + "IHDR"(4)
        for (offset, value) in [(ihdr, UInt32(100_000)), (ihdr + 4, UInt32(100_000))] {
            for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32(i))) }
        }
        let crc = crc32(Array(bytes[12..<29]))
        for i in 0..<4 { bytes[29 + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
        guard case .tooLarge(let why)? = reason(decoding: bytes)?.reason else {
            Issue.record("expected tooLarge")
            return
        }
        #expect(why.contains("100000x100000"))
        // The caller's own limit applies too.
        #expect(reason(decoding: try fixture("grey8.png"), maxPixels: 11)?.reason != nil)
    }

    @Test func directoryIsNotAnImage() {
        #expect(throws: ImageFileError.self) { try ImageFile.read("/tmp") }
    }
}

/// CRC-32 (ISO-HDLC), as PNG chunks use.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
}
