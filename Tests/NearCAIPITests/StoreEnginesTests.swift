import Foundation
@testable import NearCAIPI
import Storage
import Testing
import TestSupport

/// The workspace store on both engines: the same calls give the same records on the embedded
/// SQLite file and on a PostgreSQL server (a throwaway cluster the tests start), and a
/// workspace on a server is created, found and refused as a person would expect.
@Suite struct StoreEnginesTests {
    static let originals: [NewOriginal] = [
        NewOriginal(path: "ok/a.png", contentHash: "1", split: .train, label: .ok, truthLabel: .ok, truthMaskPath: nil, problem: nil),
        NewOriginal(path: "nok/b.png", contentHash: "2", split: .train, label: .nok, truthLabel: .nok, truthMaskPath: "masks/b.png", problem: nil),
        NewOriginal(path: "ok/c.png", contentHash: "3", split: .validation, label: .ok, truthLabel: .ok, truthMaskPath: nil, problem: nil),
        NewOriginal(path: "nok/d.png", contentHash: "4", split: .test, label: .nok, truthLabel: .nok, truthMaskPath: nil, problem: nil),
        NewOriginal(path: "nok/e.png", contentHash: "5", split: .pool, label: nil, truthLabel: .nok, truthMaskPath: nil, problem: nil,
                    oddity: "far darker than the typical part"),
        NewOriginal(path: "ok/f.png", contentHash: "6", split: .pool, label: nil, truthLabel: .ok, truthMaskPath: nil, problem: nil),
        NewOriginal(path: "ok/g.png", contentHash: nil, split: .pool, label: nil, truthLabel: .ok, truthMaskPath: nil,
                    problem: "not a PNG or JPEG file"),
    ]

    /// A workspace's life through the store — index, settings, leases, an answer, rounds
    /// going live, a candidate, a rollback, reviews, a revert — and what each step left, as
    /// lines a person can read in a failure.
    static func lifeOfAWorkspace(_ store: WorkspaceStore) throws -> [String] {
        var seen: [String] = []
        try store.create(settings: [("architecture", "resnet-small"), ("seed", "1")], originals: originals)
        try store.setSettings([("seed", "2")])
        seen.append("settings \(try store.setting("architecture") ?? "-") \(try store.setting("seed") ?? "-") \(try store.setting("none") ?? "-")")
        seen.append("pool \(try store.items(in: .pool, labelledOnly: false).map(\.path))")
        seen.append("training labelled \(try store.items(in: .train, labelledOnly: true).map { "\($0.path)=\($0.label!.rawValue)" })")
        seen.append("odd \(try store.oddItems().map(\.path))")
        let counts = try store.originalCounts().map { "\($0.split.rawValue)/\($0.label.map { "\($0.rawValue)" } ?? "-")/\($0.isUsable)/\($0.hasMask)=\($0.count)" }
        seen.append("counts \(counts.sorted())")

        let e = try #require(try store.item(at: "nok/e.png"))
        let f = try #require(try store.item(at: "ok/f.png"))
        try store.lease(e.id, to: "ann", until: 100)
        try store.lease(e.id, to: "bob", until: 200)
        try store.lease(f.id, to: "ann", until: 50)
        seen.append("leases at 75 \(try store.leases(unexpiredAt: 75).map { "\($0.path):\($0.user):\($0.expires)" })")
        try store.releaseLease(f.id, of: "bob")
        seen.append("leases \(try store.leases(unexpiredAt: nil).count)")
        // Claims: a part another holds is not taken until the lease runs out; the holder
        // renews; a part that is not in the pool is never leased.
        let trained = try #require(try store.item(at: "ok/a.png"))
        let claims = [try store.claimLease(f.id, to: "cy", until: 300, now: 40), try store.claimLease(f.id, to: "dee", until: 300, now: 60),
                      try store.claimLease(f.id, to: "cy", until: 400, now: 70), try store.claimLease(f.id, to: "dee", until: 500, now: 80),
                      try store.claimLease(trained.id, to: "cy", until: 300, now: 40)]
        seen.append("claims \(claims) \(try store.leases(unexpiredAt: 75).map { "\($0.path):\($0.user):\($0.expires)" })")

        let mask: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]
        let answer = try store.transaction {
            let id = try store.insertFeedback(FeedbackEvent(itemPath: e.path, user: "bob", role: .inspector, predictedLabel: .ok,
                                                            predictedConfidence: 0.625, prediction: .wrong, explanation: .wrong,
                                                            correctedLabel: .nok, correctedMask: mask),
                                              itemID: e.id, time: Date(timeIntervalSince1970: 1_800_000_000), movedFromPool: true)
            let split = try store.establish(.nok, itemID: e.id, intoTraining: true)
            seen.append("answer moved the part to \(split?.rawValue ?? "-")")
            return id
        }
        _ = try store.insertFeedback(FeedbackEvent(itemPath: f.path, user: "ann", prediction: .skip), itemID: f.id,
                                     time: Date(timeIntervalSince1970: 1_800_000_060), movedFromPool: false)
        seen.append("leases after the answer \(try store.leases(unexpiredAt: nil).map(\.path))")
        seen.append("pending \(try store.pendingFeedbackCount()) bob \(try store.pendingFeedbackCount(user: "bob")) ann \(try store.pendingFeedbackCount(user: "ann"))")
        seen.append("not to ask ann \(try store.itemIDsNotToAsk("ann").sorted() == [e.id, f.id]) bob \(try store.itemIDsNotToAsk("bob").sorted() == [e.id])")
        seen.append("mask \(try store.paintedMask(of: e.path) == mask)")
        seen.append("answered \(try store.answeredItemIDs().count) last \(try store.lastFeedbackID() == answer + 1)")

