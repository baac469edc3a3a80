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
