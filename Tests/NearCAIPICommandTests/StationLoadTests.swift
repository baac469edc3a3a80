import Foundation
import NearCAIPI
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A team under load: 16 inspectors and a supervisor, each a `nearcaipi expert` process with
/// a working folder of its own (and, on a server, a station folder of its own: they share
/// nothing but the image folder), answer one workspace through the session API while an
/// operator's process trains round after round; on a server, the server is restarted
/// abruptly in the middle. Checked afterwards: every acknowledged answer is stored exactly
/// once, no part was answered twice (so no query was leased to two stations), every process
/// ended well. Reported: how long "next query leased" and "answer stored" took (p50 / p95 /
/// p99). `make test` runs a short form; `NEARCAIPI_LOAD=1` the measured one of 10 000
/// answers (`Docs/Reliability.md`).
@Suite(.serialized) struct StationLoadTests {
    /// The size of a run.
    struct Load {
        var inspectors: Int
        var answersEach: Int
        var images: Int
        var split: String
        /// How long each station looks at a part before answering (`expert --think-seconds`).
        var thinkSeconds: Double
    }

    static var load: Load {
        ProcessInfo.processInfo.environment["NEARCAIPI_LOAD"] == nil
            ? Load(inspectors: 16, answersEach: 4, images: 600, split: "0.3,0.1,0.2,0.4", thinkSeconds: 0)
            // 10 000 queries, and room for the near hits and misses their wrong predictions
            // take from the pool for the supervisor.
            // Half a second a part, a quick person's pace or faster: 16 of them are a far busier
            // team than a line has, yet the work of 16 machines runs here on two cores.
            : Load(inspectors: 16, answersEach: 625, images: 17_000, split: "0.05,0.03,0.02,0.9", thinkSeconds: 0.5)
    }

    /// `NEARCAIPI_LOAD_TRAINER_NICE=N`: the operator's trainer runs at `nice -n N`. In a plant
    /// the trainer is a station of its own; here it shares two cores with 17 stations and the
    /// server, and at the same priority its training takes them from the people answering.
    static var trainerNiceness: Int? { ProcessInfo.processInfo.environment["NEARCAIPI_LOAD_TRAINER_NICE"].flatMap { Int($0) } }

