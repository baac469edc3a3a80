import Foundation
import Testing

/// Runs the built `nearcaipi` executable, as a user would from a shell.
struct ToolResult {
    let status: Int32
    let standardOutput: String
    let standardError: String
}

enum Tool {
    /// The executable sits beside the test bundle in SwiftPM's build folder;
    /// `NEARCAIPI_EXECUTABLE` names another (the load run measures the release build).
    static var executable: String {
        if let chosen = ProcessInfo.processInfo.environment["NEARCAIPI_EXECUTABLE"], !chosen.isEmpty { return chosen }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("nearcaipi").path),
              directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("nearcaipi").path
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ToolResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting: a full pipe would otherwise block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ToolResult(status: process.terminationStatus,
                          standardOutput: String(decoding: outData, as: UTF8.self),
                          standardError: String(decoding: errData, as: UTF8.self))
    }
}

/// The checks every usage error must pass: exit status 2, the reason on standard error,
/// nothing on standard output.
func expectUsageError(_ arguments: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let result = try Tool.run(arguments)
    #expect(result.status == 2, "exit \(result.status) for \(arguments)", sourceLocation: sourceLocation)
    #expect(result.standardError.contains(message), "stderr: \(result.standardError)", sourceLocation: sourceLocation)
    #expect(result.standardOutput.isEmpty, sourceLocation: sourceLocation)
}
