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
        // `rounds()` calls this on every read; the file listing and a stat per file are read
        // only when something was committed since the last look (the news counter moved).
        let news = try store.changesByOthers
        guard news != syncedAtNews else { return }
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
        syncedAtNews = news
    }

    /// Copies the stored file at `relative` into this station's folder now, if it is not
    /// there: another station may have stored it after this one last looked (training lists
    /// the refutations as the store holds them at that moment, which can be after the copy
    /// made at opening). Nothing when the store holds no such file (the read that follows
    /// names it) or on a folder workspace. Not noted in the station's record: the next full
    /// look copies it once more, which is harmless.
    func fetchStoredFileIfMissing(_ relative: String) throws {
        guard isOnServer, !BinaryFile.exists("\(path)/\(relative)"), let bytes = try store.fileBytes(relative) else { return }
        try writeStationCopy(bytes, at: relative)
    }

    /// Stores the files at `relativePaths` (written in this station's folder) in the server's
    /// store, within the caller's write transaction, and notes them as this station's copies.
    /// Nothing on a folder workspace.
    func storeStationFiles(_ relativePaths: [String]) throws {
        for file in try stationFileContents(relativePaths) { try store.putFile(file.path, bytes: file.bytes) }
    }

    static let stationImagesName = "station-images.json"

    /// What this station knows of its copy of an image: the size and modification time at
    /// which its content last matched the hash `init` recorded.
    struct CheckedImage: Codable, Equatable {
        var size: Int64
        var modified: Int64
        var hash: String
    }

    /// On a server workspace, checks this station's copy of the data set's images against the
    /// content hashes `init` recorded, and refuses — naming the file — one that is missing or
    /// differs: stations share the image folder by mounting it, and a station whose copy
    /// differs would train and judge on other pixels than everyone else. An image is read and
    /// hashed the first time this station opens the workspace and again only when its size or
    /// modification time changes (`station-images.json` in the station folder); otherwise a
    /// `stat` suffices. Nothing on a folder workspace.
    func checkImageFolder() throws {
        guard isOnServer else { return }
        let root = try dataRoot
        let recorded = try store.originalContentHashes()
        var checked = stationRecord(Self.stationImagesName, of: [String: CheckedImage].self)
        let before = checked
        for (relative, hash) in recorded {
            let file = "\(root)/\(relative)"
            var status = stat()
            guard stat(file, &status) == 0 else {
                throw WorkspaceError(name, "\(file): missing on this station (every station mounts the workspace's image folder, \(root), "
                                     + "with the same files)")
            }
            let size = Int64(status.st_size), modified = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
            if let known = checked[relative], known.size == size, known.modified == modified, known.hash == hash { continue }
            let found = Self.fnv1a(try BinaryFile.read(file))
            guard found == hash else {
                throw WorkspaceError(name, "\(file): this station's copy differs from the one the workspace indexed (content hash "
                                     + "\(found), recorded \(hash)); every station must see the same image folder")
            }
            checked[relative] = CheckedImage(size: size, modified: modified, hash: hash)
        }
        if checked != before { writeStationRecord(checked, to: Self.stationImagesName) }
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

    private func stationManifest() -> [String: String] { stationRecord(Self.stationManifestName, of: [String: String].self) }

    private func writeStationManifest(_ manifest: [String: String]) { writeStationRecord(manifest, to: Self.stationManifestName) }

    /// One of this station's JSON records in its folder; empty when missing or unreadable
    /// (a record is a cache: losing one costs a copy or a hash made again).
    private func stationRecord<Record: Decodable & ExpressibleByDictionaryLiteral>(_ name: String, of type: Record.Type) -> Record {
        guard let bytes = try? BinaryFile.read("\(path)/\(name)"), let record = try? JSONDecoder().decode(type, from: Data(bytes)) else {
            return [:]
        }
        return record
    }

    /// Written atomically; two processes of one station writing at once lose one's entries,
    /// which are made again.
    private func writeStationRecord<Record: Encodable>(_ record: Record, to name: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(record) else { return }
        try? BinaryFile.writeAtomically([UInt8](data), to: "\(path)/\(name)")
    }
}
