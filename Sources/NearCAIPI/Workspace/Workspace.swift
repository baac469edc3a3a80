import FileAccess
import Foundation
import Imaging
import Storage

/// How `init` builds a workspace.
public struct WorkspaceOptions: Sendable {
    public enum Layout: String, Sendable, CaseIterable {
        case auto, mvtec, folders
    }
    public var layout: Layout = .auto
    public var okFolders = ["ok", "good"]
    public var nokFolders = ["nok", "defect", "def"]
    /// Fractions of train, validation, test and pool (summing to 1).
    public var split: [Double] = [0.3, 0.1, 0.2, 0.4]
    /// Exactly this many training images (stratified); the rest split by the other fractions.
    public var initialTrain: Int? = nil
    public var architecture = "resnet18-w4"
    public var inputSize = 128
    public var seed: UInt64 = 1

    public init() {}
}

/// What `init` found.
public struct WorkspaceSummary: Sendable {
    public var items = 0
    public var unusable: [DatasetProblem] = []
    public var layout = ""
}

/// One inspection project: `WORKSPACE/workspace.sqlite` (WAL) and `WORKSPACE/models/`.
/// The data set it indexes is read, never written.
public final class Workspace {
    public static let databaseName = "workspace.sqlite"
    public let path: String
    public let database: Database

    /// Opens an existing workspace, applying schema migrations if it is older.
    public init(opening path: String) throws {
        let file = "\(path)/\(Self.databaseName)"
        guard BinaryFile.exists(file) else {
            throw WorkspaceError(path, BinaryFile.isDirectory(path) ? "not a workspace (no \(Self.databaseName))" : "no such workspace")
        }
        self.path = path
        database = try Database(path: file)
        _ = try WorkspaceSchema.migrate(database, path: path)
    }

