import FileAccess
import Foundation

/// What `migrate` copied, checked against the copy.
public struct MigrationSummary: Sendable {
    /// Rows per table, as found in the copy (equal to the original's, or `migrate` throws).
    public var rows: [String: Int]
    /// The workspace files copied (checkpoints, round 0 and its scores, refutation images).
    public var files: Int
    public var bytes: Int
}

extension Workspace {
    /// The files a copy of this workspace needs, relative to it: every round's checkpoint,
    /// round 0 and its anomaly scores, and the refutations' images and masks — those that exist.
    /// (Pool caches are made again from the checkpoints; an unfinished pretraining run stays
    /// with the station that ran it.)
    func filesToCopy() throws -> [String] {
        var files = try rounds().map(\.checkpoint)
        files += ["models/round-000.safetensors", "models/anomaly-scores.csv"]
        for item in try store.items(in: .train, labelledOnly: false) where item.origin == .refutation {
            files.append(item.path)
            if let mask = item.truthMaskPath { files.append(mask) }
        }
        var seen = Set<String>()
        return files.filter { seen.insert($0).inserted && BinaryFile.exists("\(path)/\($0)") }
    }

    /// Copies this workspace — its rows and its files — to a new workspace at `address` (a
    /// folder, or a server address), in one transaction on a server and through a temporary
    /// database renamed into place in a folder, so a failure leaves no half-made workspace;
    /// then opens the copy and checks that every table holds as many rows as here.
    public func migrate(to address: String) throws -> MigrationSummary {
        let target = try WorkspaceAddress(parsing: address)
        let files = try filesToCopy()
        var bytes = 0
        let original = try store.rowCounts()
        switch target {
        case .server(let connection, let name):
            _ = try WorkspaceStore(server: connection, workspace: name, creating: true) { copy in
                _ = try self.store.copyRows(into: copy)
                for file in files {
                    let content = try BinaryFile.read("\(self.path)/\(file)")
                    try copy.putFile(file, bytes: content)
                    bytes += content.count
                }
            }
        case .folder(let folder):
            let file = "\(folder)/\(Self.databaseName)"
            guard !BinaryFile.exists(file) else { throw WorkspaceError(folder, "already a workspace; choose another folder") }
            let temporary = "\(file).migrating-\(getpid())"
            let removeTemporary = { for suffix in ["", "-wal", "-shm"] { try? BinaryFile.remove(temporary + suffix) } }
            do {
                try BinaryFile.createDirectory("\(folder)/models")
                for relative in files {
                    let content = try BinaryFile.read("\(path)/\(relative)")
                    let destination = "\(folder)/\(relative)"
                    if let slash = destination.lastIndex(of: "/") { try BinaryFile.createDirectory(String(destination[..<slash])) }
                    try BinaryFile.writeAtomically(content, to: destination)
                    bytes += content.count
                }
                let copy = try WorkspaceStore(opening: temporary, workspacePath: folder)
                try copy.transaction { _ = try self.store.copyRows(into: copy) }
                try copy.checkpointLog()
            } catch {
                removeTemporary()
                throw error
            }
            for suffix in ["-wal", "-shm"] { try? BinaryFile.remove(temporary + suffix) }
            try BinaryFile.move(temporary, to: file)
        }
        let copied = try Workspace(opening: address)
        let found = try copied.store.rowCounts()
        guard found == original else {
            let differing = original.keys.sorted().filter { original[$0] != found[$0] }
                .map { "\($0): \(original[$0] ?? 0) here, \(found[$0] ?? 0) there" }.joined(separator: "; ")
            throw WorkspaceError(copied.name, "the copy does not hold what was copied (\(differing))")
        }
        let copiedFiles = try copied.filesToCopy()
        guard copiedFiles == files else {
            throw WorkspaceError(copied.name, "the copy lacks files: \(Set(files).subtracting(copiedFiles).sorted().joined(separator: ", "))")
        }
        return MigrationSummary(rows: found, files: files.count, bytes: bytes)
    }
}
