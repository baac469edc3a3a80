#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster for the tests that need a server: `initdb` into a fresh
/// folder under /tmp, the server listening on a Unix socket in that folder only (no TCP
/// port, so nothing collides with a server already running), trust authentication for the
/// one user it creates. One per test process, started at first use and stopped — folder
/// removed — when the process exits; a cluster left by a test process that was killed is
/// stopped and removed by the next one.
///
/// PostgreSQL refuses to run as root (CI's container runs as root): the cluster then belongs
/// to the `postgres` user Debian's package creates, and its commands run through `runuser`.
public final class PostgresTestServer: @unchecked Sendable {
    /// The folder holding the cluster (`data/`) and the socket.
    public let folder: String
    public let user = "nearcaipi"
    public let port = 5432
    private var databaseCount = 0
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    /// The process's server; a failure to start it is reported by `shared()`.
    private static let started: Result<PostgresTestServer, PostgresTestServerError> = {
        do throws(PostgresTestServerError) { return .success(try PostgresTestServer()) } catch { return .failure(error) }
    }()

    /// The server of this test process, started at the first call.
    public static func shared() throws(PostgresTestServerError) -> PostgresTestServer { try started.get() }

    /// A server of its own, for a test that stops or restarts it (the shared one serves tests
    /// running beside it); `stop()` ends it, and the process's exit does if the test cannot.
    public static func own() throws(PostgresTestServerError) -> PostgresTestServer { try PostgresTestServer() }

    /// A libpq connection string for `database` on this server.
    public func connectionString(database: String = "postgres") -> String {
        "host=\(folder) port=\(port) user=\(user) dbname=\(database)"
    }

    /// A URL for `database` on this server, as a person would give one to `nearcaipi`
    /// (`postgresql:///DB?host=SOCKET-FOLDER&port=…&user=…`), with `workspace=NAME` when given.
    public func url(database: String, workspace: String? = nil) -> String {
        "postgresql:///\(database)?host=\(folder)&port=\(port)&user=\(user)" + (workspace.map { "&workspace=\($0)" } ?? "")
    }

