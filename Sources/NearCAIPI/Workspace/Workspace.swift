import FileAccess
import Foundation
import NeuralNet
import Imaging
internal import Storage

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
    /// Exactly this many validation images (stratified) — a small labelled validation set, as
    /// an active-learning budget has; nil: the validation fraction of `split`.
    public var validationCount: Int? = nil
    public var architecture = Architecture.standard.rawValue
    public var inputSize = 128
    public var seed: UInt64 = 1

    public init() {}
}

/// What `init` found.
public struct WorkspaceSummary: Sendable {
    public var items = 0
    public var unusable: [DatasetProblem] = []
    /// Images set aside in the pool as odd (`OddImages`), with the reason.
    public var setAside: [DatasetProblem] = []
    public var layout = ""
}

/// One inspection project: `WORKSPACE/workspace.sqlite` (WAL) and `WORKSPACE/models/` — or,
/// addressed by a PostgreSQL URL (`WorkspaceAddress`), a workspace on a server that several
/// stations share: its rows and its files live in the server's store, and `path` is this
/// station's folder of it, where the files are copied as they are needed (`StationFiles`).
/// The data set it indexes is read, never written. Everything stored goes through its
/// `store` (Store/), which only the engine sees.
public final class Workspace {
    public static let databaseName = WorkspaceStore.fileName
    /// The workspace's folder; for a server workspace, this station's folder of it.
    public let path: String
    /// Where the workspace lives, as it was opened.
    public let address: WorkspaceAddress
    let store: WorkspaceStore
    /// A server workspace: the news counter when this connection last copied in the stored
    /// files (`syncStoredFiles`); nil before the first copy.
    var syncedAtNews: Int?

    /// How messages name the workspace: its folder, or "workspace 'NAME' on postgresql://…"
    /// (password left out) — not this station's folder of it.
    public var name: String { address.description }

    /// Waits up to `seconds` for another connection to commit a change to the workspace since
    /// the previous call (the first call starts listening); true when one did. On a server,
    /// a `LISTEN` woken by the commit itself; on a folder, the file's change counter looked at
    /// every 50 ms.
    public func waitForNews(upTo seconds: Double) throws -> Bool { try store.news(waitingUpTo: seconds) }

    /// Whether the workspace lives on a server (its files are kept in the store).
    public var isOnServer: Bool {
        if case .server = address { return true }
        return false
    }

    /// Whether `error` says the workspace's server went away (the connection broke, or the
    /// server is shutting down or starting): the statement may be tried again once it is back.
    /// A folder workspace never says so.
    public static func lostTheServer(_ error: any Error) -> Bool {
        (error as? PostgresError)?.isConnectionFailure ?? false
    }

    /// Whether `error` says the store stayed busy past its retries (other writers held the
    /// workspace's write lock all that time, or a server called off a transaction that
    /// collided with another): nothing was written, and the same work may be tried again.
    public static func storeWasBusy(_ error: any Error) -> Bool {
        (error as? SQLiteError)?.isBusy ?? (error as? PostgresError)?.isRetryable ?? false
    }

    /// Whether the workspace's folder cannot be written: it is open for reading only (status,
    /// export, evaluation), and anything that would change it is refused, saying so.
    public var isReadOnly: Bool { store.isReadOnly }

    /// Throws, saying the workspace is read-only, when it is: what a verb that changes the
    /// workspace calls first, so nothing is computed for a result that cannot be kept.
    public func refuseIfReadOnly() throws { try store.refuseIfReadOnly() }

    /// Opens an existing workspace — a folder, applying schema migrations if it is older, for
    /// reading only when the folder cannot be written; or a server address, copying the
    /// files this station has not got yet.
    public init(opening text: String) throws {
        address = try WorkspaceAddress(parsing: text)
        switch address {
        case .folder(let path):
            let file = "\(path)/\(Self.databaseName)"
            guard BinaryFile.exists(file) else {
                throw WorkspaceError(path, BinaryFile.isDirectory(path) ? "not a workspace (no \(Self.databaseName))" : "no such workspace")
            }
            self.path = path
            store = try WorkspaceStore(opening: file, workspacePath: path)
        case .server(let connection, let name):
            store = try WorkspaceStore(server: connection, workspace: name, creating: false)
            path = try Self.stationFolder(connection: connection, name: name)
            try checkImageFolder()
            try syncStoredFiles()
        }
    }

