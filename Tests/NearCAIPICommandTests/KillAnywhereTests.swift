import Foundation
import NearCAIPI
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Kill anywhere: the simulated expert (`nearcaipi expert`, the screens' own session API)
/// answers, makes refutations and retrains every few answers, and is SIGKILLed at random
/// moments. After every kill the workspace must open, hold every acknowledged answer exactly
/// once, have a loadable active checkpoint, and let the work go on — a folder workspace, and
/// one on a PostgreSQL server (the test cluster). `make test`: 6 kills each;
/// `make torture` (NEARCAIPI_TORTURE=1): 120.
@Suite(.serialized) struct KillAnywhereTests {
    static var kills: Int { ProcessInfo.processInfo.environment["NEARCAIPI_TORTURE"] == nil ? 6 : 120 }

    /// What the process was doing when it was killed, from its last progress line.
    enum Phase: String, CaseIterable {
        case startingUp = "starting up", answering = "answering (feedback, refutations)", reviewing = "between answers",
             training = "training", checkpointing = "after the last epoch (checkpoint, metrics)"
    }

    /// A process whose standard output and error are collected by threads as they arrive.
    final class Running: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var out = "", err = ""
        private var readers: [Thread] = []

        /// `niceness`: started through `nice -n NICENESS` (a lower priority on the CPUs).
        init(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil, niceness: Int? = nil) throws {
            if let niceness {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
                process.arguments = ["-n", "\(niceness)", Tool.executable] + arguments
            } else {
                process.executableURL = URL(fileURLWithPath: Tool.executable)
                process.arguments = arguments
            }
            if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
            if !environment.isEmpty {
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            }
            let (stdout, stderr) = (Pipe(), Pipe())
            process.standardOutput = stdout
            process.standardError = stderr
            try process.run()
            for (pipe, isError) in [(stdout, false), (stderr, true)] {
                let thread = Thread { [self] in
                    while true {
                        let chunk = pipe.fileHandleForReading.availableData
                        if chunk.isEmpty { return }
                        lock.lock()
                        if isError { err += String(decoding: chunk, as: UTF8.self) } else { out += String(decoding: chunk, as: UTF8.self) }
                        lock.unlock()
                    }
                }
                thread.start()
                readers.append(thread)
            }
        }

        var output: (out: String, err: String) { lock.lock(); defer { lock.unlock() }; return (out, err) }

        func killAndWait() -> (out: String, err: String) {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            usleep(50_000)   // the readers reach the end of the pipes
            return output
        }
    }

    static func phase(of stderr: String, epochs: Int) -> Phase {
        guard let last = stderr.split(separator: "\n").last else { return .startingUp }
        if last.hasPrefix("answering") { return .answering }
        if last == "retraining epoch \(epochs)/\(epochs)" { return .checkpointing }
        if last.hasPrefix("retraining") { return .training }
        return .reviewing
    }

    @Test(arguments: [false, true]) func everyAcknowledgedAnswerSurvivesKillsAnywhere(onServer: Bool) throws {
        let directory = TemporaryDirectory("killanywhere")
        defer { directory.remove() }
        let data = directory.file("data"), pristine = directory.file("pristine")
        var workspace = directory.file("ws")
        #expect(try Tool.run(["sample", "--out", data, "--count", "60", "--size", "32"]).status == 0)
        #expect(try Tool.run(["init", pristine, "--data", data, "--input", "32"]).status == 0)
        #expect(try Tool.run(["train", pristine, "--epochs", "2"]).status == 0)
        // On a server, each fresh copy is a new workspace migrated from the pristine folder,
        // and every process — the killed experts, the checks — is a station with its own folder.
        let server = onServer ? try PostgresTestServer.shared() : nil
        let database = try server?.freshDatabaseName("kills")
        let station = ["NEARCAIPI_STATION_FOLDER": directory.file("station")]
        if onServer { setenv("NEARCAIPI_STATION_FOLDER", directory.file("checks"), 1) }
        var copies = 0
        func fresh() throws {
            if let server, let database {
                copies += 1
                workspace = server.url(database: database, workspace: "copy-\(copies)")
                let moved = try Tool.run(["migrate", pristine, "--to", workspace], environment: station)
                #expect(moved.status == 0, "\(moved.standardError)")
                return
            }
            try? FileManager.default.removeItem(atPath: workspace)
            try FileManager.default.copyItem(atPath: pristine, toPath: workspace)
        }
        try fresh()
        let probe = data + "/ok/" + (try FileManager.default.contentsOfDirectory(atPath: data + "/ok").sorted()[0])

        var random = SystemRandomNumberGenerator()
        var acknowledgedTotal = 0, checkedRows = 0, refills = 0
        var phases: [Phase: Int] = [:]
        var acknowledged: [Int64: String] = [:]   // feedback id → item, for the current workspace copy
        let epochs = 2
        var kill = 0
        while kill < Self.kills {
            let running = try Running(["expert", workspace, "--user", "expert", "--retrain-every", "3", "--epochs", "\(epochs)"],
                                      environment: onServer ? station : [:])
            if kill % 2 == 1 {
                // Aimed: a few milliseconds after an answer has begun (feedback, refutations).
                let wanted = 1 + Int.random(in: 0...3, using: &random)
                let deadline = Date().addingTimeInterval(20)
                while running.output.err.components(separatedBy: "answering ").count - 1 < wanted, Date() < deadline,
                      running.process.isRunning { usleep(1_000) }
                usleep(UInt32.random(in: 0...40_000, using: &random))
            } else {
                usleep(UInt32.random(in: 150_000...3_000_000, using: &random))
            }
            let (out, err) = running.killAndWait()
            if running.process.terminationReason != .uncaughtSignal {
                // It finished before the kill: the pool was exhausted. Start again from a fresh copy.
                #expect(err.contains("nothing left to ask"), "kill \(kill): exited by itself: \(err.suffix(300))")
                try fresh()
                acknowledged = [:]
                refills += 1
                continue
            }
            kill += 1
            phases[Self.phase(of: err, epochs: epochs), default: 0] += 1
            for line in out.split(separator: "\n") where line.hasPrefix("stored ") {
                let fields = line.split(separator: " ")
                if fields.count >= 3, let id = Int64(fields[1]) { acknowledged[id] = String(fields[2]); acknowledgedTotal += 1 }
            }

            // It opens, and is intact.
            let stored = try Workspace(opening: workspace)
            #expect(try stored.integrityProblems().isEmpty)
            // Every acknowledged answer is there, once, for the item it was given on.
            let log = try stored.feedbackLog()
            let pathOfAnswer = Dictionary(log.map { ($0.id, $0.itemPath) }, uniquingKeysWith: { first, _ in first })
            for (id, item) in acknowledged {
                #expect(log.filter { $0.id == id }.count == 1 && pathOfAnswer[id] == item, "kill \(kill): answer \(id) on \(item) missing")
                checkedRows += 1
            }
            // No query was answered twice (a restarted expert does not redo acknowledged work).
            let reviewed = Set(try stored.reviews().map(\.path))
            let queryAnswers = log.filter { $0.user == "expert" && !$0.reverted && !reviewed.contains($0.itemPath) }.map(\.itemPath)
            let doubled = Dictionary(grouping: queryAnswers, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            #expect(doubled.isEmpty, "kill \(kill): items answered twice: \(doubled)")
            // Every recorded round's checkpoint exists; no round is half-recorded.
            let rounds = try stored.rounds()
            for round in rounds {
                #expect(FileManager.default.fileExists(atPath: stored.checkpointPath(of: round)), "kill \(kill): \(round.checkpoint) missing")
            }
            #expect(rounds.filter { $0.status == .active }.count == 1)
            // The active checkpoint loads and predicts.
            let predicted = try Tool.run(["predict", workspace, probe], environment: station)
            #expect(predicted.status == 0, "kill \(kill): the active checkpoint does not load: \(predicted.standardError)")
        }
        // The interrupted work can be taken up again: a run that is not killed answers and
        // trains a round.
        let roundsBefore = try Workspace(opening: workspace).rounds().count
        let resumed = try Tool.run(["expert", workspace, "--user", "expert", "--answers", "2", "--retrain-every", "2", "--epochs", "1"],
                                   environment: station)
        if !resumed.standardError.contains("nothing left to ask") {
            #expect(resumed.status == 0, "\(resumed.standardError.suffix(400))")
            let roundsAfter = try Workspace(opening: workspace).rounds().count
            #expect(roundsAfter != roundsBefore)
        }
        let summary = Phase.allCases.map { "\($0.rawValue): \(phases[$0] ?? 0)" }.joined(separator: ", ")
        print("kill-anywhere\(onServer ? " (server)" : ""): \(Self.kills) kills (\(refills) pool refills); \(acknowledgedTotal) answers acknowledged, \(checkedRows) row checks; killed while \(summary)")
    }
}
