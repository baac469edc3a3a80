import CSQLite

/// An SQLite failure: the primary result code, its symbolic name and SQLite's own message
/// (`sqlite3_errmsg`), plus the statement that failed where there was one.
public struct SQLiteError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The primary result code (the low byte of the extended code), e.g. 5 = SQLITE_BUSY.
    public let code: Int32
    public let message: String
    public let sql: String?

    init(code: Int32, message: String, sql: String? = nil) {
        self.code = code & 0xFF
        self.message = message
        self.sql = sql
    }

    /// SQLITE_BUSY (5): another connection holds a lock longer than the busy timeout.
    public var isBusy: Bool { code == SQLITE_BUSY }
    /// SQLITE_CONSTRAINT (19): a UNIQUE, NOT NULL, CHECK or FOREIGN KEY rule was broken.
    public var isConstraintViolation: Bool { code == SQLITE_CONSTRAINT }
    /// SQLITE_CORRUPT (11) or SQLITE_NOTADB (26): the file is not a usable database.
    public var isCorruptDatabase: Bool { code == SQLITE_CORRUPT || code == SQLITE_NOTADB }

    public var description: String {
        let name = String(cString: sqlite3_errstr(code))
        if let sql { return "SQLite error \(code) (\(name)): \(message) [in: \(sql)]" }
        return "SQLite error \(code) (\(name)): \(message)"
    }
}

/// A value bound to a statement parameter or read from a column.
public enum SQLValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// One connection to an SQLite database file. Not shared between threads: each thread (or
/// process) opens its own connection, which is how SQLite's WAL mode lets readers and one
/// writer work at once.
public final class Database {
    let handle: OpaquePointer
    public let path: String

    /// Opens (and creates, unless `readOnly`) the database at `path`. With `walMode` the
    /// journal is write-ahead (readers never block the writer) and `synchronous = FULL`, so a
    /// committed transaction survives power loss. `busyTimeout` is how long a write waits for
    /// another connection's lock before failing with SQLITE_BUSY.
    ///
    /// `immutable` (read-only only) opens a file nobody can be changing — one on a read-only
    /// file system: SQLite then neither locks nor looks for a write-ahead log, without which a
    /// WAL database there could not be opened at all (it would need to create `-shm`).
    public init(path: String, readOnly: Bool = false, walMode: Bool = true, busyTimeout: Double = 5,
                immutable: Bool = false) throws(SQLiteError) {
        var connection: OpaquePointer?
        var flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        var name = path
        if immutable && readOnly {
            flags |= SQLITE_OPEN_URI
            // A URI's path: '%', '?' and '#' would end or escape it.
            let escaped = path.map { $0 == "%" ? "%25" : $0 == "?" ? "%3f" : $0 == "#" ? "%23" : String($0) }.joined()
            name = "file:\(escaped)?immutable=1"
        }
        let status = sqlite3_open_v2(name, &connection, flags, nil)
        guard status == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(connection)
            throw SQLiteError(code: status, message: "\(path): \(message)")
        }
        handle = connection
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, Int32(busyTimeout * 1000))
        if walMode && !readOnly {
            let mode = try scalarText("PRAGMA journal_mode = WAL")
            guard mode?.lowercased() == "wal" else {
                throw SQLiteError(code: SQLITE_ERROR, message: "\(path): WAL journal mode refused (got \(mode ?? "nothing"))")
            }
            try execute("PRAGMA synchronous = FULL")
        }
        try execute("PRAGMA foreign_keys = ON")
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs one or more statements that take no parameters and return no rows needed.
    public func execute(_ sql: String) throws(SQLiteError) {
        var errorText: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &errorText)
        if status != SQLITE_OK {
            let message = errorText.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(errorText)
            throw SQLiteError(code: status, message: message, sql: sql)
        }
    }

    /// Compiles one statement; values are bound to its `?` parameters, never spliced into SQL.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard status == SQLITE_OK, let statement else {
            throw SQLiteError(code: status, message: lastMessage, sql: sql)
        }
        return Statement(database: self, handle: statement, sql: sql)
    }

    /// Runs `sql` with `values` bound and returns every row.
    @discardableResult
    public func query(_ sql: String, _ values: [SQLValue] = []) throws(SQLiteError) -> [[SQLValue]] {
        let statement = try prepare(sql)
        try statement.bind(values)
        var rows: [[SQLValue]] = []
        while try statement.step() { rows.append(statement.row) }
        return rows
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; rolls back if it throws. IMMEDIATE
    /// takes the write lock up front, so two writers wait for each other instead of
    /// failing half-way with SQLITE_BUSY.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The rowid of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    private func scalarText(_ sql: String) throws(SQLiteError) -> String? {
        let rows = try query(sql, [])
        if case .text(let text)? = rows.first?.first { return text }
        return nil
    }
}

/// A compiled statement. Finalized when released.
public final class Statement {
    let database: Database
    let handle: OpaquePointer
    public let sql: String

    init(database: Database, handle: OpaquePointer, sql: String) {
        self.database = database
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Clears earlier bindings and binds `values` to parameters 1…n.
    public func bind(_ values: [SQLValue]) throws(SQLiteError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard values.count == expected else {
            throw SQLiteError(code: SQLITE_RANGE, message: "statement takes \(expected) parameters, \(values.count) given", sql: sql)
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .null: status = sqlite3_bind_null(handle, index)
            case .integer(let v): status = sqlite3_bind_int64(handle, index, v)
            case .real(let v): status = sqlite3_bind_double(handle, index, v)
            case .text(let v): status = nc_sqlite_bind_text_copy(handle, index, v, -1)
            case .blob(let v):
                status = v.withUnsafeBytes { nc_sqlite_bind_blob_copy(handle, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(v.count)) }
            }
            guard status == SQLITE_OK else { throw SQLiteError(code: status, message: database.lastMessage, sql: sql) }
        }
    }

    /// Advances to the next row: true when a row is ready, false when the statement is done.
    public func step() throws(SQLiteError) -> Bool {
        let status = sqlite3_step(handle)
        switch status & 0xFF {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = database.lastMessage
            sqlite3_reset(handle)
            throw SQLiteError(code: status, message: message, sql: sql)
        }
    }

    /// The current row's columns.
    public var row: [SQLValue] { (0..<Int(sqlite3_column_count(handle))).map(column) }

    public func column(_ index: Int) -> SQLValue {
        let i = Int32(index)
        switch sqlite3_column_type(handle, i) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, i))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, i))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(handle, i)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, i))
            guard count > 0, let bytes = sqlite3_column_blob(handle, i) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }
}