    /// Creates a workspace for the data set at `dataRoot`. Everything is written to a
    /// temporary database first and renamed into place when complete: a failure leaves
    /// nothing behind.
    /// At a server address the workspace is made on the server, in one transaction.
    public static func create(at path: String, dataRoot: String, options: WorkspaceOptions,
                              report: (DatasetProblem) -> Void = { _ in }) throws -> (Workspace, WorkspaceSummary) {
        let address = try WorkspaceAddress(parsing: path)
        let file = "\(path)/\(databaseName)"
        if case .folder = address {
            guard !BinaryFile.exists(file) else { throw WorkspaceError(path, "already a workspace; choose another folder") }
        }
        guard BinaryFile.isDirectory(dataRoot) else { throw WorkspaceError(dataRoot, "no such data folder") }
        let absoluteRoot = dataRoot.hasPrefix("/") ? dataRoot : BinaryFile.currentDirectory + "/" + dataRoot

        let layout = ClassFolderDataset.resolvedLayout(options.layout, root: dataRoot)
        // `scan` reads the data set the same way, so it reports what this indexes.
        let items = try ClassFolderDataset.open(dataRoot, layout: layout, okFolders: options.okFolders,
                                                nokFolders: options.nokFolders).items
        guard !items.isEmpty else {
            throw WorkspaceError(dataRoot, layout == .mvtec ? "no images in the MVTec folders"
                : "no images in class folders named \((options.okFolders + options.nokFolders).joined(separator: ", "))")
        }

        // Every file is decoded once: unusable ones are indexed as such, with the reason.
        var summary = WorkspaceSummary(items: items.count, layout: layout.rawValue)
        var hashes: [String: String] = [:]
        var problems: [String: String] = [:]
        var usableMasks: [String: String] = [:]
        var traits: [String: ImageTraits] = [:]
        for item in items {
            let file = DatasetFile(item.path, root: dataRoot)
            if let bytes = file.bytes { hashes[item.path] = fnv1a(bytes) }
            if let problem = file.problem { problems[item.path] = problem; continue }
            if let decoded = file.decoded { traits[item.path] = ImageTraits(of: decoded.image) }
            if let mask = item.maskPath, (try? DatasetFile.mask(mask, root: dataRoot)) != nil {
                usableMasks[item.path] = mask
            }
        }
        for (path, reason) in problems.sorted(by: { $0.key < $1.key }) {
            let problem = DatasetProblem(path: path, reason: reason)
            summary.unusable.append(problem)
            report(problem)
        }
        // Odd images go to the pool: no split learns or judges them until a person has.
        let oddities = OddImages.reasons(traits)
        summary.setAside = oddities.sorted { $0.key < $1.key }.map { DatasetProblem(path: $0.key, reason: $0.value) }
        let usable = items.filter { problems[$0.path] == nil && oddities[$0.path] == nil }
        let classes = Set(usable.map(\.label))
        guard classes.count == 2 else {
            throw WorkspaceError(dataRoot, "needs usable images of both classes (OK and NOK); found only \(classes.first?.displayName ?? "none")")
        }
        let splits = try assignSplits(labels: usable.map(\.label), options: options, path: path)

        let settings: [(key: String, value: String)] = [
            (SettingKey.dataRoot.rawValue, absoluteRoot), (SettingKey.layout.rawValue, layout.rawValue),
            (SettingKey.architecture.rawValue, options.architecture), (SettingKey.inputSize.rawValue, String(options.inputSize)),
            (SettingKey.seed.rawValue, String(options.seed)), (SettingKey.classNames.rawValue, ClassLabel.allCases.map(\.name).joined(separator: ",")),
            (SettingKey.split.rawValue, options.split.map { String($0) }.joined(separator: ",")),
            (SettingKey.created.rawValue, ISO8601DateFormatter().string(from: Date())),
        ]
        var next = 0
        let originals = items.map { item -> NewOriginal in
            let problem = problems[item.path], oddity = oddities[item.path]
            let split = problem == nil && oddity == nil ? splits[next] : .pool
            if problem == nil && oddity == nil { next += 1 }
            // The pool's labels are hidden from the engine until someone gives them.
            return NewOriginal(path: item.path, contentHash: hashes[item.path], split: split, label: split == .pool ? nil : item.label,
                               truthLabel: item.label, truthMaskPath: usableMasks[item.path], problem: problem, oddity: oddity)
        }
        if case .server(let connection, let name) = address {
            _ = try WorkspaceStore(server: connection, workspace: name, creating: true) { store in
                try store.fill(settings: settings, originals: originals)
            }
            return (try Workspace(opening: path), summary)
        }
        try BinaryFile.createDirectory("\(path)/models")
        let temporary = "\(file).creating-\(getpid())"
        let removeTemporary = { for suffix in ["", "-wal", "-shm"] { try? BinaryFile.remove(temporary + suffix) } }
        do {
            let store = try WorkspaceStore(opening: temporary, workspacePath: path)
            try store.create(settings: settings, originals: originals)
            try store.checkpointLog()
        } catch {
            removeTemporary()
            throw error
        }
        for suffix in ["-wal", "-shm"] { try? BinaryFile.remove(temporary + suffix) }
        do {
            try BinaryFile.move(temporary, to: file)
        } catch {
            removeTemporary()
            throw WorkspaceError(path, "cannot move the new database into place: \(error.systemMessage ?? "\(error)")")
        }
        return (try Workspace(opening: path), summary)
    }

