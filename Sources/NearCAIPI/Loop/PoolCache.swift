import FileAccess
#if canImport(Glibc)
import Glibc
#endif

/// The pool predictions of one round's checkpoint, kept beside it as
/// `models/round-NNN.pool` so that a session (the screens, the expert, a refreshed session
/// after another process trained) does not run the whole pool through the network again.
///
/// A cache, never a source of truth: it names the checkpoint it was made from (size and
/// modification time, which change whenever a checkpoint is replaced), and anything that
/// does not match, does not parse or cannot be written is ignored — the predictions are
/// then computed as without it. Written atomically (temporary file, fsync, rename).
///
/// Layout, little-endian: "NCPOOL1\n", UInt64 checkpoint size, Int64 modification time
/// (ns), UInt32 count, UInt32 classes, UInt32 embedding width, then per item an Int64 item
/// id, `classes` Float32 probabilities and `width` Float32 embedding values.
struct PoolCache {
    let file: String
    let checkpoint: String

    /// `models/round-NNN.disagree`: the parts whose own defect map and InvRISE map point
    /// apart (`PoolModel`'s disagreement-first rule), computed once per round — by the
    /// process that trained it, in the background — so a session opening the round does not
    /// spend seconds on InvRISE maps before its first query. Text: "NCDISAG1", the
    /// checkpoint's size and modification time, the heatmap settings it was made with, the
    /// item ids (comma-separated); anything else is ignored.
    let disagreementFile: String

    init(workspace: Workspace, round: Round) {
        checkpoint = workspace.checkpointPath(of: round)
        let base = round.checkpoint.hasSuffix(".safetensors") ? String(round.checkpoint.dropLast(".safetensors".count)) : round.checkpoint
        file = "\(workspace.path)/\(base).pool"
        disagreementFile = "\(workspace.path)/\(base).disagree"
    }

    /// The disagreeing parts stored for this checkpoint and these heatmap settings, or nil.
    func readDisagreement(settings: String) -> Set<Int64>? {
        guard BinaryFile.exists(disagreementFile), let identity = checkpointIdentity,
              let bytes = try? BinaryFile.read(disagreementFile), let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 4, lines[0] == "NCDISAG1", lines[1] == "\(identity.size) \(identity.modified)", lines[2] == settings else { return nil }
        var ids: Set<Int64> = []
        for field in lines[3].split(separator: ",") {
            guard let id = Int64(field) else { return nil }
            ids.insert(id)
        }
        return ids
    }

    func writeDisagreement(_ ids: Set<Int64>, settings: String) {
        guard let identity = checkpointIdentity else { return }
        let text = "NCDISAG1\n\(identity.size) \(identity.modified)\n\(settings)\n\(ids.sorted().map(String.init).joined(separator: ","))\n"
        try? BinaryFile.writeAtomically(Array(text.utf8), to: disagreementFile)
    }

    static let magic = Array("NCPOOL1\n".utf8)

    /// The checkpoint's size and modification time, nil if it cannot be read.
    var checkpointIdentity: (size: UInt64, modified: Int64)? {
        var info = stat()
        guard stat(checkpoint, &info) == 0 else { return nil }
        return (UInt64(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    func read() -> [Int64: (probabilities: [Float], embedding: [Float])] {
        guard BinaryFile.exists(file), let identity = checkpointIdentity, let bytes = try? BinaryFile.read(file) else { return [:] }
        var offset = 0
        func take<T: FixedWidthInteger>(_: T.Type) -> T? {
            guard offset + MemoryLayout<T>.size <= bytes.count else { return nil }
            var value: T = 0
            withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: bytes[offset..<(offset + MemoryLayout<T>.size)]) }
            offset += MemoryLayout<T>.size
            return T(littleEndian: value)
        }
        func floats(_ count: Int) -> [Float]? {
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count {
                guard let raw = take(UInt32.self) else { return nil }
                values[i] = Float(bitPattern: raw)
            }
            return values
        }
        guard bytes.count >= Self.magic.count, Array(bytes[0..<Self.magic.count]) == Self.magic else { return [:] }
        offset = Self.magic.count
        guard take(UInt64.self) == identity.size, take(Int64.self) == identity.modified,
              let count = take(UInt32.self), let classes = take(UInt32.self), let width = take(UInt32.self),
              classes >= 1, classes <= 1_000, width <= 100_000,
              bytes.count == offset + Int(count) * (8 + 4 * Int(classes) + 4 * Int(width)) else { return [:] }
        var result: [Int64: (probabilities: [Float], embedding: [Float])] = [:]
        result.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let id = take(Int64.self), let probabilities = floats(Int(classes)), let embedding = floats(Int(width)) else { return [:] }
            result[id] = (probabilities, embedding)
        }
        return result
    }

    func write(_ predictions: [PoolPrediction]) {
        guard let identity = checkpointIdentity, let first = predictions.first else { return }
        let classes = first.probabilities.count, width = first.embedding.count
        guard predictions.allSatisfy({ $0.probabilities.count == classes && $0.embedding.count == width }) else { return }
        var bytes = Self.magic
        bytes.reserveCapacity(bytes.count + 28 + predictions.count * (8 + 4 * (classes + width)))
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        put(identity.size)
        put(identity.modified)
        put(UInt32(predictions.count))
        put(UInt32(classes))
        put(UInt32(width))
        for prediction in predictions {
            put(prediction.itemID)
            for value in prediction.probabilities + prediction.embedding { put(value.bitPattern) }
        }
        // A cache that cannot be written (read-only workspace, full disk) only costs time.
        try? BinaryFile.writeAtomically(bytes, to: file)
    }
}
