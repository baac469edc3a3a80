import CPostgres
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL failure: the server's SQLSTATE where it sent one, its message, and the
/// statement that failed where there was one. Connection-level failures (no server, wrong
/// credentials, a dropped link) carry libpq's own message and no SQLSTATE, or one of class 08.
///
/// SQLSTATE classes the store acts on (PostgreSQL's "Appendix A. Error Codes"):
/// - `08…` connection exception — the server or the network went away;
/// - `23…` integrity constraint violation (`23505` unique, `23514` check, `23503` foreign key);
/// - `40001` serialization failure and `40P01` deadlock — the transaction may simply be run again;
/// - `3D000` invalid catalog name (no such database), `28P01` / `28000` authentication failed.
public struct PostgresError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The five-character SQLSTATE, nil when libpq failed before the server answered.
    public let state: String?
    public let message: String
    public let sql: String?

    public init(state: String?, message: String, sql: String? = nil) {
        self.state = state
        self.message = message
        self.sql = sql
    }

    /// The server or the network went away (class 08, or libpq lost the connection).
    public var isConnectionFailure: Bool { state == nil || state!.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03" }
    /// A UNIQUE, NOT NULL, CHECK or FOREIGN KEY rule was broken (class 23).
    public var isConstraintViolation: Bool { state?.hasPrefix("23") ?? false }
    /// Another transaction's work conflicted with this one; running it again may succeed.
    public var isRetryable: Bool { state == "40001" || state == "40P01" }

    public var description: String {
        let head = state.map { "PostgreSQL error \($0)" } ?? "PostgreSQL connection error"
        if let sql { return "\(head): \(message) [in: \(sql)]" }
        return "\(head): \(message)"
    }
}

/// The column and parameter types the store binds and reads: `pg_type.oid`, fixed since
/// PostgreSQL 7 (the server headers that name them are not part of libpq-dev).
enum PostgresType: Oid {
    case bool = 16, bytea = 17, name = 19, int8 = 20, int2 = 21, int4 = 23, text = 25, oid = 26
    case float4 = 700, float8 = 701, bpchar = 1042, varchar = 1043
    /// What a function returning nothing returns (`pg_notify`, `pg_advisory_xact_lock`).
    case void = 2278
}

/// One connection to a PostgreSQL server through libpq. Like `Database`, not shared between
/// threads: each thread or process opens its own.
///
/// Statements are written with SQLite's `?` parameters (the store's SQL is one text for both
/// stores); they are numbered `$1 … $n` here, outside quoted strings and identifiers. Values
/// travel in binary, never spliced into SQL; results come back in binary and are read into
/// `SQLValue`s by column type (integers, floats, booleans as 0 / 1, text, bytea).
public final class PostgresConnection {
    let handle: OpaquePointer
    /// The connection string with any password left out, for messages.
    public let displayName: String
    /// The advisory lock `writeTransaction` takes: connections writing the same data use the
    /// same key (the store derives it from the workspace's name).
    public var writerLockKey: Int64 = 0
    /// Statements that set the session up (`SET search_path …`, `LISTEN …`), run again when a
    /// lost connection is made anew.
    public var sessionSetup: [String] = []
    /// A statement failed for want of the connection (libpq may still call it "OK" until it
    /// tries again): the next statement connects anew first.
    private var seenLost = false

    /// Connects with a libpq connection string or URI (`postgresql://user@host:port/db`,
    /// `host=/run/postgresql dbname=…`). What the string leaves out comes from libpq's usual
    /// places: `PGHOST`, `PGPASSWORD`, `PGSERVICE`, `~/.pgpass`; TLS as the server and
    /// `sslmode` ask.
    public init(_ connectionString: String) throws(PostgresError) {
        displayName = Self.withoutPassword(connectionString)
        guard let connection = PQconnectdb(connectionString) else {
            throw PostgresError(state: nil, message: "\(displayName): libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(String(cString: PQerrorMessage(connection)))
            PQfinish(connection)
            throw PostgresError(state: nil, message: "\(displayName): \(message)")
        }
        handle = connection
        nc_pg_silence_notices(handle)
    }

    deinit { PQfinish(handle) }

    /// A connection the server or the network dropped is made anew before the next statement
    /// (`PQreset`: the same parameters), and its session set up again; the statement that saw
    /// it drop has already failed, and whether a COMMIT then in flight took effect is for the
    /// caller's own checks to find out. Throws, as a connection failure, when the server
    /// still cannot be reached.
    private func reconnectIfLost() throws(PostgresError) {
        guard seenLost || PQstatus(handle) != CONNECTION_OK else { return }
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PostgresError(state: "08006", message: "\(displayName): the connection was lost and cannot be made again: \(lastMessage)")
        }
        seenLost = false
        nc_pg_silence_notices(handle)
        for statement in sessionSetup {
            guard let result = PQexec(handle, statement) else { throw lostConnection(statement) }
            defer { PQclear(result) }
            try check(result, sql: statement)
        }
    }