    /// Stratified, seeded splits for usable items in order.
    static func assignSplits(labels: [ClassLabel], options: WorkspaceOptions, path: String) throws -> [Split] {
        let fractions = options.split
        guard fractions.count == 4, fractions.allSatisfy({ $0 >= 0 }), abs(fractions.reduce(0, +) - 1) < 1e-6 else {
            throw WorkspaceError(path, "split fractions must be four non-negative numbers summing to 1")
        }
        var names = [Split](repeating: .pool, count: labels.count)
        let total = labels.count
        if let train = options.initialTrain, !(train > 0 && train < total) {
            throw WorkspaceError(path, "the initial training set must hold between 1 and \(total - 1) images",
                                 reason: .initialTrainingOutOfRange(available: total - 1))
        }
        if let validation = options.validationCount, !(validation >= 1 && validation + (options.initialTrain ?? 0) < total) {
            throw WorkspaceError(path, "the validation set must hold between 1 and \(total - 1 - (options.initialTrain ?? 0)) images "
                                 + "(\(total) usable, \(options.initialTrain ?? 0) for training)")
        }
        for (_, members) in StratifiedSplit.shuffledClasses(labels: labels.map(\.classIndex), seed: options.seed) {
            // Splits given as counts take this class's share of them; the others share what is
            // left by their fractions.
            let fixed: [Int?] = [options.initialTrain, options.validationCount, nil, nil].map { count in
                count.map { Int((Double($0) * Double(members.count) / Double(total)).rounded()) }
            }
            let left = max(0, members.count - fixed.compactMap { $0 }.reduce(0, +))
            let free = fractions.indices.filter { fixed[$0] == nil }.map { fractions[$0] }.reduce(0, +)
            let counts = fixed.allSatisfy({ $0 == nil })
                ? fractions.map { Int((Double(members.count) * $0).rounded()) }
                : fractions.indices.map { index in fixed[index] ?? (free > 0 ? Int((Double(left) * fractions[index] / free).rounded()) : 0) }
            var start = 0
            for (split, count) in zip([Split.train, .validation, .test, .pool], counts) {
                let end = split == .pool ? members.count : min(start + count, members.count)
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

    /// Counts for `status`.
    public struct Status: Sendable {
        public var usable = 0, unusable = 0, withMask = 0
        /// the data set's class → count of usable items
        public var perClass: [ClassLabel: Int] = [:]
        /// split → label the engine knows (nil: hidden in the pool) → count of usable items
        public var perSplit: [Split: [ClassLabel?: Int]] = [:]
        public var pendingFeedback = 0
        public var rounds: [Round] = []
        /// Round 0, pretraining without labels, when it was run (finished or not).
        public var pretraining: PretrainingSummary?
        public var hasPretrainedBackbone = false
    }

    /// Feedback events no round has trained on yet (reverted ones excluded); only `user`'s
    /// when given.
    public func pendingFeedbackCount(user: String? = nil) throws -> Int { try store.pendingFeedbackCount(user: user) }

    public func status() throws -> Status {
        var status = Status()
        for group in try store.originalCounts() {
            guard group.isUsable else { status.unusable += group.count; continue }
            status.usable += group.count
            if group.hasMask { status.withMask += group.count }
            if let truth = group.truthLabel { status.perClass[truth, default: 0] += group.count }
            status.perSplit[group.split, default: [:]][group.label, default: 0] += group.count
        }
        status.pendingFeedback = try pendingFeedbackCount()
        status.rounds = try rounds()
        status.pretraining = try pretrainingSummary()
        status.hasPretrainedBackbone = hasPretrainedBackbone
        return status
    }

    /// The indexed item at `path` (an original's path below the data root, a generated
    /// item's below the workspace), or nil.
    public func item(at path: String) throws -> ItemRecord? { try store.item(at: path) }
    /// Images `init` set aside as odd (`OddImages`): in the pool until a person labels them.
    public func oddItems() throws -> [ItemRecord] { try store.oddItems() }

    /// The usable items of `split`, in the order they were indexed.
    public func items(in split: Split) throws -> [ItemRecord] { try store.items(in: split, labelledOnly: false) }

    /// Who holds which query: the leases not yet expired, or all that are stored.
    public func leases(includingExpired: Bool = false) throws -> [Lease] {
        try store.leases(unexpiredAt: includingExpired ? nil : Date().timeIntervalSince1970)
    }

    /// Every near hit / near miss review ever queued, oldest first, open or answered.
    public func reviews() throws -> [Review] { try store.reviews(openOnly: false) }

    /// What SQLite's integrity check finds wrong with the database file; empty when it is intact.
    public func integrityProblems() throws -> [String] { try store.integrityProblems() }

    /// Changes whenever another process or connection commits to the workspace, so a screen
    /// knows to read it again (a round trained, an answer reverted from the command line).
    public var changesByOthers: Int { get throws { try store.changesByOthers } }

    /// The version of the schema the database is at (WorkspaceSchema.currentVersion once open).
    public var schemaVersion: Int { get throws { try store.schemaVersion } }
}
