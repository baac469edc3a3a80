@testable import Storage
import Testing
import TestSupport

/// The PostgreSQL connection against a real server (a throwaway cluster the tests start):
/// values in and out unchanged, `?` parameters, typed errors with their SQLSTATE,
/// transactions, and passwords never shown.
@Suite struct PostgreSQLTests {
    func connect(_ label: String) throws -> PostgresConnection {
        let server = try PostgresTestServer.shared()
        return try PostgresConnection(try server.freshDatabase(label))
    }

    @Test func boundValuesComeBackUnchanged() throws {
        let db = try connect("values")
        try db.execute("CREATE TABLE t (i BIGINT, r DOUBLE PRECISION, s TEXT, b BYTEA, n TEXT)")
        let nasty = "x'); DROP TABLE t; -- ? Grüße ✓"
        var large = [UInt8](repeating: 0, count: 1 << 20)
        for i in large.indices { large[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
        let rows: [[SQLValue]] = [
            [.integer(42), .real(0.5), .text(nasty), .blob([0, 255, 7]), .null],
            [.integer(.min), .real(-0.0), .text(""), .blob([]), .text("not null")],
            [.integer(.max), .real(1e300), .text("'quoted' \"double\""), .blob(large), .null],
        ]
        for row in rows { try db.query("INSERT INTO t VALUES (?, ?, ?, ?, ?)", row) }
        let back = try db.query("SELECT i, r, s, b, n FROM t ORDER BY i")
        #expect(back.count == 3)
        #expect(back == [rows[1], rows[0], rows[2]])
        // -0.0 keeps its sign bit; the server did not turn it into text and back.
        if case .real(let zero) = back[0][1] { #expect(zero.sign == .minus) }
        // The server's own types read as the store's values.
        #expect(try db.query("SELECT 7::smallint, 8::int, true, 2.5::real, 'v'::varchar, NULL::bigint")
                == [[.integer(7), .integer(8), .integer(1), .real(2.5), .text("v"), .null]])
        // A '?' inside a string literal is text, not a parameter.
        #expect(try db.query("SELECT '?' || ?", [.text("!")]) == [[.text("?!")]])
    }

    @Test func parametersAreNumberedOutsideQuotesAndComments() {
        let sql = "SELECT '?', \"a?\", ? -- what?\n, 'it''s ?', ?"
        let numbered = PostgresConnection.numberingParameters(sql)
        #expect(numbered.sql == "SELECT '?', \"a?\", $1 -- what?\n, 'it''s ?', $2")
        #expect(numbered.count == 2)
    }

    @Test func errorsAreTypedWithTheirSQLState() throws {
        let db = try connect("errors")
        try db.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE CHECK (name <> ''))")
        try db.query("INSERT INTO t VALUES (?, ?)", [.integer(1), .text("a")])
        func failure(_ body: () throws -> Void) -> PostgresError? {
            do { try body() } catch let error as PostgresError { return error } catch { Issue.record("untyped \(error)") }
            return nil
        }
        let duplicate = failure { try db.query("INSERT INTO t VALUES (?, ?)", [.integer(2), .text("a")]) }
        #expect(duplicate?.state == "23505" && duplicate?.isConstraintViolation == true)
        #expect(duplicate?.sql == "INSERT INTO t VALUES (?, ?)")
        let empty = failure { try db.query("INSERT INTO t VALUES (?, ?)", [.integer(3), .text("")]) }
        #expect(empty?.state == "23514")
        let syntax = failure { try db.execute("SELEC 1") }
        #expect(syntax?.state == "42601" && syntax?.isConstraintViolation == false)
        #expect(syntax?.description.contains("syntax error") == true)
        let count = failure { try db.query("SELECT ?, ?", [.integer(1)]) }
        #expect(count?.message == "statement takes 2 parameters, 1 given")
        // The connection is still good after every failure.
        #expect(try db.query("SELECT count(*) FROM t") == [[.integer(1)]])
    }

    @Test func aTransactionCommitsAllOrNothing() throws {
        let db = try connect("transactions")
        try db.execute("CREATE TABLE t (v BIGINT)")
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try db.transaction {
                try db.query("INSERT INTO t VALUES (1)")
                throw Stop()
            }
        }
        try db.transaction { try db.query("INSERT INTO t VALUES (2)") }
        #expect(throws: PostgresError.self) {
            try db.transaction {
                try db.query("INSERT INTO t VALUES (3)")
                try db.query("INSERT INTO nowhere VALUES (4)")
            }
        }
        #expect(try db.query("SELECT v FROM t") == [[.integer(2)]])
    }

    @Test func aServerThatCannotBeReachedIsNamedWithoutItsPassword() throws {
        let server = try PostgresTestServer.shared()
        do {
            _ = try PostgresConnection(server.connectionString(database: "no_such_database") + " password=s3cret")
            Issue.record("connected to a database that does not exist")
        } catch {
            #expect(error.isConnectionFailure)
            #expect(error.message.contains("no_such_database"))
            #expect(!error.message.contains("s3cret") && error.message.contains("password=***"))
        }
        do {
            _ = try PostgresConnection("host=/nonexistent-socket-folder port=1 user=x dbname=y connect_timeout=2")
            Issue.record("connected to no server")
        } catch {
            #expect(error.isConnectionFailure && error.message.contains("/nonexistent-socket-folder"))
        }
        #expect(PostgresConnection.withoutPassword("postgresql://ann:pa:ss@db.plant:5432/inspection?workspace=w")
                == "postgresql://ann:***@db.plant:5432/inspection?workspace=w")
        #expect(PostgresConnection.withoutPassword("postgresql://ann@db.plant/inspection") == "postgresql://ann@db.plant/inspection")
        #expect(PostgresConnection.withoutPassword("host=db password = 'a b\\'c' user=ann") == "host=db password=*** user=ann")
    }
}

