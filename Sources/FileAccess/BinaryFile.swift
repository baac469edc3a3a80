#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read or written. The POSIX error number is kept as a value
/// (callers can tell "no such file" from "permission denied"); the description gives the
/// system's words for it (`strerror`), which is what the user needs to read.
public struct FileAccessError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Reason: Equatable, Sendable {
        /// open, read, fstat or opendir failed with this errno.
        case cannotRead(errno: Int32)
        /// The path names a directory or another non-regular file.
        case notARegularFile
        /// The file is larger than the caller allowed.
        case tooLarge(bytes: Int, limit: Int)
        /// creating, writing, syncing, renaming or removing failed with this errno.
        case cannotWrite(errno: Int32)
    }
    public let path: String
    public let reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    /// The POSIX error number, where the system gave one.
    public var errno: Int32? {
        switch reason {
        case .cannotRead(let number), .cannotWrite(let number): number
        case .notARegularFile, .tooLarge: nil
        }
    }

    /// The system's words for the error number ("No such file or directory").
    public var systemMessage: String? { errno.map { String(cString: strerror($0)) } }

    public var description: String {
        switch reason {
        case .cannotRead: return "\(path): cannot read: \(systemMessage!)"
        case .notARegularFile: return "\(path): not a regular file"
        case .tooLarge(let bytes, let limit):
            return "\(path): file is \(bytes) bytes, more than the limit of \(limit)"
        case .cannotWrite: return "\(path): cannot write: \(systemMessage!)"
        }
    }
}

/// Whole-file reads and crash-safe whole-file writes.
public enum BinaryFile {
    /// Reads a regular file completely. Files larger than `limit` bytes are refused before
    /// anything is read, so a stray multi-gigabyte file cannot exhaust memory.
    public static func read(_ path: String, limit: Int = 1 << 30) throws(FileAccessError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileAccessError(path: path, reason: .cannotRead(errno: errno)) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw FileAccessError(path: path, reason: .cannotRead(errno: errno))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw FileAccessError(path: path, reason: .notARegularFile)
        }
        let size = Int(status.st_size)
        guard size <= limit else { throw FileAccessError(path: path, reason: .tooLarge(bytes: size, limit: limit)) }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let got = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(descriptor, buffer.baseAddress! + filled, size - filled)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw FileAccessError(path: path, reason: .cannotRead(errno: errno))
            }
            if got == 0 { break }  // the file shrank while we read it
            filled += got
        }
        if filled < size { bytes.removeLast(size - filled) }
        return bytes
    }

    /// Writes `bytes` so that `path` holds either its old content or the complete new
    /// content, whatever happens to the process or the machine: write a temporary file in
    /// the same directory, fsync it, rename it over the target, fsync the directory.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(FileAccessError) {
        let temporary = "\(path).tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileAccessError(path: path, reason: .cannotWrite(errno: errno)) }
        if let why = writeAll(bytes, to: descriptor) {
            close(descriptor)
            unlink(temporary)
            throw FileAccessError(path: path, reason: .cannotWrite(errno: why))
        }
        if fsync(descriptor) != 0 {
            let why = errno
            close(descriptor)
            unlink(temporary)
            throw FileAccessError(path: path, reason: .cannotWrite(errno: why))
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let why = errno
            unlink(temporary)
            throw FileAccessError(path: path, reason: .cannotWrite(errno: why))
        }
        syncDirectory(containing: path)
    }

    /// Creates a directory and its missing parents (like `mkdir -p`).
    public static func createDirectory(_ path: String) throws(FileAccessError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw FileAccessError(path: prefix, reason: .cannotWrite(errno: errno))
            }
            prefix += "/"
        }
        guard isDirectory(path) else { throw FileAccessError(path: path, reason: .cannotWrite(errno: ENOTDIR)) }
    }

    public static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    /// The names in a directory (not recursive), sorted, without "." and "..".
    public static func entries(of directory: String) throws(FileAccessError) -> [String] {
        guard let handle = opendir(directory) else {
            throw FileAccessError(path: directory, reason: .cannotRead(errno: errno))
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Writes all of `bytes` to an open descriptor, going on after interruptions (EINTR) and
    /// short writes. Returns the errno of a failure, nil when everything was written.
    @discardableResult
    public static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Int32? {
        var written = 0
        while written < bytes.count {
            let put = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + written, bytes.count - written)
            }
            if put < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if put == 0 { return EIO }
            written += put
        }
        return nil
    }

    /// Removes a file; a file that is already gone is not an error.
    public static func remove(_ path: String) throws(FileAccessError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw FileAccessError(path: path, reason: .cannotWrite(errno: errno)) }
    }

    /// Removes a directory and everything below it (like `rm -r`); a missing path is not an
    /// error. Symbolic links are removed, never followed.
    public static func removeTree(_ path: String) throws(FileAccessError) {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return }
            throw FileAccessError(path: path, reason: .cannotWrite(errno: errno))
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            for name in try entries(of: path) { try removeTree("\(path)/\(name)") }
            guard rmdir(path) == 0 else { throw FileAccessError(path: path, reason: .cannotWrite(errno: errno)) }
        } else {
            try remove(path)
        }
    }

    /// Renames `source` to `destination` (same file system; replaces a file there) and syncs
    /// the directory, so the new name survives a crash.
    public static func move(_ source: String, to destination: String) throws(FileAccessError) {
        guard rename(source, destination) == 0 else {
            throw FileAccessError(path: destination, reason: .cannotWrite(errno: errno))
        }
        syncDirectory(containing: destination)
    }

    /// Copies a directory tree (directories and regular files; symbolic links are not
    /// followed and not copied) to `destination`, which must not exist yet.
    public static func copyTree(_ source: String, to destination: String) throws(FileAccessError) {
        guard isDirectory(source) else { return try copy(source, to: destination) }
        try createDirectory(destination)
        for name in try entries(of: source) {
            var status = stat()
            guard lstat("\(source)/\(name)", &status) == 0 else { throw FileAccessError(path: "\(source)/\(name)", reason: .cannotRead(errno: errno)) }
            switch status.st_mode & S_IFMT {
            case S_IFDIR: try copyTree("\(source)/\(name)", to: "\(destination)/\(name)")
            case S_IFREG: try copy("\(source)/\(name)", to: "\(destination)/\(name)")
            default: continue
            }
        }
    }

    /// The process's working directory, or "." when it cannot be told.
    public static var currentDirectory: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Copies a regular file's content to `destination`, atomically.
    public static func copy(_ source: String, to destination: String) throws(FileAccessError) {
        try writeAtomically(try read(source), to: destination)
    }

    private static func syncDirectory(containing path: String) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}