    /// Whether libpq still considers the connection usable.
    public var isOpen: Bool { PQstatus(handle) == CONNECTION_OK }

    /// The server's version as a number, e.g. 150018 for 15.18.
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// Runs one or more statements that take no parameters; their rows are dropped.
    public func execute(_ sql: String) throws(PostgresError) {
        try reconnectIfLost()
        guard let result = PQexec(handle, sql) else { throw lostConnection(sql) }
        defer { PQclear(result) }
        try check(result, sql: sql)
    }

    /// Runs one statement with `values` bound to its `?` parameters and returns every row.
    @discardableResult
    public func query(_ sql: String, _ values: [SQLValue] = []) throws(PostgresError) -> [[SQLValue]] {
        let numbered = Self.numberingParameters(sql)
        guard numbered.count == values.count else {
            throw PostgresError(state: "08P01", message: "statement takes \(numbered.count) parameters, \(values.count) given", sql: sql)
        }
        var types: [Oid] = [], lengths: [Int32] = [], formats: [Int32] = []
        var buffers: [[UInt8]?] = []
        for value in values {
            let (type, bytes) = Self.binary(value)
            types.append(type)
            buffers.append(bytes)
            lengths.append(Int32(bytes?.count ?? 0))
            formats.append(1)
        }
        try reconnectIfLost()
        let result: OpaquePointer? = Self.withPointers(to: buffers) { pointers in
            PQexecParams(handle, numbered.sql, Int32(values.count), types, pointers, lengths, formats, 1)
        }
        guard let result else { throw lostConnection(sql) }
        defer { PQclear(result) }
        try check(result, sql: sql)
        return try Self.rows(of: result, sql: sql)
    }