/// A server that goes away: a connection says so with a connection failure, and after the
/// server is back, what was committed is there and what was not is not.
@Suite struct PostgreSQLRestartTests {
    @Test func whatWasCommittedSurvivesAnAbruptRestart() throws {
        let server = try PostgresTestServer.own()
        defer { server.stop() }
        let database = server.connectionString()
        let writer = try PostgresConnection(database), other = try PostgresConnection(database)
        try writer.execute("CREATE TABLE answers (id BIGINT PRIMARY KEY, part TEXT NOT NULL)")
        try writer.transaction { try writer.query("INSERT INTO answers VALUES (?, ?)", [.integer(1), .text("weld_0098.png")]) }
        // Begun and never committed when the server stops.
        try other.execute("BEGIN")
        try other.query("INSERT INTO answers VALUES (?, ?)", [.integer(2), .text("weld_0099.png")])
        try server.restart()
        do {
            try writer.query("SELECT count(*) FROM answers")
            Issue.record("a connection to a stopped server answered")
        } catch {
            #expect((error as? PostgresError)?.isConnectionFailure == true, "\(error)")
        }
        let after = try PostgresConnection(database)
        #expect(try after.query("SELECT id, part FROM answers ORDER BY id") == [[.integer(1), .text("weld_0098.png")]])
        // The connection that saw the server go is made anew at its next statement, its
        // session set up again.
        #expect(try writer.query("SELECT count(*) FROM answers") == [[.integer(1)]])
    }

    @Test func aLostConnectionComesBackWithItsSession() throws {
        let server = try PostgresTestServer.own()
        defer { server.stop() }
        let connection = try PostgresConnection(server.connectionString())
        try connection.execute("CREATE SCHEMA line; CREATE TABLE line.parts (name TEXT)")
        connection.sessionSetup = ["SET search_path TO line"]
        try connection.execute("SET search_path TO line")
        try connection.listen("line")
        try server.restart()
        #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
        try connection.query("INSERT INTO parts VALUES (?)", [.text("weld_0001.png")])
        #expect(try PostgresConnection(server.connectionString()).query("SELECT name FROM line.parts") == [[.text("weld_0001.png")]])
        try PostgresConnection(server.connectionString()).query("SELECT pg_notify('line', 'back')")
        #expect(try connection.notifications(waitingUpTo: 5).map(\.payload) == ["back"])
        server.stop()
        // The first statement finds the server gone; the next tries to connect anew, and says
        // it cannot.
        #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
        do {
            try connection.query("SELECT 1")
            Issue.record("a stopped server answered")
        } catch {
            #expect("\(error)".contains("cannot be made again"), "\(error)")
        }
    }
}

/// News between connections: a listener hears a commit's NOTIFY at once, and not before the
/// commit.
@Suite struct PostgreSQLNewsTests {
    @Test func aListenerHearsACommittedNotifyAtOnce() throws {
        let server = try PostgresTestServer.shared()
        let database = try server.freshDatabase("news")
        let listener = try PostgresConnection(database), sender = try PostgresConnection(database)
        try listener.listen("news of line \"3\"")
        #expect(try listener.notifications(waitingUpTo: 0.05).isEmpty)
        try sender.execute("BEGIN")
        try sender.query("SELECT pg_notify(?, ?)", [.text("news of line \"3\""), .text("round 4")])
        // Not delivered while the transaction is open.
        #expect(try listener.notifications(waitingUpTo: 0.2).isEmpty)
        try sender.execute("COMMIT")
        let start = ContinuousClock.now
        let heard = try listener.notifications(waitingUpTo: 5)
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(heard.map(\.channel) == ["news of line \"3\""] && heard.map(\.payload) == ["round 4"])
    }
}
