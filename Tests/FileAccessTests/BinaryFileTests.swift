import FileAccess
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct BinaryFileTests {
    func scratch() -> String {
        var template = Array("/tmp/nearcaipi-files-XXXXXX".utf8CString)
        return String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
    }

    @Test func atomicWriteReplacesWholeAndLeavesNoTemporary() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        let path = "\(directory)/file.bin"
        try BinaryFile.writeAtomically([1, 2, 3], to: path)
        try BinaryFile.writeAtomically([9], to: path)
        #expect(try BinaryFile.read(path) == [9])
        #expect(try BinaryFile.entries(of: directory) == ["file.bin"])
    }

    @Test func readRefusals() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        #expect(throws: FileAccessError(path: directory, reason: .notARegularFile)) { try BinaryFile.read(directory) }
        try BinaryFile.writeAtomically([UInt8](repeating: 7, count: 100), to: "\(directory)/big")
        #expect(throws: FileAccessError(path: "\(directory)/big", reason: .tooLarge(bytes: 100, limit: 10))) {
            try BinaryFile.read("\(directory)/big", limit: 10)
        }
        #expect(throws: FileAccessError.self) { try BinaryFile.writeAtomically([1], to: "/proc/nope/x") }
    }

    @Test func createDirectoryMakesParents() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        try BinaryFile.createDirectory("\(directory)/a/b/c")
        #expect(BinaryFile.isDirectory("\(directory)/a/b/c"))
        try BinaryFile.writeAtomically([1], to: "\(directory)/f")
        #expect(throws: FileAccessError.self) { try BinaryFile.createDirectory("\(directory)/f") }
    }

    /// The error number is a value a caller can test, and the message is the system's words.
    @Test func errorsKeepTheErrorNumber() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        do {
            _ = try BinaryFile.read("\(directory)/missing")
            Issue.record("a missing file was read")
        } catch {
            #expect(error.errno == ENOENT && error.reason == .cannotRead(errno: ENOENT))
            #expect(error.description == "\(directory)/missing: cannot read: No such file or directory")
        }
    }

    @Test func removeMoveAndCopyTrees() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        try BinaryFile.createDirectory("\(directory)/tree/inner")
        try BinaryFile.writeAtomically([1, 2], to: "\(directory)/tree/a")
        try BinaryFile.writeAtomically([3], to: "\(directory)/tree/inner/b")
        symlink("/etc/hostname", "\(directory)/tree/link")
        try BinaryFile.copyTree("\(directory)/tree", to: "\(directory)/copy")
        #expect(try BinaryFile.read("\(directory)/copy/a") == [1, 2] && BinaryFile.read("\(directory)/copy/inner/b") == [3])
        #expect(!BinaryFile.exists("\(directory)/copy/link"))  // links are not followed
        try BinaryFile.move("\(directory)/copy", to: "\(directory)/moved")
        #expect(!BinaryFile.exists("\(directory)/copy") && BinaryFile.isDirectory("\(directory)/moved/inner"))
        try BinaryFile.removeTree("\(directory)/tree")
        try BinaryFile.removeTree("\(directory)/tree")  // already gone: not an error
        try BinaryFile.remove("\(directory)/moved/a")
        try BinaryFile.remove("\(directory)/moved/a")
        #expect(try BinaryFile.entries(of: directory) == ["moved"] && BinaryFile.entries(of: "\(directory)/moved") == ["inner"])
        #expect(throws: FileAccessError.self) { try BinaryFile.move("\(directory)/nothing", to: "\(directory)/x") }
    }

    @Test func writeAllWritesEverythingToADescriptor() throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let bytes = [UInt8](repeating: 42, count: 10_000)
        #expect(BinaryFile.writeAll(bytes, to: descriptors[1]) == nil)
        close(descriptors[1])
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = read(descriptors[0], &buffer, buffer.count)
            if got <= 0 { break }
            received += buffer[0..<got]
        }
        close(descriptors[0])
        #expect(received == bytes)
        #expect(BinaryFile.writeAll([1], to: descriptors[1]) == EBADF)
    }
}
