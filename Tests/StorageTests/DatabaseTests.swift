import Storage
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct DatabaseTests {
    func scratch() -> String {
        var template = Array("/tmp/nearcaipi-db-XXXXXX".utf8CString)
        return String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
    }

    @Test func boundValuesRoundTripAndSurviveReopening() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        let path = "\(directory)/w.sqlite"
        do {
            let db = try Database(path: path)
            try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
            // A value with a quote and SQL in it goes in as data, not as SQL.
            let nasty = "x'); DROP TABLE t; --"
            try db.query("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                         [.integer(42), .real(0.5), .text(nasty), .blob([0, 255, 7]), .null])
            #expect(db.lastInsertRowID == 1 && db.changes == 1)
        }
        let reopened = try Database(path: path)
        let rows = try reopened.query("SELECT i, r, s, b, n FROM t")
        #expect(rows == [[.integer(42), .real(0.5), .text("x'); DROP TABLE t; --"), .blob([0, 255, 7]), .null]])
        #expect(try reopened.query("PRAGMA journal_mode") == [[.text("wal")]])
    }

    @Test func errorsAreTypedWithTheirMeaning() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        let db = try Database(path: "\(directory)/w.sqlite")
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
        try db.query("INSERT INTO t (name) VALUES (?)", [.text("a")])
        do {
            try db.query("INSERT INTO t (name) VALUES (?)", [.text("a")])
            Issue.record("duplicate accepted")
        } catch {
            #expect(error.isConstraintViolation)
            #expect(error.description.contains("UNIQUE"))
        }
        #expect(throws: SQLiteError.self) { try db.prepare("SELEC nonsense") }
        #expect(throws: SQLiteError.self) { try db.query("SELECT ?", []) }  // parameter count
    }

    @Test func transactionRollsBackOnError() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        let db = try Database(path: "\(directory)/w.sqlite")
        try db.execute("CREATE TABLE t (v INTEGER)")
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try db.transaction {
                try db.query("INSERT INTO t VALUES (1)")
                throw Abort()
            }
        }
        #expect(try db.query("SELECT count(*) FROM t") == [[.integer(0)]])
    }

    @Test func aFileThatIsNotADatabaseIsRefused() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        let path = "\(directory)/junk.sqlite"
        let file = fopen(path, "w")!
        fputs(String(repeating: "this is not a database ", count: 100), file)
        fclose(file)
        do {
            _ = try Database(path: path)
            Issue.record("junk opened as a database")
        } catch {
            #expect(error.isCorruptDatabase)
        }
    }
}
