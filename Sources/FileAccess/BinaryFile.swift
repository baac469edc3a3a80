#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read or written. The POSIX reason (`strerror(errno)`) is kept
/// as text because the user needs it verbatim ("Permission denied", "No such file").
public struct FileAccessError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Reason: Equatable, Sendable {
        /// open/read/fstat failed; the text is strerror(errno).
        case cannotRead(String)
        /// The path names a directory or another non-regular file.
        case notARegularFile
        /// The file is larger than the caller allowed.
        case tooLarge(bytes: Int, limit: Int)
        /// creating, writing, syncing or renaming the file failed; strerror(errno).
        case cannotWrite(String)
    }
    public let path: String
    public let reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .cannotRead(let why): return "\(path): cannot read: \(why)"
        case .notARegularFile: return "\(path): not a regular file"
        case .tooLarge(let bytes, let limit):
            return "\(path): file is \(bytes) bytes, more than the limit of \(limit)"
        case .cannotWrite(let why): return "\(path): cannot write: \(why)"
        }
    }
}

/// Whole-file reads and crash-safe whole-file writes.
public enum BinaryFile {
    /// Reads a regular file completely. Files larger than `limit` bytes are refused before
    /// anything is read, so a stray multi-gigabyte file cannot exhaust memory.
    public static func read(_ path: String, limit: Int = 1 << 30) throws(FileAccessError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileAccessError(path: path, reason: .cannotRead(errnoText())) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw FileAccessError(path: path, reason: .cannotRead(errnoText()))
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
                throw FileAccessError(path: path, reason: .cannotRead(errnoText()))
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
        guard descriptor >= 0 else { throw FileAccessError(path: path, reason: .cannotWrite(errnoText())) }
        var written = 0
        while written < bytes.count {
            let put = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + written, bytes.count - written)
            }
            if put < 0 {
                if errno == EINTR { continue }
                let why = errnoText()
                close(descriptor)
                unlink(temporary)
                throw FileAccessError(path: path, reason: .cannotWrite(why))
            }
            written += put
        }
        if fsync(descriptor) != 0 {
            let why = errnoText()
            close(descriptor)
            unlink(temporary)
            throw FileAccessError(path: path, reason: .cannotWrite(why))
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let why = errnoText()
            unlink(temporary)
            throw FileAccessError(path: path, reason: .cannotWrite(why))
        }
        syncDirectory(containing: path)
    }

    /// Creates a directory and its missing parents (like `mkdir -p`).
    public static func createDirectory(_ path: String) throws(FileAccessError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw FileAccessError(path: prefix, reason: .cannotWrite(errnoText()))
            }
            prefix += "/"
        }
        guard isDirectory(path) else { throw FileAccessError(path: path, reason: .cannotWrite("exists and is not a directory")) }
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
            throw FileAccessError(path: directory, reason: .cannotRead(errnoText()))
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

func errnoText() -> String { String(cString: strerror(errno)) }
