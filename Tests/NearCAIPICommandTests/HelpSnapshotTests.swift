import Foundation
import Testing
import TestSupport

/// Help texts are part of the interface: each is compared with a stored snapshot.
/// Run with NEARCAIPI_RECORD_SNAPSHOTS=1 to rewrite the snapshots after an intended change.
@Suite struct HelpSnapshotTests {
    static let snapshots = repositoryRoot() + "/Tests/NearCAIPICommandTests/Snapshots"

    @Test(arguments: ["overview", "sample", "scan", "init", "status", "feedback", "pretrain", "train", "predict", "rollback", "promote", "revert", "export", "label", "explain", "eval-explanations", "eval-neighbours", "eval-detection", "simulate", "expert", "bench"])
    func helpMatchesSnapshot(verb: String) throws {
        let result = try Tool.run(verb == "overview" ? ["--help"] : [verb, "--help"])
        #expect(result.status == 0)
        let path = "\(Self.snapshots)/help-\(verb).txt"
        if ProcessInfo.processInfo.environment["NEARCAIPI_RECORD_SNAPSHOTS"] == "1" {
            try FileManager.default.createDirectory(atPath: Self.snapshots, withIntermediateDirectories: true)
            try result.standardOutput.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let stored = try String(contentsOfFile: path, encoding: .utf8)
        #expect(result.standardOutput == stored, "help for \(verb) changed; re-record if intended")
    }
}
