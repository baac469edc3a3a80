import FileAccess
import Foundation

/// The files of a server workspace on one station. The store holds them (`WorkspaceStore`'s
/// files); each station keeps copies in its own folder of the workspace, so checkpoints load
/// and images read as from a folder workspace. A station writes a file in its folder and
/// stores it in the same transaction as the rows that refer to it; it copies in what others
/// stored when it opens the workspace and whenever it reads the rounds. Its folder is a cache:
/// `station-files.json` records the content hash of each copy it made, deleting the folder
/// loses nothing, and files only this station uses (pool caches, answers it could not store,
/// exports) stay there.
extension Workspace {
    static let stationManifestName = "station-files.json"

    /// This station's folder of the server workspace `name` at `connection`:
    /// `NEARCAIPI_STATION_FOLDER`, else `$XDG_CACHE_HOME/nearcaipi`, else `~/.cache/nearcaipi`,
    /// then one folder per server and workspace.
    static func stationFolder(connection: String, name: String) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        func given(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        let root: String
        if let folder = given("NEARCAIPI_STATION_FOLDER") {
            root = folder
        } else if let cache = given("XDG_CACHE_HOME") {
            root = cache + "/nearcaipi"
        } else if let home = given("HOME") {
            root = home + "/.cache/nearcaipi"
        } else {
            root = "/tmp/nearcaipi-\(getuid())"
        }
        let server = String(fnv1a(Array((WorkspaceAddress.shown(connection) + "|" + name).utf8)).prefix(10))
        let folder = "\(root)/\(name)-\(server)"
        do {
            try BinaryFile.createDirectory(folder + "/models")
        } catch {
            throw WorkspaceError(folder, "cannot make this station's folder of the workspace: \(error)")
        }
        return folder
    }

    /// Copies in every file the store holds that this station has not got, or has in another
    /// version, and removes the copies of files the store no longer holds. Nothing on a folder
    /// workspace.
    func syncStoredFiles() throws {
        guard isOnServer else { return }
        let stored = try store.storedFiles()
        var manifest = stationManifest()
        let before = manifest
        for file in stored where manifest[file.path] != file.contentHash || !BinaryFile.exists("\(path)/\(file.path)") {
            guard let bytes = try store.fileBytes(file.path) else { continue }
            try writeStationCopy(bytes, at: file.path)
            manifest[file.path] = file.contentHash
        }
        // A copy made from the store whose original is gone (round 0 of a pretraining begun
        // again) is out of date; files this station made for itself are not in the manifest.
        let held = Set(stored.map(\.path))
        for copied in manifest.keys where !held.contains(copied) {
            try? BinaryFile.remove("\(path)/\(copied)")
            manifest[copied] = nil
        }
        if manifest != before { writeStationManifest(manifest) }
    }

    /// Stores the files at `relativePaths` (written in this station's folder) in the server's
    /// store, within the caller's write transaction, and notes them as this station's copies.
    /// Nothing on a folder workspace.
    func storeStationFiles(_ relativePaths: [String]) throws {
        guard isOnServer else { return }
        var manifest = stationManifest()
        for relative in relativePaths {
            let bytes = try BinaryFile.read("\(path)/\(relative)")
            try store.putFile(relative, bytes: bytes)
            manifest[relative] = Self.fnv1a(bytes)
        }
        writeStationManifest(manifest)
    }

    /// On a server workspace, refuses to train while another station trains a round or
    /// pretrains (one at a time: two rounds trained from the same answers would race to go
    /// live, and twice the work would be done).
    func takeTrainingTurn() throws {
        guard try store.beginTraining() else {
            throw WorkspaceError(name, "another station is training a round or pretraining now; train again when it has finished",
                                 reason: .trainingElsewhere)
        }
    }

    /// The files at `relativePaths` in this station's folder, to be stored with the rows that
    /// refer to them (`WorkspaceStore.record(…, files:)`), noted as this station's copies; empty
    /// on a folder workspace.
    func stationFileContents(_ relativePaths: [String]) throws -> [(path: String, bytes: [UInt8])] {
        guard isOnServer else { return [] }
        var manifest = stationManifest()
        let contents = try relativePaths.map { relative in
            let bytes = try BinaryFile.read("\(path)/\(relative)")
            manifest[relative] = Self.fnv1a(bytes)
            return (path: relative, bytes: bytes)
        }
        writeStationManifest(manifest)
        return contents
    }

    /// Round 0 and its anomaly scores, once pretraining has written them, stored for the
    /// other stations in one transaction. Nothing on a folder workspace.
    func storeRoundZero() throws {
        guard isOnServer else { return }
        let files = ["models/round-000.safetensors", "models/anomaly-scores.csv"].filter { BinaryFile.exists("\(path)/\($0)") }
        try store.transaction { try storeStationFiles(files) }
    }

    /// Removes `relativePaths` from the server's store (this station's copies are removed by
    /// the caller). Nothing on a folder workspace.
    func removeStoredFiles(_ relativePaths: [String]) throws {
        guard isOnServer else { return }
        try store.transaction { for relative in relativePaths { try store.removeFile(relative) } }
        var manifest = stationManifest()
        for relative in relativePaths { manifest[relative] = nil }
        writeStationManifest(manifest)
    }

    private func writeStationCopy(_ bytes: [UInt8], at relative: String) throws {
        let file = "\(path)/\(relative)"
        if let slash = file.lastIndex(of: "/") { try BinaryFile.createDirectory(String(file[..<slash])) }
        try BinaryFile.writeAtomically(bytes, to: file)
    }

    private func stationManifest() -> [String: String] {
        guard let bytes = try? BinaryFile.read("\(path)/\(Self.stationManifestName)"),
              let manifest = try? JSONDecoder().decode([String: String].self, from: Data(bytes)) else { return [:] }
        return manifest
    }

    /// Written atomically; losing it (two processes of one station writing at once) costs a
    /// copy made again, nothing else.
    private func writeStationManifest(_ manifest: [String: String]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(manifest) else { return }
        try? BinaryFile.writeAtomically([UInt8](data), to: "\(path)/\(Self.stationManifestName)")
    }
}