    /// Creates a workspace for the data set at `dataRoot`. Everything is written to a
    /// temporary database first and renamed into place when complete: a failure leaves
    /// nothing behind.
    public static func create(at path: String, dataRoot: String, options: WorkspaceOptions,
                              report: (DatasetProblem) -> Void = { _ in }) throws -> (Workspace, WorkspaceSummary) {
        let file = "\(path)/\(databaseName)"
        guard !BinaryFile.exists(file) else { throw WorkspaceError(path, "already a workspace; choose another folder") }
        guard BinaryFile.isDirectory(dataRoot) else { throw WorkspaceError(dataRoot, "no such data folder") }
        let absoluteRoot = dataRoot.hasPrefix("/") ? dataRoot : FileManager.default.currentDirectoryPath + "/" + dataRoot

        let layout: WorkspaceOptions.Layout = options.layout == .auto ? (MVTecDataset.detect(dataRoot) ? .mvtec : .folders) : options.layout
        var items: [DatasetItem]
        switch layout {
        case .mvtec:
            guard MVTecDataset.detect(dataRoot) else { throw WorkspaceError(dataRoot, "not the MVTec AD layout (no train/good or ground_truth folder)") }
            items = try MVTecDataset.items(dataRoot)
        default:
            items = try ClassFolderDataset(root: dataRoot, okFolders: options.okFolders, nokFolders: options.nokFolders).items
        }
        guard !items.isEmpty else {
            throw WorkspaceError(dataRoot, layout == .mvtec ? "no images in the MVTec folders"
                : "no images in class folders named \((options.okFolders + options.nokFolders).joined(separator: ", "))")
        }

        // Every file is decoded once: unusable ones are indexed as such, with the reason.
        var summary = WorkspaceSummary(items: items.count, layout: layout.rawValue)
        var hashes: [String: String] = [:]
        var problems: [String: String] = [:]
        var usableMasks: [String: String] = [:]
        for item in items {
            do {
                let bytes = try BinaryFile.read("\(dataRoot)/\(item.path)", limit: ImageFile.maxFileBytes)
                hashes[item.path] = fnv1a(bytes)
                _ = try ImageFile.decode(bytes, name: item.path)
            } catch let error as ImageFileError {
                problems[item.path] = "\(error.reason)"
            } catch {
                problems[item.path] = "\(error)"
            }
            if let mask = item.maskPath, problems[item.path] == nil {
                if let decoded = try? ImageFile.read("\(dataRoot)/\(mask)"), !BinaryMask(thresholding: decoded.image).isEmpty {
                    usableMasks[item.path] = mask
                }
            }
        }
        for (path, reason) in problems.sorted(by: { $0.key < $1.key }) {
            let problem = DatasetProblem(path: path, reason: reason)
            summary.unusable.append(problem)
            report(problem)
        }
        let usable = items.filter { problems[$0.path] == nil }
        let classes = Set(usable.map(\.label))
        guard classes.count == 2 else {
            throw WorkspaceError(dataRoot, "needs usable images of both classes (OK and NOK); found only \(classes.first.map { $0 == 0 ? "OK" : "NOK" } ?? "none")")
        }
        let splits = try assignSplits(labels: usable.map(\.label), options: options, path: path)

        try BinaryFile.createDirectory("\(path)/models")
        let temporary = "\(file).creating-\(getpid())"
        do {
            let database = try Database(path: temporary)
            _ = try WorkspaceSchema.migrate(database, path: path)
            try database.transaction {
                let settings: [(String, String)] = [
                    ("data_root", absoluteRoot), ("layout", layout.rawValue), ("architecture", options.architecture),
                    ("input_size", String(options.inputSize)), ("seed", String(options.seed)),
                    ("class_names", "ok,nok"), ("split", options.split.map { String($0) }.joined(separator: ",")),
                    ("created", ISO8601DateFormatter().string(from: Date())),
                ]
                let setting = try database.prepare("INSERT INTO settings (key, value) VALUES (?, ?)")
                for (key, value) in settings {
                    try setting.bind([.text(key), .text(value)])
                    _ = try setting.step()
                }
                let insert = try database.prepare("""
                    INSERT INTO items (path, content_hash, split, label, truth_label, truth_mask_path, usable, problem)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                var next = 0
                for item in items {
                    let problem = problems[item.path]
                    let split = problem == nil ? splits[next] : "pool"
                    if problem == nil { next += 1 }
                    // The pool's labels are hidden from the engine until someone gives them.
                    let known: SQLValue = split == "pool" ? .null : .integer(Int64(item.label))
                    try insert.bind([.text(item.path), hashes[item.path].map { .text($0) } ?? .null, .text(split), known,
                                     .integer(Int64(item.label)), usableMasks[item.path].map { .text($0) } ?? .null,
                                     .integer(problem == nil ? 1 : 0), problem.map { .text($0) } ?? .null])
                    _ = try insert.step()
                }
            }
            try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        } catch {
            for suffix in ["", "-wal", "-shm"] { unlink(temporary + suffix) }
            throw error
        }
        for suffix in ["-wal", "-shm"] { unlink(temporary + suffix) }
        guard rename(temporary, file) == 0 else {
            unlink(temporary)
            throw WorkspaceError(path, "cannot move the new database into place: \(String(cString: strerror(errno)))")
        }
        return (try Workspace(opening: path), summary)
    }

    /// Stratified, seeded split names for usable items in order.
    static func assignSplits(labels: [Int], options: WorkspaceOptions, path: String) throws -> [String] {
        let fractions = options.split
        guard fractions.count == 4, fractions.allSatisfy({ $0 >= 0 }), abs(fractions.reduce(0, +) - 1) < 1e-6 else {
            throw WorkspaceError(path, "split fractions must be four non-negative numbers summing to 1")
        }
        var names = [String](repeating: "pool", count: labels.count)
        let total = labels.count
        for (_, members) in StratifiedSplit.shuffledClasses(labels: labels, seed: options.seed) {
            var counts: [Int]
            if let train = options.initialTrain {
                guard train > 0, train < total else {
                    throw WorkspaceError(path, "the initial training set must hold between 1 and \(total - 1) images",
                                         reason: .initialTrainingOutOfRange(available: total - 1))
                }
                let trainHere = Int((Double(train) * Double(members.count) / Double(total)).rounded())
                let rest = fractions[1...].reduce(0, +)
                let left = members.count - trainHere
                counts = [trainHere] + fractions[1...3].map { rest > 0 ? Int((Double(left) * $0 / rest).rounded()) : 0 }
            } else {
                counts = fractions.map { Int((Double(members.count) * $0).rounded()) }
            }
            var start = 0
            for (split, count) in zip(["train", "val", "test", "pool"], counts) {
                let end = split == "pool" ? members.count : min(start + count, members.count)
                for index in members[start..<end] { names[index] = split }
                start = end
            }
        }
        return names
    }

    /// FNV-1a, 64 bits, as hex: identifies a file's content (renames and copies are noticed).
    static func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let text = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    // MARK: Reading

    public func setting(_ key: String) throws -> String? {
        if case .text(let value)? = try database.query("SELECT value FROM settings WHERE key = ?", [.text(key)]).first?.first {
            return value
        }
        return nil
    }

    /// Sets (or replaces) a workspace setting.
    public func setSetting(_ key: String, _ value: String) throws {
        try database.query("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", [.text(key), .text(value)])
    }

    /// Counts for `status`.
    public struct Status: Sendable {
        public var usable = 0, unusable = 0, withMask = 0
        /// truth class → count of usable items
        public var perClass: [Int: Int] = [:]
        /// split → (known label or -1 for hidden) → count
        public var perSplit: [String: [Int: Int]] = [:]
        public var pendingFeedback = 0
        public var rounds: [Round] = []
    }

    /// Feedback events no round has trained on yet (reverted ones excluded).
    public func pendingFeedbackCount() throws -> Int {
        if case .integer(let pending)? = try database.query(
            "SELECT count(*) FROM feedback WHERE round_id IS NULL AND reverted = 0").first?.first {
            return Int(pending)
        }
        return 0
    }

    public func status() throws -> Status {
        var status = Status()
        for row in try database.query("""
            SELECT split, label, truth_label, usable, truth_mask_path IS NOT NULL, count(*) FROM items
            WHERE origin = 'original' GROUP BY 1, 2, 3, 4, 5
            """) {
            guard case .text(let split) = row[0], case .integer(let usable) = row[3], case .integer(let masked) = row[4],
                  case .integer(let count) = row[5] else { continue }
            let n = Int(count)
            if usable == 0 { status.unusable += n; continue }
            status.usable += n
            if masked == 1 { status.withMask += n }
            if case .integer(let truth) = row[2] { status.perClass[Int(truth), default: 0] += n }
            let known: Int
            if case .integer(let label) = row[1] { known = Int(label) } else { known = -1 }
            status.perSplit[split, default: [:]][known, default: 0] += n
        }
        status.pendingFeedback = try pendingFeedbackCount()
        status.rounds = try rounds()
        return status
    }
}
