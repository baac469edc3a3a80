import Foundation
import NearCAIPI
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Nothing the expert confirmed may be lost: killed importers and concurrent importers.
@Suite(.serialized) struct FeedbackDurabilityTests {
    /// A workspace over a small generated data set, and a CSV of `lines` verdicts on its items.
    func prepare(_ directory: TemporaryDirectory, lines: Int, name: String = "verdicts.csv") throws -> (workspace: String, csv: String) {
        let data = directory.file("data"), workspace = directory.file("ws")
        if !FileManager.default.fileExists(atPath: workspace) {
            #expect(try Tool.run(["sample", "--out", data, "--count", "12", "--size", "32"]).status == 0)
            #expect(try Tool.run(["init", workspace, "--data", data]).status == 0)
        }
        let items = try (FileManager.default.contentsOfDirectory(atPath: data + "/ok").map { "ok/\($0)" }
            + FileManager.default.contentsOfDirectory(atPath: data + "/nok").map { "nok/\($0)" }).sorted()
        var csv = "path,prediction,explanation,label\n"
        for i in 0..<lines { csv += "\(items[i % items.count]),\(i % 2 == 0 ? "right" : "wrong"),,\(i % 3 == 0 ? "nok" : "")\n" }
        let path = directory.file(name)
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        return (workspace, path)
    }

    /// The answers stored in the workspace and standing (not reverted).
    func storedAnswers(_ workspace: String) throws -> Int {
        try Workspace(opening: workspace).feedbackLog().filter { !$0.reverted }.count
    }

    @Test func everyAcknowledgedVerdictSurvivesSIGKILL() throws {
        let directory = TemporaryDirectory("kill")
        defer { directory.remove() }
        let (workspace, csv) = try prepare(directory, lines: 2000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tool.executable)
        process.arguments = ["feedback", workspace, "--import", csv, "--user", "anna"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        // Read acknowledgements until 40 have arrived, then kill the writer mid-stream.
        var received = ""
        while received.components(separatedBy: "recorded ").count - 1 < 40 {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            received += String(decoding: chunk, as: UTF8.self)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let acknowledged = received.components(separatedBy: "recorded ").count - 1
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(acknowledged >= 40)
        let stored = try storedAnswers(workspace)
        #expect(stored >= acknowledged, "acknowledged \(acknowledged), stored \(stored)")
        #expect(stored < 2000)  // it really was killed mid-way
    }

    @Test func twoImportersAtOnceLoseNothing() throws {
        let directory = TemporaryDirectory("concurrent")
        defer { directory.remove() }
        let (workspace, first) = try prepare(directory, lines: 150, name: "a.csv")
        let (_, second) = try prepare(directory, lines: 150, name: "b.csv")
        let processes = [first, second].enumerated().map { index, csv -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Tool.executable)
            process.arguments = ["feedback", workspace, "--import", csv, "--user", "inspector\(index)"]
            process.standardOutput = Pipe()
            process.standardError = Pipe()
            return process
        }
        for process in processes { try process.run() }
        // Drain both outputs so neither blocks on a full pipe.
        let outputs = processes.map { ($0.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile() }
        for process in processes { process.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 },
                "\(outputs.map { String(decoding: $0, as: UTF8.self).suffix(200) })")
        #expect(try storedAnswers(workspace) == 300)
    }

    @Test func badLinesAreReportedAndSkipped() throws {
        let directory = TemporaryDirectory("feedback-bad")
        defer { directory.remove() }
        let (workspace, _) = try prepare(directory, lines: 1)
        let csv = directory.file("bad.csv")
        try "path,prediction,explanation,label\nno/such.png,right,,\nok/x.png,maybe,,\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let result = try Tool.run(["feedback", workspace, "--import", csv])
        #expect(result.status == 1)
        #expect(result.standardError.contains("bad.csv:2: ") && result.standardError.contains("no usable item 'no/such.png'"))
        #expect(result.standardError.contains("bad.csv:3: expected path,right|wrong|skip"))
        #expect(try storedAnswers(workspace) == 0)
    }

    /// `revert` lists what it would withdraw and changes nothing without --yes; with it, the
    /// chosen person's answers (and only theirs) stop counting.
    @Test func revertListsFirstAndRevertsOnlyWhenConfirmed() throws {
        let directory = TemporaryDirectory("revert-command")
        defer { directory.remove() }
        let (workspace, csv) = try prepare(directory, lines: 4)
        #expect(try Tool.run(["feedback", workspace, "--import", csv, "--user", "anna"]).status == 0)
        let (_, other) = try prepare(directory, lines: 2, name: "other.csv")
        #expect(try Tool.run(["feedback", workspace, "--import", other, "--user", "otto"]).status == 0)
        let before = try storedAnswers(workspace)

        let listed = try Tool.run(["revert", workspace, "--user", "anna"])
        #expect(listed.status == 0 && listed.standardOutput.contains("4 answers would be reverted (anna's answers); add --yes"))
        #expect(listed.standardOutput.split(separator: "\n").filter { $0.hasPrefix("#") }.count == 4)
        #expect(try storedAnswers(workspace) == before)  // nothing changed

        let reverted = try Tool.run(["revert", workspace, "--user", "anna", "--yes"])
        #expect(reverted.status == 0 && reverted.standardOutput.contains("4 answers reverted"))
        #expect(try storedAnswers(workspace) == before - 4)
        #expect(try Tool.run(["revert", workspace, "--user", "anna"]).standardOutput.contains("no standing answers match (anna's answers)"))
        #expect(try Tool.run(["revert", workspace, "--user", "anan"]).standardOutput.contains("check the name"))
        #expect(try Tool.run(["revert", workspace, "--user", "otto"]).standardOutput.contains("2 answers would be reverted"))

        try expectUsageError(["revert", workspace], "say which answers")
        try expectUsageError(["revert", workspace, "--since", "yesterday"], "option '--since' needs a time")
    }
}
