import FileAccess
import Foundation

/// A checkpoint could not be read or does not fit: the file and the first problem found.
public struct CheckpointError: Error, Equatable, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

/// One tensor of a safetensors file.
public struct StoredTensor: Sendable {
    public enum DType: String, Sendable {
        case float32 = "F32"
        case int64 = "I64"
        var byteSize: Int { self == .float32 ? 4 : 8 }
    }
    public let dtype: DType
    public let shape: [Int]
    /// F32 values; I64 values converted (they are counters such as num_batches_tracked).
    public let values: [Float]
}

/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`,
/// then the raw little-endian data, offsets counted from the end of the header.
public enum SafeTensors {
    /// Header larger than this is refused as corrupt (real headers are kilobytes).
    static let maxHeaderBytes = 64 << 20

    public static func encode(_ tensors: [(String, StoredTensor)], metadata: [String: String]) -> [UInt8] {
        let (entries, data) = encodeData(tensors)
        return assemble(entries: entries, data: data, metadata: metadata)
    }

    /// The data section (raw little-endian values, in order) and the header entries that
    /// locate each tensor in it.
    static func encodeData(_ tensors: [(String, StoredTensor)]) -> (entries: [String: Any], data: [UInt8]) {
        var header: [String: Any] = [:]
        var data: [UInt8] = []
        for (name, tensor) in tensors {
            let begin = data.count
            switch tensor.dtype {
            case .float32:
                for value in tensor.values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data += $0 } }
            case .int64:
                for value in tensor.values { withUnsafeBytes(of: Int64(value).littleEndian) { data += $0 } }
            }
            header[name] = ["dtype": tensor.dtype.rawValue, "shape": tensor.shape, "data_offsets": [begin, data.count]]
        }
        return (header, data)
    }

    /// Length, JSON header (entries plus metadata, space-padded to 8 bytes), data.
    static func assemble(entries: [String: Any], data: [UInt8], metadata: [String: String]) -> [UInt8] {
        var header = entries
        header["__metadata__"] = metadata
        var json = Array((try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data())
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (json.count % 8) != 0 { json.append(0x20) }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out += $0 }
        return out + json + data
    }

    public static func decode(_ bytes: [UInt8], path: String) throws(CheckpointError) -> (tensors: [String: StoredTensor], metadata: [String: String]) {
        func fail(_ message: String) -> CheckpointError { CheckpointError(path: path, message: message) }
        guard bytes.count >= 8 else { throw fail("not a safetensors file: \(bytes.count) bytes, shorter than the 8-byte header length") }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(min(bytes.count - 8, maxHeaderBytes)) else {
            throw fail("header length \(length) runs past the end of the \(bytes.count)-byte file (truncated or not safetensors)")
        }
        let headerEnd = 8 + Int(length)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])),
              let header = object as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let dataCount = bytes.count - headerEnd
        var tensors: [String: StoredTensor] = [:]
        var metadata: [String: String] = [:]
        for name in header.keys.sorted() {
            if name == "__metadata__" {
                guard let values = header[name] as? [String: String] else { throw fail("__metadata__ is not a map of strings") }
                metadata = values
                continue
            }
            guard let entry = header[name] as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int],
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("tensor '\(name)': entry lacks dtype, shape or data_offsets")
            }
            guard let dtype = StoredTensor.DType(rawValue: dtypeName) else {
                throw fail("tensor '\(name)': dtype \(dtypeName) is not supported (F32, I64)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(name)': negative dimension in \(shape)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= dataCount else {
                throw fail("tensor '\(name)': data offsets \(begin)…\(end) lie outside the \(dataCount) data bytes (truncated?)")
            }
            // A hostile header can declare dimensions whose product overflows: check each step.
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= dataCount else { throw fail("tensor '\(name)': shape \(shape) is larger than the file") }
                count = product
            }
            guard end - begin == count * dtype.byteSize else {
                throw fail("tensor '\(name)': \(end - begin) bytes do not hold shape \(shape) of \(dtypeName)")
            }
            var values = [Float](repeating: 0, count: count)
            let start = headerEnd + begin
            for i in 0..<count {
                let at = start + i * dtype.byteSize
                if dtype == .float32 {
                    var bits: UInt32 = 0
                    for b in 0..<4 { bits |= UInt32(bytes[at + b]) << (8 * UInt32(b)) }
                    values[i] = Float(bitPattern: bits)
                } else {
                    var raw: UInt64 = 0
                    for b in 0..<8 { raw |= UInt64(bytes[at + b]) << (8 * UInt64(b)) }
                    values[i] = Float(Int64(bitPattern: raw))
                }
            }
            tensors[name] = StoredTensor(dtype: dtype, shape: shape, values: values)
        }
        return (tensors, metadata)
    }

    /// CRC-32 (ISO-HDLC) of the tensor data: stored in the metadata, checked on load.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return ~crc
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
}
