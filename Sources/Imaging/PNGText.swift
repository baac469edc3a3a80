/// Text chunks (`tEXt`: keyword, a zero byte, Latin-1 text) in PNG bytes: how a file
/// carries facts about its pixels that the pixels cannot, such as the range a normalised
/// heatmap was scaled from. Written here rather than through libpng so that a decoded image
/// and its text are read from the same bytes in one pass.
public enum PNGText {
    static let signatureLength = 8

    /// `png` with one `tEXt` chunk per entry inserted after the header chunk (IHDR).
    /// Keywords are 1–79 printable Latin-1 characters, as the PNG specification requires.
    public static func inserting(_ entries: [(keyword: String, text: String)], into png: [UInt8]) -> [UInt8] {
        // IHDR is always first: 8-byte signature, then length (4) + type (4) + 13 data + CRC (4).
        let afterHeader = signatureLength + 4 + 4 + 13 + 4
        precondition(png.count >= afterHeader, "not a PNG")
        var chunks: [UInt8] = []
        for (keyword, text) in entries {
            precondition((1...79).contains(keyword.utf8.count) && keyword.unicodeScalars.allSatisfy { (32...126).contains($0.value) },
                         "PNG keyword must be 1-79 printable characters")
            let data = Array(keyword.utf8) + [0] + text.unicodeScalars.map { $0.value < 256 ? UInt8($0.value) : UInt8(ascii: "?") }
            chunks += chunk(type: "tEXt", data: data)
        }
        return Array(png[..<afterHeader]) + chunks + Array(png[afterHeader...])
    }

    /// Every `tEXt` entry of `png` whose chunk is whole and whose CRC is right, keyword → text.
    public static func entries(of png: [UInt8]) -> [String: String] {
        var result: [String: String] = [:]
        var offset = signatureLength
        while offset + 12 <= png.count {
            let length = Int(bigEndian(png, offset))
            guard length <= png.count - offset - 12 else { break }
            let type = Array(png[(offset + 4)..<(offset + 8)])
            let dataRange = (offset + 8)..<(offset + 8 + length)
            if type == Array("tEXt".utf8), bigEndian(png, dataRange.upperBound) == crc32(type + png[dataRange]),
               let zero = png[dataRange].firstIndex(of: 0) {
                let keyword = String(decoding: png[dataRange.lowerBound..<zero], as: UTF8.self)
                let text = String(String.UnicodeScalarView(png[(zero + 1)..<dataRange.upperBound].map { Unicode.Scalar($0) }))
                result[keyword] = text
            }
            if type == Array("IEND".utf8) { break }
            offset = dataRange.upperBound + 4
        }
        return result
    }

    static func chunk(type: String, data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return bytes(UInt32(data.count)) + typeBytes + data + bytes(crc32(typeBytes + data))
    }

    static func bytes(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)] }

    static func bigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[offset + $1]) }
    }

    /// CRC-32 of the PNG specification (ISO 3309, reflected polynomial 0xEDB88320).
    static func crc32<C: Collection>(_ data: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xffff_ffff
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return crc ^ 0xffff_ffff
    }

    static let table: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
}