    /// Runs `body` inside `BEGIN … COMMIT`; rolls back if it throws (or the commit fails).
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            // After a lost connection there is nothing to roll back; the server already did.
            if isOpen { try? execute("ROLLBACK") }
            throw error
        }
    }

    // MARK: News from other connections

    /// A `NOTIFY` another connection sent on a channel this one listens to.
    public struct Notification: Equatable, Sendable {
        public var channel: String
        public var payload: String
        /// The server process of the connection that sent it.
        public var senderProcess: Int32
    }

    /// Listens on `channel` (an identifier; quoted here, so any text is safe).
    public func listen(_ channel: String) throws(PostgresError) {
        let statement = "LISTEN " + Self.quotedIdentifier(channel)
        try execute(statement)
        sessionSetup.append(statement)
    }

    /// Waits up to `timeout` seconds for notifications and returns those that arrived (empty
    /// when none did). Blocks this thread in `poll` on the connection's socket — no polling
    /// of the server: a notification wakes it as soon as it is delivered, which PostgreSQL
    /// does when the sending transaction commits.
    public func notifications(waitingUpTo timeout: Double) throws(PostgresError) -> [Notification] {
        var arrived = takeNotifications()
        guard arrived.isEmpty, timeout > 0 else { return arrived }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        guard descriptor.fd >= 0 else { throw lostConnection("LISTEN") }
        let deadline = Self.now() + timeout
        while arrived.isEmpty {
            let left = deadline - Self.now()
            guard left > 0 else { break }
            let ready = poll(&descriptor, 1, Int32(min(left * 1000, 60_000).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            guard ready >= 0 else { throw PostgresError(state: "08006", message: "\(displayName): poll failed (errno \(errno))") }
            if ready == 0 { continue }
            guard PQconsumeInput(handle) == 1 else { throw lostConnection("LISTEN") }
            arrived = takeNotifications()
        }
        return arrived
    }

    private func takeNotifications() -> [Notification] {
        _ = PQconsumeInput(handle)
        var arrived: [Notification] = []
        while let notice = PQnotifies(handle) {
            arrived.append(Notification(channel: String(cString: notice.pointee.relname), payload: String(cString: notice.pointee.extra),
                                        senderProcess: notice.pointee.be_pid))
            PQfreemem(notice)
        }
        return arrived
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// `name` as a quoted SQL identifier: in double quotes, inner double quotes doubled.
    public static func quotedIdentifier(_ name: String) -> String {
        "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    // MARK: libpq's results

    private func check(_ result: OpaquePointer, sql: String) throws(PostgresError) {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY: return
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            let message = primary ?? Self.trimmed(String(cString: PQresultErrorMessage(result)))
            let error = PostgresError(state: state ?? (isOpen ? nil : "08006"), message: message.isEmpty ? lastMessage : message, sql: sql)
            if error.isConnectionFailure { seenLost = true }
            throw error
        }
    }

    private func lostConnection(_ sql: String) -> PostgresError {
        seenLost = true
        return PostgresError(state: "08006", message: "\(displayName): \(lastMessage.isEmpty ? "no answer from the server" : lastMessage)", sql: sql)
    }

    var lastMessage: String { Self.trimmed(String(cString: PQerrorMessage(handle))) }

    static func trimmed(_ text: String) -> String {
        var text = Substring(text)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }

    static func rows(of result: OpaquePointer, sql: String) throws(PostgresError) -> [[SQLValue]] {
        let rowCount = Int(PQntuples(result)), columnCount = Int(PQnfields(result))
        guard columnCount > 0 else { return [] }
        let types = (0..<columnCount).map { PQftype(result, Int32($0)) }
        var rows: [[SQLValue]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [SQLValue] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                let (r, c) = (Int32(row), Int32(column))
                if PQgetisnull(result, r, c) == 1 {
                    values.append(.null)
                    continue
                }
                let length = Int(PQgetlength(result, r, c))
                let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, r, c), count: length)
                guard let value = value(binary: bytes, type: types[column]) else {
                    let name = PQfname(result, c).map { String(cString: $0) } ?? "column \(column + 1)"
                    throw PostgresError(state: "42804", message: "column '\(name)' has a type the store does not read (OID \(types[column])): "
                                        + "cast it to bigint, double precision, text or bytea", sql: sql)
                }
                values.append(value)
            }
            rows.append(values)
        }
        return rows
    }

    /// A binary column value: integers and floats in network byte order, text as UTF-8.
    static func value(binary bytes: UnsafeRawBufferPointer, type: Oid) -> SQLValue? {
        func bigEndian(_ count: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<count { value = value << 8 | UInt64(bytes[i]) }
            return value
        }
        guard let type = PostgresType(rawValue: type) else { return nil }
        switch type {
        case .int8: return bytes.count == 8 ? .integer(Int64(bitPattern: bigEndian(8))) : nil
        case .int4: return bytes.count == 4 ? .integer(Int64(Int32(bitPattern: UInt32(bigEndian(4))))) : nil
        case .int2: return bytes.count == 2 ? .integer(Int64(Int16(bitPattern: UInt16(bigEndian(2))))) : nil
        case .oid: return bytes.count == 4 ? .integer(Int64(UInt32(bigEndian(4)))) : nil
        case .bool: return bytes.count == 1 ? .integer(bytes[0] == 0 ? 0 : 1) : nil
        case .float8: return bytes.count == 8 ? .real(Double(bitPattern: bigEndian(8))) : nil
        case .float4: return bytes.count == 4 ? .real(Double(Float(bitPattern: UInt32(bigEndian(4))))) : nil
        case .text, .varchar, .bpchar, .name: return .text(String(decoding: bytes, as: UTF8.self))
        case .bytea: return .blob(Array(bytes))
        case .void: return .null
        }
    }

    /// A parameter in binary: its type OID (0 for NULL: the server infers it) and its bytes
    /// (nil for NULL).
    static func binary(_ value: SQLValue) -> (Oid, [UInt8]?) {
        func bigEndian(_ bits: UInt64, _ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: bits >> (8 * UInt64(count - 1 - $0))) } }
        switch value {
        case .null: return (0, nil)
        case .integer(let v): return (PostgresType.int8.rawValue, bigEndian(UInt64(bitPattern: v), 8))
        case .real(let v): return (PostgresType.float8.rawValue, bigEndian(v.bitPattern, 8))
        case .text(let v): return (PostgresType.text.rawValue, Array(v.utf8))
        case .blob(let v): return (PostgresType.bytea.rawValue, v)
        }
    }

    /// Calls `body` with C pointers to each buffer (nil for NULL), valid during the call.
    static func withPointers<R>(to buffers: [[UInt8]?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        var pointers: [UnsafePointer<CChar>?] = []
        var allocations: [UnsafeMutablePointer<CChar>] = []
        defer { allocations.forEach { $0.deallocate() } }
        for buffer in buffers {
            guard let buffer else {
                pointers.append(nil)
                continue
            }
            // A zero-length value still needs a non-null pointer: libpq reads NULL as SQL NULL.
            let memory = UnsafeMutablePointer<CChar>.allocate(capacity: max(buffer.count, 1))
            buffer.withUnsafeBytes { UnsafeMutableRawPointer(memory).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(memory), byteCount: buffer.count) }
            allocations.append(memory)
            pointers.append(UnsafePointer(memory))
        }
        return body(pointers)
    }

    // MARK: SQL text

    /// `sql` with each `?` outside single-quoted strings, double-quoted identifiers and
    /// comments replaced by `$1`, `$2`, …, and how many there were.
    static func numberingParameters(_ sql: String) -> (sql: String, count: Int) {
        var out = "", count = 0
        var characters = Array(sql), i = 0
        out.reserveCapacity(characters.count + 8)
        while i < characters.count {
            let c = characters[i]
            if c == "'" || c == "\"" {
                // A quoted run; a doubled quote inside stays inside.
                out.append(c)
                i += 1
                while i < characters.count {
                    out.append(characters[i])
                    if characters[i] == c {
                        if i + 1 < characters.count, characters[i + 1] == c {
                            out.append(c)
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    i += 1
                }
            } else if c == "-", i + 1 < characters.count, characters[i + 1] == "-" {
                while i < characters.count, characters[i] != "\n" { out.append(characters[i]); i += 1 }
            } else if c == "?" {
                count += 1
                out += "$\(count)"
                i += 1
            } else {
                out.append(c)
                i += 1
            }
        }
        characters.removeAll()
        return (out, count)
    }

    /// A connection string or URI with its password replaced by `***`, to name it in messages.
    public static func withoutPassword(_ connectionString: String) -> String {
        let characters = Array(connectionString)
        func find(_ word: String, from start: Int) -> Int? {
            let target = Array(word)
            guard characters.count >= target.count else { return nil }
            var i = start
            while i + target.count <= characters.count {
                if Array(characters[i..<(i + target.count)]) == target { return i }
                i += 1
            }
            return nil
        }
        if let scheme = find("://", from: 0) {
            // postgresql://user:password@host… — the password runs from the first ':' after the
            // scheme to the last '@' before the path.
            let start = scheme + 3
            let end = characters[start...].firstIndex(where: { $0 == "/" || $0 == "?" }) ?? characters.count
            guard let at = characters[start..<end].lastIndex(of: "@"),
                  let colon = characters[start..<at].firstIndex(of: ":") else { return connectionString }
            return String(characters[..<(colon + 1)]) + "***" + String(characters[at...])
        }
        // key=value pairs: the value of password=…, quoted or not.
        var out = "", index = 0
        while let found = find("password", from: index) {
            out += String(characters[index..<found])
            var cursor = found + 8
            while cursor < characters.count, characters[cursor] == " " { cursor += 1 }
            guard cursor < characters.count, characters[cursor] == "=" else {
                out += "password"
                index = found + 8
                continue
            }
            cursor += 1
            while cursor < characters.count, characters[cursor] == " " { cursor += 1 }
            if cursor < characters.count, characters[cursor] == "'" {
                cursor += 1
                while cursor < characters.count, characters[cursor] != "'" { cursor += characters[cursor] == "\\" ? 2 : 1 }
                cursor = min(cursor + 1, characters.count)
            } else {
                while cursor < characters.count, characters[cursor] != " " { cursor += 1 }
            }
            out += "password=***"
            index = cursor
        }
        return out + String(characters[min(index, characters.count)...])
    }
}