        try store.record(Round(number: 1, checkpoint: "models/round-001.safetensors", status: .active, trainingSize: 3, metrics: nil),
                         parentNumber: nil, lastFeedbackID: answer)
        try store.record(Round(number: 2, checkpoint: "models/round-002.safetensors", status: .active, trainingSize: 3, metrics: nil),
                         parentNumber: 1, lastFeedbackID: answer)
        // Trained from round 1 while round 2 went live: recorded as a candidate.
        let late = try store.record(Round(number: 3, checkpoint: "models/round-003.safetensors", status: .active, trainingSize: 3,
                                          metrics: RoundMetrics(validation: ClassificationMetrics(predictions: [0, 1], truth: [0, 1]),
                                                                test: ClassificationMetrics(predictions: [1, 1], truth: [0, 1]),
                                                                epochs: 4, bestEpoch: 3, seconds: 1.5)),
                                    parentNumber: 1, lastFeedbackID: answer)
        seen.append("late round \(late.status.rawValue) in use changed to \(late.metrics?.inUseChangedTo ?? -1)")
        seen.append("rounds \(try store.rounds().map { "\($0.number):\($0.status.rawValue):\($0.replacedNumber ?? 0)" })")
        seen.append("promote 3 \(try store.promote(3)) again \(try store.promote(3)) discard 3 \(try store.discard(3))")
        try store.rollback(to: 1)
        seen.append("after rollback \(try store.rounds().map { "\($0.number):\($0.status.rawValue)" })")
        let log = try store.feedbackLog()
        seen.append("log \(log.map { "\($0.itemPath):\($0.user):\($0.role?.rawValue ?? "-"):\($0.prediction?.rawValue ?? "-"):\($0.hasCorrectedMask):\($0.roundNumber ?? 0):\($0.trainedInto):\($0.time)" })")
        seen.append("metrics kept \(try store.rounds().last?.metrics?.test.accuracy ?? -1)")

