import Imaging
#if canImport(Glibc)
import Glibc
#endif

/// A fresh empty directory under /tmp for one test, removed by `remove()`.
public struct TemporaryDirectory {
    public let path: String

    public init(_ label: String = "test") {
        var template = Array("/tmp/nearcaipi-\(label)-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed")
        path = String(cString: created!)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    public func remove() { _ = system("rm -rf '\(path)'") }
}

/// The repository's top folder, found from this source file's location.
public func repositoryRoot(file: String = #filePath) -> String {
    var parts = file.split(separator: "/", omittingEmptySubsequences: false)
    while let last = parts.last, last != "Tests" { parts.removeLast() }
    parts.removeLast()
    return parts.joined(separator: "/")
}

/// A small image (at most 10 × 10) whose samples are distinct and easy to compute:
/// value(c, y, x) = (c · 60 + y · 10 + x) / 255, always within [0, 1].
public func rampImage(width: Int, height: Int, channels: Int) -> Image {
    var image = Image(width: width, height: height, channels: channels)
    for c in 0..<channels {
        for y in 0..<height {
            for x in 0..<width { image[c, y, x] = Float(c * 60 + y * 10 + x) / 255 }
        }
    }
    return image
}

/// A small file system of its own (tmpfs) at a folder, to fill up or make read-only — what
/// the disk-full and read-only tests need. Only where this process may mount (root with the
/// capability, as in CI's container); `isAvailable` says so.
public struct SmallFileSystem {
    public let path: String

    /// Mounts `megabytes` of tmpfs at `path` (created if missing).
    public init(at path: String, megabytes: Int) throws {
        self.path = path
        guard system("mkdir -p '\(path)' && mount -t tmpfs -o size=\(megabytes)m tmpfs '\(path)' 2>/dev/null") == 0 else {
            throw SmallFileSystemError(message: "cannot mount a tmpfs at \(path)")
        }
    }

    /// Whether a tmpfs can be mounted here.
    public static let isAvailable: Bool = {
        guard getuid() == 0 else { return false }
        let probe = TemporaryDirectory("mount-probe")
        defer { probe.remove() }
        guard let mounted = try? SmallFileSystem(at: probe.file("fs"), megabytes: 1) else { return false }
        mounted.unmount()
        return true
    }()

    /// Fills what is left with a file (`filler`), so the next write that needs room fails.
    public func fill() { _ = system("dd if=/dev/zero of='\(path)/filler' bs=16k 2>/dev/null; sync") }
    /// Frees the room `fill` took.
    public func free() { _ = system("rm -f '\(path)/filler'") }
    /// Remounts it read-only (or writable again).
    public func remount(readOnly: Bool) { _ = system("mount -o remount,\(readOnly ? "ro" : "rw") '\(path)'") }
    public func unmount() { _ = system("umount -l '\(path)'") }
}

public struct SmallFileSystemError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