    /// The `p`-quantile of `values` (nearest rank).
    static func quantile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
    }

    /// Milliseconds from the progress lines that start with `marker` ("picked in 3.2 ms").
    static func milliseconds(_ stderr: String, after marker: String) -> [Double] {
        stderr.split(separator: "\n").compactMap { line -> Double? in
            guard let range = line.range(of: marker) else { return nil }
            return Double(line[range.upperBound...].prefix { $0 != " " && $0 != ")" })
        }
    }

    @Test(arguments: [false, true]) func sixteenInspectorsAndASupervisorWhileRoundsTrain(onServer: Bool) throws {
        let load = Self.load
        let directory = TemporaryDirectory("load")
        defer { directory.remove() }
        let data = directory.file("data"), pristine = directory.file("pristine")
        #expect(try Tool.run(["sample", "--out", data, "--count", "\(load.images)", "--size", "32"]).status == 0)
        #expect(try Tool.run(["init", pristine, "--data", data, "--input", "32", "--split", load.split]).status == 0)
        #expect(try Tool.run(["train", pristine, "--epochs", "2"]).status == 0)

        // A server of the test's own: it is restarted mid-run, and the shared one serves others.
        let server = onServer ? try PostgresTestServer.own() : nil
        defer { server?.stop() }
        var workspace = pristine
        if let server {
            workspace = server.url(database: try server.freshDatabaseName("load"), workspace: "line")
            let moved = try Tool.run(["migrate", pristine, "--to", workspace],
                                     environment: ["NEARCAIPI_STATION_FOLDER": directory.file("station-migrate")])
            try #require(moved.status == 0, "\(moved.standardError)")
        }
        /// A station: its own working folder, and its own station folder on a server.
        func station(_ name: String) throws -> (folder: String, environment: [String: String]) {
            let folder = directory.file("stations/\(name)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            return (folder, ["NEARCAIPI_STATION_FOLDER": folder + "/cache"])
        }

        let started = Date()
        let supervisorStation = try station("supervisor")
        let think = ["--think-seconds", "\(load.thinkSeconds)"]
        let supervisor = try KillAnywhereTests.Running(["expert", workspace, "--user", "supervisor", "--role", "supervisor"] + think,
                                                       environment: supervisorStation.environment, in: supervisorStation.folder)
        let inspectors = try (0..<load.inspectors).map { index in
            let name = String(format: "inspector%02d", index)
            let place = try station(name)
            return try KillAnywhereTests.Running(["expert", workspace, "--user", name, "--role", "inspector",
                                                  "--answers", "\(load.answersEach)"] + think,
                                                 environment: place.environment, in: place.folder)
        }
        // The operator trains round after round while they answer (fine-tuning, 1 epoch).
        let operatorStation = try station("operator")
        var trainer: KillAnywhereTests.Running?
        var roundsTrained = 0, trainerFailures: [String] = []
        var restartedAt: Int?, restartSeconds = 0.0
        let target = load.inspectors * load.answersEach
        while inspectors.contains(where: { $0.process.isRunning }) {
            if let running = trainer, !running.process.isRunning {
                usleep(50_000)
                if running.process.terminationStatus == 0 { roundsTrained += 1 } else { trainerFailures.append(running.output.err) }
                trainer = nil
            }
            if trainer == nil {
                trainer = try KillAnywhereTests.Running(["train", workspace, "--epochs", "1"],
                                                        environment: operatorStation.environment, in: operatorStation.folder,
                                                        niceness: Self.trainerNiceness)
            }
            if let server, restartedAt == nil {
                let answered = inspectors.reduce(0) { $0 + SeveralInspectorsTests.acknowledged($1.output.out).count }
                if answered >= target * 2 / 5 {
                    // The plug pulled on the server (immediate stop), and it starts again.
                    let restarting = Date()
                    try server.restart()
                    restartSeconds = Date().timeIntervalSince(restarting)
                    restartedAt = answered
                }
            }
            usleep(200_000)
        }
        if let trainer {
            trainer.process.waitUntilExit()
            usleep(50_000)
            if trainer.process.terminationStatus == 0 { roundsTrained += 1 } else { trainerFailures.append(trainer.output.err) }
        }
        // A short run can end before a round finished (or, on a server, before one finished
        // after the restart): the operator trains one more, which must go through.
        if roundsTrained == 0 || restartedAt != nil {
            let last = try Tool.run(["train", workspace, "--epochs", "1"], environment: operatorStation.environment)
            if last.status == 0 { roundsTrained += 1 } else { trainerFailures.append(last.standardError) }
        }
        // The supervisor stops on SIGTERM once the review in hand is stored.
        kill(supervisor.process.processIdentifier, SIGTERM)
        supervisor.process.waitUntilExit()
        usleep(50_000)
        let seconds = Date().timeIntervalSince(started)

        #expect(supervisor.process.terminationStatus == 0, "supervisor: \(supervisor.output.err.suffix(400))")
        var acknowledged = SeveralInspectorsTests.acknowledged(supervisor.output.out)
        let onlyReviews = acknowledged.allSatisfy { $0.review }
        #expect(onlyReviews, "the supervisor answers reviews only")
        // "stored in" is the whole submission, refutations and near neighbours included;
        // "committed in" the part of it until the answer was in the store.
        var picks: [Double] = [], stores = Self.milliseconds(supervisor.output.err, after: "review stored in ")
        var commits = Self.milliseconds(supervisor.output.err, after: "committed in ")
        for (index, inspector) in inspectors.enumerated() {
            let (out, err) = inspector.output
            // Whatever a library printed on standard output besides the acknowledgements is shown too.
            let other = out.split(separator: "\n").filter { !$0.hasPrefix("stored ") }.joined(separator: "\n")
            #expect(inspector.process.terminationStatus == 0 && inspector.process.terminationReason == .exit,
                    "inspector \(index): \(inspector.process.terminationReason) \(inspector.process.terminationStatus): \(other.suffix(300)) \(err.suffix(400))")
            let answers = SeveralInspectorsTests.acknowledged(out)
            let onlyQueries = !answers.contains { $0.review }
            #expect(answers.count == load.answersEach && onlyQueries,
                    "inspector \(index) acknowledged \(answers.count): \(err.suffix(300))")
            acknowledged += answers
            picks += Self.milliseconds(err, after: "picked in ")
            stores += Self.milliseconds(err, after: "stored in ")
            commits += Self.milliseconds(err, after: "committed in ")
        }
        // A trainer may only have failed when the server went away under it.
        #expect(trainerFailures.count <= (restartedAt == nil ? 0 : 1), "\(trainerFailures.prefix(3).map { $0.suffix(300) })")
        #expect(roundsTrained >= 1)

        // What the store holds, read by a station of its own.
        let checks = try station("checks")
        setenv("NEARCAIPI_STATION_FOLDER", checks.environment["NEARCAIPI_STATION_FOLDER"]!, 1)
        defer { unsetenv("NEARCAIPI_STATION_FOLDER") }
        let stored = try Workspace(opening: workspace)
        let rows = try stored.feedbackLog().filter { $0.user == "supervisor" || $0.user.hasPrefix("inspector") }
        // 0 lost, 0 doubled: exactly the acknowledged answers, each once.
        let acknowledgedIDs = Set(acknowledged.map(\.id))
        #expect(acknowledgedIDs.count == acknowledged.count, "an id was acknowledged twice")
        let lost = acknowledgedIDs.subtracting(rows.map(\.id)), extra = Set(rows.map(\.id)).subtracting(acknowledgedIDs)
        #expect(lost.isEmpty && extra.isEmpty && rows.count == acknowledged.count,
                "\(lost.count) acknowledged answers missing, \(extra.count) stored unacknowledged")
        // No part answered twice: no query leased to two stations, no review answered twice.
        var answersPerPart: [String: Int] = [:]
        for row in rows { answersPerPart[row.itemPath, default: 0] += 1 }
        let twice = answersPerPart.filter { $0.value > 1 }
        #expect(twice.isEmpty, "parts answered more than once: \(twice.keys.sorted().prefix(5))")
        #expect(try stored.rounds().count >= 1 + roundsTrained)

        // On a server every station's connection was cut: those that spoke to it then waited and went on.
        let sawTheRestart = (inspectors + [supervisor]).filter {
            $0.output.err.contains("the server went away") && $0.output.err.contains("the store answers again")
        }.count
        if restartedAt != nil { #expect(sawTheRestart >= 1, "no station noticed the server's restart") }
        let reviews = acknowledged.filter(\.review).count
        func figures(_ values: [Double]) -> String {
            String(format: "p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms (%d)", Self.quantile(values, 0.5),
                   Self.quantile(values, 0.95), Self.quantile(values, 0.99), values.max() ?? .nan, values.count)
        }
        let store = onServer ? "PostgreSQL server" : "SQLite folder"
        let restart = restartedAt.map { String(format: ", server restarted after %d answers (down %.1f s; %d stations waited for it and went on)", $0, restartSeconds, sawTheRestart) } ?? ""
        let elapsed = String(format: "%.0f s", seconds)
        let queries = acknowledged.count - reviews
        var report = "station load (\(store)): \(load.inspectors) inspectors and a supervisor, thinking \(load.thinkSeconds) s a part, "
        report += Self.trainerNiceness.map { "trainer at nice \($0), " } ?? ""
        report += "\(acknowledged.count) answers "
        report += "(\(queries) queries, \(reviews) reviews) in \(elapsed), \(roundsTrained) rounds trained meanwhile\(restart); "
        report += "next query leased: \(figures(picks)); answer stored (committed): \(figures(commits)); "
        report += "answer with its refutations and near hits / misses: \(figures(stores)); 0 lost, 0 doubled, 0 parts answered twice"
        print(report)
    }
}
