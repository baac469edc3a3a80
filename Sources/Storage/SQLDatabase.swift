/// Which SQL a connection speaks, where the store's statements must differ (its schema,
/// aggregate names, the few settings each engine keeps outside tables).
public enum SQLDialect: Sendable {
    case sqlite
    case postgresql
}

/// What the workspace store needs of a database connection: SQLite's embedded file
/// (`Database`) or a PostgreSQL server (`PostgresConnection`). Statements use `?` parameters
/// and the SQL both engines share (`INSERT … ON CONFLICT`, `RETURNING`, `IS DISTINCT FROM`).
public protocol SQLDatabase: AnyObject {
    var dialect: SQLDialect { get }
    /// Runs statements that take no parameters.
    func execute(_ sql: String) throws
    /// Runs one statement with `values` bound to its `?` parameters and returns every row.
    @discardableResult
    func query(_ sql: String, _ values: [SQLValue]) throws -> [[SQLValue]]
    /// Runs `body` in a transaction that will write: all of it is committed, or none. Writers
    /// take their turn one at a time from the start of the transaction (SQLite: `BEGIN
    /// IMMEDIATE`; PostgreSQL: a transaction-scoped advisory lock), so what a writer read
    /// inside it is still true when it commits — the rules "one answer per part" and "a round
    /// goes live only while the round it was compared with is in use" rest on that.
    @discardableResult
    func writeTransaction<T>(_ body: () throws -> T) throws -> T
    /// Whether `error` means another writer held the database past the wait, so the whole
    /// transaction may be run again.
    func isBusy(_ error: any Error) -> Bool
}

extension SQLDatabase {
    @discardableResult
    public func query(_ sql: String) throws -> [[SQLValue]] { try query(sql, []) }
}

extension Database: SQLDatabase {
    public var dialect: SQLDialect { .sqlite }

    @discardableResult
    public func writeTransaction<T>(_ body: () throws -> T) throws -> T { try transaction(body) }

    public func isBusy(_ error: any Error) -> Bool { (error as? SQLiteError)?.isBusy ?? false }
}

extension PostgresConnection: SQLDatabase {
    public var dialect: SQLDialect { .postgresql }

    @discardableResult
    public func writeTransaction<T>(_ body: () throws -> T) throws -> T {
        try transaction {
            // Held until COMMIT or ROLLBACK: the writers of one workspace queue here.
            try query("SELECT pg_advisory_xact_lock(?)", [.integer(writerLockKey)])
            return try body()
        }
    }

    public func isBusy(_ error: any Error) -> Bool { (error as? PostgresError)?.isRetryable ?? false }
}
