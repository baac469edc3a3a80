import Foundation
import NearCAIPI
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Several people at once on one workspace, each a separate process through the session API:
/// four inspectors answering while the operator trains a round, and an inspector that crashes
/// holding a query.
@Suite(.serialized) struct SeveralInspectorsTests {
    static func trainedWorkspace(_ directory: TemporaryDirectory, count: Int) throws -> (workspace: String, data: String) {
        let data = directory.file("data"), workspace = directory.file("ws")
        #expect(try Tool.run(["sample", "--out", data, "--count", "\(count)", "--size", "32"]).status == 0)
        #expect(try Tool.run(["init", workspace, "--data", data, "--input", "32"]).status == 0)
        #expect(try Tool.run(["train", workspace, "--epochs", "2"]).status == 0)
        return (workspace, data)
    }

    static func acknowledged(_ output: String) -> [(id: Int64, item: String, review: Bool)] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 3, fields[0] == "stored", let id = Int64(fields[1]) else { return nil }
            return (id, String(fields[2]), fields.count > 3)
        }
    }

    @Test func fourInspectorsAndARetrainingOperatorLoseNothing() throws {
        let directory = TemporaryDirectory("inspectors")
        defer { directory.remove() }
        // Pool large enough that nobody runs dry: 24 queries, and each wrong prediction takes up
        // to two more pool items as near hit / miss reviews (200 images leave 80 in the pool).
        let (workspace, _) = try Self.trainedWorkspace(directory, count: 200)
        let inspectors = try (0..<4).map { index in
            try KillAnywhereTests.Running(["expert", workspace, "--user", "inspector\(index)", "--answers", "6"])
        }
        usleep(300_000)
        let operatorRun = try KillAnywhereTests.Running(["train", workspace, "--epochs", "3"])
        for process in inspectors + [operatorRun] { process.process.waitUntilExit() }
        usleep(50_000)
        #expect(operatorRun.process.terminationStatus == 0, "\(operatorRun.output.err.suffix(300))")
        var all: [(id: Int64, item: String, review: Bool)] = []
        for (index, inspector) in inspectors.enumerated() {
            #expect(inspector.process.terminationStatus == 0, "inspector\(index): \(inspector.output.err.suffix(300))")
            let stored = Self.acknowledged(inspector.output.out)
            #expect(stored.filter { !$0.review }.count == 6, "inspector\(index) answered \(stored.count): \(inspector.output.err.suffix(200))")
            all += stored
        }
        let stored = try Workspace(opening: workspace)
        // 0 lost, 0 duplicated: exactly the acknowledged rows, each once.
        let rows = try stored.feedbackLog().filter { $0.user.hasPrefix("inspector") }.map(\.id)
        #expect(Set(rows) == Set(all.map(\.id)) && rows.count == all.count)
        // No query went to two people: every item was answered as a query by one inspector.
        let queries = all.filter { !$0.review }.map(\.item)
        #expect(Set(queries).count == queries.count, "an item was given to two inspectors: \(queries)")
        // How long the inspectors waited while the operator trained (reported, see Reliability.md).
        func milliseconds(after marker: String) -> [Double] {
            inspectors.flatMap { inspector in
                inspector.output.err.split(separator: "\n").compactMap { line -> Double? in
                    guard let range = line.range(of: marker) else { return nil }
                    return Double(line[range.upperBound...].prefix { $0 != " " && $0 != ")" })
                }
            }
        }
        let picks = milliseconds(after: "picked in "), stores = milliseconds(after: "stored in ")
        #expect(picks.count >= 24 && stores.count >= 24)
        print("several inspectors: 4 processes, \(all.count) answers, operator trained meanwhile; slowest query pick "
              + "\(picks.max() ?? 0) ms, slowest answer stored \(stores.max() ?? 0) ms (median \(stores.sorted()[stores.count / 2]) ms)")
        // The operator's round is there.
        #expect(try stored.rounds().count == 2)
    }

    @Test func aCrashedInspectorsQueryIsFreedWhenItsLeaseExpires() throws {
        let directory = TemporaryDirectory("lease")
        defer { directory.remove() }
        // A pool large enough that the inspector is still answering when the kill comes: with
        // 40 parts it could answer them all between two looks at the leases (about 1 ms an
        // answer with refutations and neighbours off).
        let (workspace, _) = try Self.trainedWorkspace(directory, count: 200)
        // Refutations and near neighbours off: each answer then takes one query only.
        let stored = try Workspace(opening: workspace)
        var settings = try LoopSettings.stored(in: stored)
        settings.makesRefutations = false
        settings.asksNeighbours = false
        try settings.store(in: stored)
        // Killed at a random moment, the inspector may have been between an answer (whose
        // commit ends its lease) and the next lease: then it holds nothing, and it is started
        // and killed again. Deadlines are generous: on a loaded 2-core machine a starting
        // process may take many seconds before its first lease.
        let leaseSeconds = 15.0
        var orphan: Lease?
        for _ in 0..<5 where orphan == nil {
            let crashing = try KillAnywhereTests.Running(["expert", workspace, "--user", "crashing",
                                                          "--lease-seconds", "\(Int(leaseSeconds))"])
            var held: String?
            let giveUp = Date().addingTimeInterval(120)
            while held == nil, crashing.process.isRunning, Date() < giveUp {
                usleep(1_000)
                held = try stored.leases(includingExpired: true).first { $0.user == "crashing" }?.path
            }
            let (out, err) = crashing.killAndWait()
            _ = try #require(held, "the inspector took no query in 120 s: \(err.suffix(300))")
            let answered = Set(Self.acknowledged(out).map(\.item))
            orphan = try stored.leases().filter { $0.user == "crashing" }.first { !answered.contains($0.path) }
        }
        let lease = try #require(orphan, "the crashed inspector never held an unanswered query")
        // While the lease runs, nobody else is given it.
        let early = try Tool.run(["expert", workspace, "--user", "other", "--answers", "1"])
        let earlyEnded = Date().timeIntervalSince1970
        #expect(earlyEnded < lease.expires, "the check ran past the lease (\(earlyEnded - lease.expires) s late); lengthen it")
        #expect(!early.standardOutput.contains(lease.path))
        let untilExpiry = lease.expires - Date().timeIntervalSince1970
        if untilExpiry > 0 { usleep(UInt32((untilExpiry + 0.2) * 1_000_000)) }
        // After it expired, it is asked again.
        let later = try Tool.run(["expert", workspace, "--user", "other", "--answers", "1"])
        #expect(later.standardOutput.contains("stored") && later.standardOutput.contains(lease.path), "\(later.standardOutput)")
    }

    @Test func expertAndCameraUsageErrors() throws {
        try expectUsageError(["expert"], "WORKSPACE")
        try expectUsageError(["expert", "ws", "--answers", "0"], "option '--answers' must be between 1 and 100000")
        try expectUsageError(["expert", "ws", "--epochs", "many"], "option '--epochs' needs a whole number")
        try expectUsageError(["expert", "ws", "--lease-seconds", "0"], "option '--lease-seconds' must be between 1 and 86400")
        try expectUsageError(["expert", "ws", "--user", ""], "option '--user' needs a name")
        try expectUsageError(["sample", "--out", "x", "--camera", "1600"], "option '--camera' needs WIDTHxHEIGHT")
        try expectUsageError(["sample", "--out", "x", "--camera", "9000x10"], "option '--camera' needs WIDTHxHEIGHT")
        #expect(!FileManager.default.fileExists(atPath: "x") && !FileManager.default.fileExists(atPath: "ws"))
    }
}
