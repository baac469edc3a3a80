import Foundation

/// Runs the built `nearcaipi` executable, as a user would from a shell.
struct ToolResult {
    let status: Int32
    let standardOutput: String
    let standardError: String
}

enum Tool {
    /// The executable sits beside the test bundle in SwiftPM's build folder.
    static var executable: String {
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