        let a = try #require(try store.item(at: "ok/a.png"))
        _ = a
        try store.queueReview(of: f.path, reason: .nearMiss, forQuery: e.path, at: Date(timeIntervalSince1970: 1_800_000_100))
        try store.queueReview(of: f.path, reason: .nearMiss, forQuery: e.path, at: Date(timeIntervalSince1970: 1_800_000_200))
        let reviews = try store.reviews(openOnly: true)
        seen.append("reviews \(reviews.map { "\($0.path):\($0.reason.rawValue):\($0.of):\($0.isOpen)" })")
        let review = try #require(reviews.first)
        // A part waiting for review is asked of nobody (ann's skip alone would leave it to cy).
        let waiting = try store.itemIDsNotToAsk("cy").contains(f.id)
        seen.append("review open \(try store.reviewIsOpen(review.id)) close \(try store.closeReview(review.id)) again \(try store.closeReview(review.id))")
        seen.append("waiting for review not asked \(waiting) then asked \(try !store.itemIDsNotToAsk("cy").contains(f.id))")

        try store.revert([answer])
        let back = try #require(try store.item(at: e.path))
        seen.append("reverted part \(back.split.rawValue) label \(back.label.map { "\($0.rawValue)" } ?? "-") pending \(try store.pendingFeedbackCount())")
        try store.addRefutation(NewRefutation(path: "refutations/b-1.png", maskPath: "refutations/b-1-mask.png", transform: "zoom 1.2"),
                                of: try #require(try store.item(at: "nok/b.png")).id, label: .nok)
        seen.append("refutations \(try store.refutations(of: "nok/b.png").map { "\($0.path):\($0.split.rawValue):\($0.origin.rawValue)" }) children \(try store.childCount(of: try #require(try store.item(at: "nok/b.png")).id))")
        seen.append("exported \(try store.exportedItems().map(\.item.path))")
        seen.append("schema \(try store.schemaVersion == WorkspaceSchema.currentVersion) problems \(try store.integrityProblems())")
        return seen
    }

