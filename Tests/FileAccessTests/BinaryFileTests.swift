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
}
