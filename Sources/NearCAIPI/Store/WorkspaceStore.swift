import Foundation
internal import Storage

/// The one door to a workspace's database: every SQL statement of the engine is in this
/// folder (Store/), and everything leaves it as a typed record (Records.swift) or a value of
/// the vocabulary (Vocabulary.swift). The rest of the engine, the screens and the command
/// line never see a row.
///
/// One store is one connection, used from one thread: to the workspace's SQLite file (WAL,
/// synchronous FULL) — the embedded default — or to a PostgreSQL server, where the workspace
/// is a schema of its own (`WorkspaceSchema.postgreSQL`). Several processes share a workspace
/// through write transactions that take turns (`SQLDatabase.writeTransaction`) and leases.
final class WorkspaceStore {
    static let fileName = "workspace.sqlite"

    let database: any SQLDatabase
    /// The workspace folder, for the errors the store reports.
    let workspacePath: String

    /// Whether the workspace's folder cannot be written (a read-only file system, or no
    /// permission): the database is then opened for reading only, and every write is refused
    /// with a message saying so.
    let isReadOnly: Bool

    /// Whether this connection listens to the workspace's news channel (a server store).
    private var isListening = false
    /// The change counter when `news(waitingUpTo:)` last looked (an SQLite store).
    private var seenVersion: Int?

    /// Opens the database at `file`, applying the schema's missing migrations; read-only when
    /// its folder cannot be written (`isReadOnly`).
    init(opening file: String, workspacePath: String) throws {
        self.workspacePath = workspacePath
        if access(workspacePath, W_OK) != 0 && (errno == EROFS || errno == EACCES) {
            isReadOnly = true
            database = try Database(path: file, readOnly: true, immutable: true)
            let version = try database.query("PRAGMA user_version").first?.first?.integerValue.map(Int.init) ?? 0
            guard version == WorkspaceSchema.currentVersion else {
                throw WorkspaceError(workspacePath, "is read-only and of an \(version < WorkspaceSchema.currentVersion ? "older" : "newer") "
                                     + "schema (\(version); this NearCAIPI knows \(WorkspaceSchema.currentVersion)): copy it to a writable "
                                     + "place to open it")
            }
        } else {
            isReadOnly = false
            let opened = try Database(path: file)
            _ = try WorkspaceSchema.migrate(opened, path: workspacePath)
            database = opened
        }
    }

    /// The workspace `name` on a PostgreSQL server, through `connection`: its tables live in
    /// the schema `WorkspaceSchema.postgreSQLSchemaName(name)`. With `creating`, the schema is
    /// made (refused when it exists) and `filled` writes its first content in the same
    /// transaction — a failure leaves no workspace; without, it must exist at the current version.
    init(connection: PostgresConnection, workspace name: String, creating: Bool,
         filled: ((WorkspaceStore) throws -> Void)? = nil) throws {
        workspacePath = "workspace '\(name)' on \(connection.displayName)"
        isReadOnly = false
        connection.writerLockKey = WorkspaceSchema.writerLockKey(of: name)
        database = connection
        try WorkspaceSchema.open(connection, workspace: name, creating: creating, path: workspacePath) {
            try filled?(self)
        }
    }

    /// The workspace `name` on the server `connectionString` names (a libpq URL or key=value
    /// string; credentials from libpq's usual places).
    convenience init(server connectionString: String, workspace name: String, creating: Bool,
                     filled: ((WorkspaceStore) throws -> Void)? = nil) throws {
        try self.init(connection: try PostgresConnection(connectionString), workspace: name, creating: creating, filled: filled)
    }

    /// A connection string or URL with any password replaced by `***`, for messages: the
    /// engine outside Store/ names server addresses through this.
    static func withoutPassword(_ text: String) -> String { PostgresConnection.withoutPassword(text) }

    /// The refusal of a write to a read-only workspace.
    func refuseIfReadOnly() throws {
        guard isReadOnly else { return }
        throw WorkspaceError(workspacePath, "is read-only (its folder cannot be written): it can be read — status, export, "
                             + "eval-… — but not changed; copy it to a writable place for that")
    }

