import FileAccess
import Foundation

/// Where a workspace lives, as a person writes it on the command line: a folder (the embedded
/// SQLite store) or a PostgreSQL URL naming the workspace on a server,
/// `postgresql://USER@HOST:PORT/DB?workspace=NAME` (`postgres://` too, libpq's other spelling).
/// Any other libpq parameter may stay in the URL (`sslmode=require`, `connect_timeout=5`);
/// credentials come from where libpq users keep them (`~/.pgpass`, `PGPASSWORD`, `PGSERVICE`)
/// and are never printed.
public enum WorkspaceAddress: Equatable, Sendable, CustomStringConvertible {
    case folder(String)
    /// `connection`: the URL as libpq takes it (without `workspace=`, which libpq would refuse
    /// as unknown); `name`: the workspace on that server.
    case server(connection: String, name: String)

    /// Reads an address; a malformed server address is refused with what is wrong, a folder
    /// path is taken as it is (whether it is a workspace is for the opener to say).
    public init(parsing text: String) throws {
        let schemes = ["postgresql://", "postgres://"]
        guard let scheme = schemes.first(where: { text.hasPrefix($0) }) else {
            // A URL of another scheme (a typo such as postgressql://) is not a folder either.
            if let colon = text.range(of: "://"), !text[..<colon.lowerBound].contains("/") {
                throw WorkspaceError(text, "is not a folder or a PostgreSQL address: a server workspace is "
                                     + "postgresql://USER@HOST:PORT/DATABASE?workspace=NAME")
            }
            self = .folder(text)
            return
        }
        let display = Self.shown(text)
        let (base, query) = text.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            .map(String.init).splitFirst()
        var kept: [String] = [], name: String? = nil
        for pair in (query ?? "").split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if parts[0] == "workspace" {
                guard name == nil else { throw WorkspaceError(display, "names the workspace twice") }
                name = parts.count > 1 ? Self.percentDecoded(parts[1]) : ""
            } else {
                kept.append(String(pair))
            }
        }
        guard let name, !name.isEmpty else {
            throw WorkspaceError(display, "names no workspace: add ?workspace=NAME (the workspace on that server)")
        }
        _ = try WorkspaceSchema.postgreSQLSchemaName(name)
        let afterScheme = base.dropFirst(scheme.count)
        guard let slash = afterScheme.firstIndex(of: "/"), !afterScheme[afterScheme.index(after: slash)...].isEmpty else {
            throw WorkspaceError(display, "names no database: postgresql://USER@HOST:PORT/DATABASE?workspace=NAME")
        }
        self = .server(connection: base + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&")), name: name)
    }

    /// The address as `Workspace(opening:)` takes it: what another connection of this process
    /// (a worker thread's) opens the same workspace with.
    public var text: String {
        switch self {
        case .folder(let path): path
        case .server(let connection, let name): connection + (connection.contains("?") ? "&" : "?") + "workspace=" + name
        }
    }

    /// Whether `text` names a workspace rather than a file: a folder, or a server address.
    public static func namesWorkspace(_ text: String) -> Bool {
        switch try? WorkspaceAddress(parsing: text) {
        case .server?: true
        case .folder(let path)?: BinaryFile.isDirectory(path)
        case nil: false
        }
    }

    /// How the address is named in messages: a server's URL with any password as `***`.
    public var description: String {
        switch self {
        case .folder(let path): path
        case .server(let connection, let name): "workspace '\(name)' on \(Self.shown(connection))"
        }
    }

    /// `text` with any password replaced by `***` (`PostgresConnection.withoutPassword`).
    static func shown(_ text: String) -> String { WorkspaceStore.withoutPassword(text) }

    /// `%XX` escapes decoded (a workspace name is plain, but a person may type %2D for '-').
    static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = [], utf8 = Array(text.utf8), i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count, let value = UInt8(String(decoding: utf8[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                bytes.append(value)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

private extension Array where Element == String {
    /// The first element and the second, if any.
    func splitFirst() -> (String, String?) { (self[0], count > 1 ? self[1] : nil) }
}