    @Test func theSameCallsGiveTheSameRecordsOnBothEngines() throws {
        let folder = TemporaryDirectory("store-engines")
        defer { folder.remove() }
        let onSQLite = try Self.lifeOfAWorkspace(WorkspaceStore(opening: folder.file(WorkspaceStore.fileName), workspacePath: folder.path))
        let server = try PostgresTestServer.shared()
        let connection = try PostgresConnection(try server.freshDatabase("engines"))
        let onServer = try Self.lifeOfAWorkspace(WorkspaceStore(connection: connection, workspace: "line-3", creating: true))
        for (sqlite, postgres) in zip(onSQLite, onServer) { #expect(sqlite == postgres) }
        #expect(onSQLite.count == onServer.count)
        // And what they say is what a workspace's life should leave.
        #expect(onSQLite.contains("answer moved the part to train"))
        #expect(onSQLite.contains("claims [false, true, false, true, false] [\"nok/e.png:bob:200.0\", \"ok/f.png:dee:500.0\"]"), "\(onSQLite)")
        #expect(onSQLite.contains("late round candidate in use changed to 2"))
        #expect(onSQLite.contains("promote 3 true again false discard 3 false"))
        #expect(onSQLite.contains("after rollback [\"1:active\", \"2:rolled_back\", \"3:rolled_back\"]"))
        #expect(onSQLite.contains("review open true close true again false"))
        #expect(onSQLite.contains("waiting for review not asked true then asked true"))
        #expect(onSQLite.contains("reverted part pool label - pending 0"))
    }

    @Test func aServerWorkspaceIsCreatedOnceFoundByNameAndSharedByConnections() throws {
        let server = try PostgresTestServer.shared()
        let database = try server.freshDatabase("names")
        let first = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "Line_3", creating: true)
        try first.create(settings: [("seed", "7")], originals: Array(Self.originals.prefix(2)))
        // A second station opens it by name and sees what the first wrote, and its news.
        let second = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "Line_3", creating: false)
        #expect(try second.setting("seed") == "7" && second.items(in: .train, labelledOnly: true).count == 2)
        let before = try second.changesByOthers
        try first.setSettings([("seed", "8")])
        #expect(try second.changesByOthers != before && second.setting("seed") == "8")
        // Another workspace in the same database is another set of tables.
        let other = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "line-4", creating: true)
        #expect(try other.items(in: .train, labelledOnly: false).isEmpty)

        func refusal(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "accepted"
        }
        let twice = refusal { _ = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "Line_3", creating: true) }
        #expect(twice.contains("workspace 'Line_3'") && twice.contains("exists already"))
        let missing = refusal { _ = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "line-9", creating: false) }
        #expect(missing.contains("workspace 'line-9'") && missing.contains("no such workspace"))
        let badName = refusal { _ = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "a; DROP", creating: true) }
        #expect(badName.contains("a; DROP") && badName.contains("not a usable workspace name"))
        // Nothing half-made: the failed attempts left the two workspaces and no other.
        let check = try PostgresConnection(database)
        #expect(try check.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'nearcaipi_%' ORDER BY 1")
                == [[.text("nearcaipi_Line_3")], [.text("nearcaipi_line-4")]])
    }

    /// A station hears another's commit as news: on a server within a second of the commit
    /// (LISTEN / NOTIFY, no polling), on SQLite through the file's change counter; and no news
    /// is no news.
    @Test(arguments: [false, true])
    func aStationHearsAnotherStationsCommit(onServer: Bool) throws {
        let folder = TemporaryDirectory("store-news")
        defer { folder.remove() }
        let database = onServer ? try PostgresTestServer.shared().freshDatabase("news") : ""
        func station(creating: Bool = false) throws -> WorkspaceStore {
            guard onServer else { return try WorkspaceStore(opening: folder.file(WorkspaceStore.fileName), workspacePath: folder.path) }
            return try WorkspaceStore(connection: try PostgresConnection(database), workspace: "news", creating: creating)
        }
        try station(creating: true).create(settings: [], originals: Self.originals)
        let listener = try station(), writer = try station()
        #expect(try !listener.news(waitingUpTo: 0.2))
        let part = try #require(try writer.item(at: "ok/f.png")).id
        let written = Date()
        try writer.lease(part, to: "ann", until: Date().timeIntervalSince1970 + 60)
        #expect(try listener.news(waitingUpTo: 5))
        #expect(Date().timeIntervalSince(written) < 1)
        #expect(try listener.leases(unexpiredAt: nil).map(\.user) == ["ann"])
    }

    /// A server workspace keeps its files in the store: written with the rows that refer to
    /// them (a rolled-back transaction leaves neither), read back whole across chunks, replaced,
    /// listed and removed; a corrupted chunk is refused by name, and a folder workspace says its
    /// files live in its folder.
    @Test func aServerWorkspaceKeepsItsFilesInTheStore() throws {
        let database = try PostgresTestServer.shared().freshDatabase("files")
        let store = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "files", creating: true)
        // Three chunks and a bit: the last chunk short.
        var checkpoint = [UInt8](repeating: 0, count: 3 * WorkspaceStore.chunkSize + 12_345)
        for i in checkpoint.indices { checkpoint[i] = UInt8(truncatingIfNeeded: (i &* 2_654_435_761) >> 11) }
        try store.transaction { try store.putFile("models/round-001.safetensors", bytes: checkpoint) }
        try store.transaction { try store.putFile("refutations/empty.png", bytes: []) }
        struct Abandoned: Error {}
        #expect(throws: Abandoned.self) {
            try store.transaction {
                try store.putFile("models/round-002.safetensors", bytes: [1, 2, 3])
                throw Abandoned()
            }
        }
        let other = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "files", creating: false)
        #expect(try other.fileBytes("models/round-001.safetensors") == checkpoint)
        #expect(try other.fileBytes("refutations/empty.png") == [])
        #expect(try other.fileBytes("models/round-002.safetensors") == nil)
        #expect(try other.storedFiles(under: "models/").map(\.path) == ["models/round-001.safetensors"])
        #expect(try other.storedFile("models/round-001.safetensors")?.size == checkpoint.count)
        // Replaced: the old chunks go with the old content.
        try store.transaction { try store.putFile("models/round-001.safetensors", bytes: [9, 8, 7]) }
        #expect(try other.fileBytes("models/round-001.safetensors") == [9, 8, 7])
        try store.transaction { try store.removeFile("refutations/empty.png") }
        #expect(try other.storedFiles().map(\.path) == ["models/round-001.safetensors"])
        // Bytes that no longer match their record are refused, naming the file.
        try PostgresConnection(database).execute("UPDATE nearcaipi_files.file_chunks SET bytes = '\\x000000'")
        do {
            _ = try other.fileBytes("models/round-001.safetensors")
            Issue.record("a changed file was read as good")
        } catch {
            #expect("\(error)".contains("models/round-001.safetensors") && "\(error)".contains("does not match"))
        }
        let folder = TemporaryDirectory("store-files")
        defer { folder.remove() }
        let onFolder = try WorkspaceStore(opening: folder.file(WorkspaceStore.fileName), workspacePath: folder.path)
        #expect(throws: WorkspaceError.self) { try onFolder.putFile("models/x", bytes: [1]) }
    }

    /// One round trains at a time on a server workspace, whichever station asks; the turn is
    /// given back at the end, and by a station that went away while holding it.
    @Test func oneStationTrainsAtATime() throws {
        let database = try PostgresTestServer.shared().freshDatabase("turn")
        _ = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "w", creating: true)
        func station() throws -> WorkspaceStore { try WorkspaceStore(connection: try PostgresConnection(database), workspace: "w", creating: false) }
        let a = try station(), b = try station()
        #expect(try a.beginTraining())
        #expect(try !b.beginTraining())
        try a.endTraining()
        #expect(try b.beginTraining())
        var crashing: WorkspaceStore? = try station()
        try b.endTraining()
        #expect(try crashing!.beginTraining())
        #expect(try !a.beginTraining())
        crashing = nil  // its connection closes, as a killed station's would
        // The server ends the session as soon as it reads the goodbye; give it a moment.
        var freed = try a.beginTraining()
        for _ in 0..<40 where !freed {
            usleep(50_000)
            freed = try a.beginTraining()
        }
        #expect(freed)
        // Another workspace on the same server has its own turn.
        let other = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "v", creating: true)
        #expect(try other.beginTraining())
    }

    /// Two stations answering at once through write transactions: the writers take turns, so
    /// a check made inside one (here: the part is still in the pool) holds at its commit.
    @Test func writersOnAServerTakeTurns() throws {
        let server = try PostgresTestServer.shared()
        let database = try server.freshDatabase("turns")
        let setup = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "w", creating: true)
        try setup.create(settings: [], originals: Self.originals)
        let part = try #require(try setup.item(at: "ok/f.png")).id
        let moved = AnswersMade()
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            do {
                // Each station its own connection, opened on its own thread.
                let store = try WorkspaceStore(connection: try PostgresConnection(database), workspace: "w", creating: false)
                try store.transaction {
                    guard try store.item(at: "ok/f.png")?.split == .pool else { return }
                    Thread.sleep(forTimeInterval: 0.05)
                    _ = try store.insertFeedback(FeedbackEvent(itemPath: "ok/f.png", user: "station-\(index)", prediction: .right,
                                                               correctedLabel: .ok),
                                                 itemID: part, time: Date(), movedFromPool: true)
                    _ = try store.establish(.ok, itemID: part, intoTraining: true)
                    moved.add()
                }
            } catch {
                Issue.record("station \(index): \(error)")
            }
        }
        #expect(moved.value == 1)
        #expect(try setup.feedbackLog().count == 1)
    }
}

/// A count several threads add to.
final class AnswersMade: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