    /// Runs `body` in one IMMEDIATE transaction: all of it is committed, or none.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try refuseIfReadOnly()
        return try database.writeTransaction(body)
    }

    /// Runs the write `body` in a transaction, trying again a few times when another process
    /// held the write lock past the busy timeout, so concurrent inspectors do not lose writes.
    func writeRetryingWhenBusy<T>(_ body: () throws -> T) throws -> T {
        try statementRetryingWhenBusy { try database.writeTransaction(body) }
    }

    /// Runs `body` — one statement, its own transaction — outside any write transaction,
    /// trying again a few times when the database was busy past its timeout. On a server it
    /// takes no writer lock: the statement must be safe on its own (`claimLease`).
    func statementRetryingWhenBusy<T>(_ body: () throws -> T) throws -> T {
        try refuseIfReadOnly()
        var attempt = 0
        while true {
            do {
                return try body()
            } catch where database.isBusy(error) && attempt < 5 {
                attempt += 1
            }
        }
    }

    /// The schema version the workspace is at (SQLite: `PRAGMA user_version`; PostgreSQL: the
    /// `schema_version` table).
    var schemaVersion: Int {
        get throws {
            let sql = database.dialect == .sqlite ? "PRAGMA user_version" : "SELECT version FROM schema_version"
            return try database.query(sql).first?.first?.integerValue.map(Int.init) ?? 0
        }
    }

    /// Moves everything from SQLite's write-ahead log into the main file, so that the file
    /// alone is a complete copy (a server keeps its own log: nothing to do there).
    func checkpointLog() throws {
        guard database.dialect == .sqlite else { return }
        try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// A number that changes whenever another connection (another process, or a worker's own
    /// connection) commits to the workspace. SQLite: `PRAGMA data_version`, which this
    /// connection's own writes leave as it is; PostgreSQL: the counter every write statement
    /// moves (`news`, kept by triggers), own writes included — a reader then merely looks
    /// again.
    var changesByOthers: Int {
        get throws {
            let sql = database.dialect == .sqlite ? "PRAGMA data_version" : "SELECT counter FROM news"
            return try database.query(sql).first?.first?.integerValue.map(Int.init) ?? 0
        }
    }

    /// Waits up to `timeout` seconds for another connection to commit a change to the
    /// workspace since the previous call (the first call starts listening); true when one
    /// did. On a server the wait is a `LISTEN` on the workspace's channel, woken by the commit
    /// itself; SQLite has no such signal, so the file's `data_version` is looked at every 50 ms.
    func news(waitingUpTo timeout: Double) throws -> Bool {
        if let connection = database as? PostgresConnection {
            if !isListening {
                try connection.listen(try connection.query("SELECT current_schema()").first?.first?.textValue ?? "")
                isListening = true
            }
            return try !connection.notifications(waitingUpTo: timeout).isEmpty
        }
        let seen = try seenVersion ?? changesByOthers
        let deadline = Date().addingTimeInterval(timeout)
        var now = try changesByOthers
        while now == seen && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            now = try changesByOthers
        }
        seenVersion = now
        return now != seen
    }

    /// Takes the workspace's training turn: on a server, a session-level advisory lock on this
    /// connection, so one round (or pretraining) trains at a time whichever station asks; the
    /// server releases it when `endTraining` is called or the connection ends — a station that
    /// crashed while training holds nothing. False when another connection holds it. A folder
    /// workspace has no such turn (true).
    func beginTraining() throws -> Bool {
        guard let connection = database as? PostgresConnection else { return true }
        return try connection.query("SELECT pg_try_advisory_lock(?)", [.integer(connection.writerLockKey &+ 1)]).first?.first?.integerValue == 1
    }

    /// Gives the training turn back (see `beginTraining`).
    func endTraining() throws {
        guard let connection = database as? PostgresConnection else { return }
        try connection.query("SELECT pg_advisory_unlock(?)", [.integer(connection.writerLockKey &+ 1)])
    }

    /// What `PRAGMA integrity_check` reports, without its "ok" for an intact file (a server
    /// checks its own storage: nothing to report there).
    func integrityProblems() throws -> [String] {
        guard database.dialect == .sqlite else { return [] }
        return try database.query("PRAGMA integrity_check").compactMap { $0.first?.textValue }.filter { $0 != "ok" }
    }

    /// The SQL aggregate joining `column`'s values with commas.
    func listOfNumbers(_ column: String) -> String {
        database.dialect == .sqlite ? "group_concat(\(column))" : "string_agg(\(column)::text, ',')"
    }

    // MARK: Settings

    func setting(_ key: String) throws -> String? {
        try database.query("SELECT value FROM settings WHERE key = ?", [.text(key)]).first?.first?.textValue
    }

    /// Sets (or replaces) settings, all in one transaction.
    func setSettings(_ pairs: [(key: String, value: String)]) throws {
        try database.writeTransaction { try writeSettings(pairs) }
    }

    /// Sets settings within the caller's transaction.
    func writeSettings(_ pairs: [(key: String, value: String)]) throws {
        for (key, value) in pairs {
            try database.query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                               [.text(key), .text(value)])
        }
    }
}

/// Reading columns: the value of the expected kind, or nil (NULL or another kind).
extension SQLValue {
    var integerValue: Int64? { if case .integer(let value) = self { value } else { nil } }
    var realValue: Double? {
        switch self {
        case .real(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }
    var textValue: String? { if case .text(let value) = self { value } else { nil } }
    var blobValue: [UInt8]? { if case .blob(let value) = self { value } else { nil } }

    /// A column of the vocabulary: nil for NULL or for a word the vocabulary does not know.
    func word<Word: RawRepresentable>(_: Word.Type) -> Word? where Word.RawValue == String { textValue.flatMap(Word.init(rawValue:)) }
    var classLabel: ClassLabel? { integerValue.flatMap { ClassLabel(rawValue: Int($0)) } }

    init(_ label: ClassLabel?) { self = label.map { .integer(Int64($0.rawValue)) } ?? .null }
    init<Word: RawRepresentable>(word: Word?) where Word.RawValue == String { self = word.map { .text($0.rawValue) } ?? .null }
    init(_ text: String?) { self = text.map { .text($0) } ?? .null }
}