    /// A new, empty database of its own for one test, and its name.
    public func freshDatabaseName(_ label: String = "test") throws(PostgresTestServerError) -> String {
        pthread_mutex_lock(lock)
        databaseCount += 1
        let name = "\(label.lowercased().filter { $0.isLetter || $0.isNumber })_\(databaseCount)"
        pthread_mutex_unlock(lock)
        try run(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-h", folder, "-p", "\(port)", "-U", user, "-d", "postgres",
                 "-c", "CREATE DATABASE \(name)"])
        return name
    }

    /// Runs `sql` in `database` through `psql`, as a person administering the server would
    /// (a test that changes what no NearCAIPI command changes, e.g. a schema version).
    public func execute(_ sql: String, database: String) throws(PostgresTestServerError) {
        try run(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-h", folder, "-p", "\(port)", "-U", user, "-d", database, "-c", sql])
    }

    /// A new, empty database of its own for one test, and its connection string.
    public func freshDatabase(_ label: String = "test") throws(PostgresTestServerError) -> String {
        connectionString(database: try freshDatabaseName(label))
    }

    private init() throws(PostgresTestServerError) {
        Self.removeAbandonedClusters()
        guard let bin = Self.binaries() else {
            throw PostgresTestServerError("no PostgreSQL server programs under /usr/lib/postgresql/*/bin: 'make setup' installs "
                                          + "Debian's postgresql package")
        }
        binaries = bin
        var template = Array("/tmp/nearcaipi-postgres-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw PostgresTestServerError("cannot make a folder under /tmp")
        }
        folder = String(cString: made)
        pthread_mutex_init(lock, nil)
        // The owner's process number, so that a later run can tell an abandoned cluster.
        _ = system("echo \(getpid()) > '\(folder)/owner'")
        if getuid() == 0 {
            guard system("chown postgres:postgres '\(folder)' 2>/dev/null") == 0 else {
                throw PostgresTestServerError("running as root, and the 'postgres' user cannot own \(folder): PostgreSQL refuses to "
                                              + "run as root; 'make setup' installs Debian's postgresql package, which creates that user")
            }
        }
        try run(["initdb", "-D", folder + "/data", "-U", user, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        try start()
        Self.register(self)
    }

    private let binaries: String
    nonisolated(unsafe) private static var live: [PostgresTestServer] = []
    nonisolated(unsafe) private static var registry = pthread_mutex_t()

    /// Remembers `server` for the exit handler, installed with the first.
    private static func register(_ server: PostgresTestServer) {
        pthread_mutex_lock(&registry)
        if live.isEmpty { atexit { for server in PostgresTestServer.live { server.stop() } } }
        live.append(server)
        pthread_mutex_unlock(&registry)
    }

    /// Stops the server at once (as a crash or a pulled plug would) and starts it again on the
    /// same folder: what survives is what was committed.
    public func restart() throws(PostgresTestServerError) {
        try run(["pg_ctl", "-D", folder + "/data", "-m", "immediate", "-w", "stop"])
        try start()
    }

    private func start() throws(PostgresTestServerError) {
        try run(["pg_ctl", "-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60",
                 "-o", "-k \(folder) -c listen_addresses='' -p \(port) -c max_connections=200", "start"])
    }

    /// Stops the server and removes its folder (again: nothing).
    public func stop() {
        guard access(folder, F_OK) == 0 else { return }
        _ = try? run(["pg_ctl", "-D", folder + "/data", "-m", "immediate", "-w", "stop"])
        _ = system("rm -rf '\(folder)'")
    }

    /// Runs one of the server's programs (as `postgres` when this process is root), its output
    /// kept for the error.
    private func run(_ arguments: [String]) throws(PostgresTestServerError) {
        var command = arguments
        command[0] = binaries + "/" + command[0]
        if getuid() == 0 { command = ["runuser", "-u", "postgres", "--"] + command }
        let quoted = command.map { "'" + $0.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'" }
        let output = folder.isEmpty ? "/dev/null" : folder + "/commands.log"
        let status = system(quoted.joined(separator: " ") + " >> '\(output)' 2>&1 </dev/null")
        guard status == 0 else {
            let log = (try? readTextFile(output)) ?? ""
            throw PostgresTestServerError("\(arguments[0]) failed (status \(status)): \(log.suffix(600))")
        }
    }

    /// The newest `/usr/lib/postgresql/N/bin` with `initdb` in it.
    static func binaries() -> String? {
        guard let directory = opendir("/usr/lib/postgresql") else { return nil }
        defer { closedir(directory) }
        var versions: [Int] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let version = Int(name), access("/usr/lib/postgresql/\(name)/bin/initdb", X_OK) == 0 { versions.append(version) }
        }
        return versions.max().map { "/usr/lib/postgresql/\($0)/bin" }
    }

    /// Stops and removes clusters whose owning test process is gone (killed before its exit
    /// handler ran).
    static func removeAbandonedClusters() {
        guard let directory = opendir("/tmp") else { return }
        var abandoned: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix("nearcaipi-postgres-") else { continue }
            let folder = "/tmp/" + name
            guard let text = try? readTextFile(folder + "/owner"),
                  let owner = Int32(text.filter(\.isNumber)), kill(owner, 0) != 0, errno == ESRCH else { continue }
            abandoned.append(folder)
        }
        closedir(directory)
        guard let bin = binaries() else { return }
        for folder in abandoned {
            let stop = "'\(bin)/pg_ctl' -D '\(folder)/data' -m immediate -w stop >/dev/null 2>&1 </dev/null"
            _ = system(getuid() == 0 ? "runuser -u postgres -- \(stop)" : stop)
            _ = system("rm -rf '\(folder)'")
        }
    }
}

public struct PostgresTestServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A small text file's contents (no Foundation in the test support).
func readTextFile(_ path: String) throws -> String {
    guard let file = fopen(path, "r") else { throw PostgresTestServerError("cannot read \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
