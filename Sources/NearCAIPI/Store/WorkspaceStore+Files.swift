import Foundation
internal import Storage

/// A file a server workspace keeps in its store, as the store describes it.
struct StoredFile: Equatable {
    /// Relative to the workspace, as on a folder workspace (`models/round-003.safetensors`).
    var path: String
    /// FNV-1a 64 of the bytes (`Workspace.fnv1a`): what a station's cached copy is checked by.
    var contentHash: String
    var size: Int
}

/// The files of a workspace on a server — checkpoints, pool caches, refutation images,
/// round 0 and its scores — kept in the store itself, so that stations share nothing but the
/// server and the data set's image folder. Each file is a row of `files` and its bytes rows of
/// `file_chunks` of at most `chunkSize` bytes (PostgreSQL's `bytea` travels whole: chunks keep
/// a large checkpoint from being one value of hundreds of megabytes in the client's memory at
/// once). Written inside the caller's transaction, so a file and the rows that refer to it
/// commit together. A folder workspace keeps its files in its folder; these calls refuse it.
extension WorkspaceStore {
    static let chunkSize = 4 << 20

    private func refuseUnlessServer() throws {
        guard database.dialect == .postgresql else {
            throw WorkspaceError(workspacePath, "keeps its files in its folder, not in the store")
        }
    }

    /// Writes (or replaces) the file at `path` with `bytes`. Call inside a write transaction.
    func putFile(_ path: String, bytes: [UInt8]) throws {
        try refuseUnlessServer()
        try database.query("DELETE FROM file_chunks WHERE path = ?", [.text(path)])
        try database.query("""
            INSERT INTO files (path, content_hash, size, written) VALUES (?, ?, ?, ?)
            ON CONFLICT (path) DO UPDATE SET content_hash = excluded.content_hash, size = excluded.size, written = excluded.written
            """, [.text(path), .text(Workspace.fnv1a(bytes)), .integer(Int64(bytes.count)),
                  .text(ISO8601DateFormatter().string(from: Date()))])
        var offset = 0, chunk: Int64 = 0
        repeat {
            let end = min(offset + Self.chunkSize, bytes.count)
            try database.query("INSERT INTO file_chunks (path, chunk, bytes) VALUES (?, ?, ?)",
                               [.text(path), .integer(chunk), .blob(Array(bytes[offset..<end]))])
            offset = end
            chunk += 1
        } while offset < bytes.count
    }

    /// What the store holds at `path`, without its bytes; nil when it holds nothing there.
    func storedFile(_ path: String) throws -> StoredFile? {
        try refuseUnlessServer()
        return try database.query("SELECT path, content_hash, size FROM files WHERE path = ?", [.text(path)]).first.flatMap(Self.storedFile)
    }

    /// Every stored file whose path begins with `prefix`, by path.
    func storedFiles(under prefix: String = "") throws -> [StoredFile] {
        try refuseUnlessServer()
        return try database.query("SELECT path, content_hash, size FROM files WHERE starts_with(path, ?) ORDER BY path", [.text(prefix)])
            .compactMap(Self.storedFile)
    }

    /// The bytes of the file at `path`, checked against its recorded size and hash; nil when
    /// the store holds no such file.
    func fileBytes(_ path: String) throws -> [UInt8]? {
        guard let file = try storedFile(path) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(file.size)
        for row in try database.query("SELECT bytes FROM file_chunks WHERE path = ? ORDER BY chunk", [.text(path)]) {
            bytes += row[0].blobValue ?? []
        }
        guard bytes.count == file.size, Workspace.fnv1a(bytes) == file.contentHash else {
            throw WorkspaceError(workspacePath, "the stored file \(path) does not match its record (\(bytes.count) of \(file.size) bytes, "
                                 + "hash \(Workspace.fnv1a(bytes)) for \(file.contentHash))")
        }
        return bytes
    }

    /// Removes the file at `path` (nothing when there is none). Call inside a write transaction.
    func removeFile(_ path: String) throws {
        try refuseUnlessServer()
        try database.query("DELETE FROM files WHERE path = ?", [.text(path)])
    }

    private static func storedFile(_ row: [SQLValue]) -> StoredFile? {
        guard let path = row[0].textValue, let hash = row[1].textValue, let size = row[2].integerValue else { return nil }
        return StoredFile(path: path, contentHash: hash, size: Int(size))
    }
}
