import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import NearCAIPI
import NeuralNet
import Testing
import TestSupport

@Suite struct QueryStrategyTests {
    @Test func informativenessOrdersUncertainFirst() {
        let unsure: [Float] = [0.55, 0.45], sure: [Float] = [0.9, 0.1]
        for strategy in [QueryStrategy.leastConfidence, .margin, .entropy] {
            #expect(strategy.informativeness(unsure) > strategy.informativeness(sure), "\(strategy)")
        }
        #expect(abs(QueryStrategy.leastConfidence.informativeness(unsure) - 0.45) < 1e-6)
        #expect(abs(QueryStrategy.entropy.informativeness([0.5, 0.5]) - logf(2)) < 1e-6)
        #expect(cosine([1, 0], [0, 1]) == 0 && cosine([1, 2], [2, 4]) == 1)
    }

    /// Review first: a part the active round's cuts send to review comes before any other,
    /// however sure the model is of it; among them, and after them, least confident first.
    @Test func reviewFirstAsksWhatAPersonWouldLookAtAnyway() throws {
        // Pass below 0.2, reject above 0.95: P(NOK) 0.9 is a review, 0.5 too, 0.1 a pass.
        let cuts = try #require(OperatingPoint(validation: ([0.05, 0.1, 0.95, 0.2, 0.96, 0.99], [0, 0, 0, 1, 1, 1]),
                                               test: ([], []), maxMissed: 0, maxRejected: 0))
        #expect(cuts.passBelow == 0.2 && cuts.rejectAbove == 0.95)
        let rule = QueryStrategy.reviewFirst
        func score(_ nok: Float) -> Float { rule.informativeness([1 - nok, nok], cuts: cuts) }
        #expect(score(0.9) > score(0.15))    // a sure review before an unsure pass
        #expect(score(0.5) > score(0.9))     // among reviews, the less sure first
        #expect(score(0.15) > score(0.05))   // among passes, the less sure first
        #expect(score(0.97) < score(0.9))    // a reject is not a review
        // Without cuts it is least confidence.
        #expect(rule.informativeness([0.6, 0.4]) == QueryStrategy.leastConfidence.informativeness([0.6, 0.4]))
    }

    /// Disagreement first: a part whose two maps point at different places comes before any
    /// other, however sure the model is; among them, and after them, least confident first.
    @Test func disagreementFirstAsksWhereTheMapsDisagree() {
        let rule = QueryStrategy.disagreementFirst
        func score(_ nok: Float, _ disagree: Bool) -> Float { rule.informativeness([1 - nok, nok], mapsDisagree: disagree) }
        #expect(score(0.95, true) > score(0.5, false))
        #expect(score(0.5, true) > score(0.9, true))
        #expect(score(0.6, false) > score(0.9, false))
        #expect(rule.informativeness([0.6, 0.4]) == QueryStrategy.leastConfidence.informativeness([0.6, 0.4]))
    }
}

@Suite(.serialized) struct QuerySelectionTests {
    /// A workspace over the bundled weld data at 32 px with one quickly trained round.
    static func trainedWorkspace(_ directory: TemporaryDirectory) throws -> Workspace {
        var options = WorkspaceOptions()
        options.inputSize = 32
        let (workspace, _) = try Workspace.create(at: directory.file("ws"), dataRoot: repositoryRoot() + "/SampleData/weld", options: options)
        var training = TrainingOptions()
        training.epochs = 1
        training.method = .adam(learningRate: 0.001)
        _ = try workspace.trainRound(options: training, fromScratch: true) { _ in true }
        // These tests are about the loop, not about when a round goes live (its own test in
        // RoundPromotionTests): every round they train replaces the model in use.
        try workspace.setPromotion(.always)
        return workspace
    }

    @Test func queriesAreLeasedAnsweredOnesSkippedAndNeighboursConsistent() throws {
        let directory = TemporaryDirectory("queries")
        defer { directory.remove() }
        let workspace = try Self.trainedWorkspace(directory)
        let pool = try PoolModel(workspace: workspace)
        #expect(pool.predictions.count == 80)

        // The first query is the least confident pool item.
        let now = 1_000_000.0
        let ranked = pool.predictions.sorted { QueryStrategy.leastConfidence.informativeness($0.probabilities)
            > QueryStrategy.leastConfidence.informativeness($1.probabilities) }
        // A part the person is answering as a review on their other screen (one waiting in
        // the review queue) is passed over.
        try workspace.store.queueReview(of: ranked[0].path, reason: .nearHit, forQuery: ranked[5].path, at: Date())
        let excluded = try #require(try pool.nextQuery(for: "zoe", now: now))
        #expect(excluded.itemID == ranked[1].itemID)
        try pool.release(excluded, for: "zoe")
        for review in try workspace.store.reviews(openOnly: true) { _ = try workspace.store.closeReview(review.id) }
        let anna = try #require(try pool.nextQuery(for: "anna", now: now))
        #expect(anna.itemID == ranked[0].itemID)
        // Another inspector never gets an item leased to someone else...
        let ben = try #require(try pool.nextQuery(for: "ben", now: now))
        #expect(ben.itemID != anna.itemID)
        // ...until the lease expires.
        let later = try #require(try pool.nextQuery(for: "carl", now: anna.expires + 1))
        #expect(later.itemID == anna.itemID)
        // Its first holder cannot renew it then: the part is carl's now.
        #expect(try pool.renew(anna, for: "anna", until: anna.expires + 2_000, now: anna.expires + 2) == nil)
        // A holder working on a query keeps it past the lease time by renewing it.
        let kept = try #require(try pool.renew(ben, for: "ben", until: ben.expires + 600, now: now + 10))
        #expect(kept.expires == ben.expires + 600)
        #expect(try pool.nextQuery(for: "dora", now: ben.expires + 1)?.itemID != ben.itemID)
        if let dora = try pool.nextQuery(for: "dora", now: ben.expires + 1) { try pool.release(dora, for: "dora") }

        // A skip hides the part from the one who skipped it only (one person's skips emptied
        // everyone's pool).
        let skipped = try #require(try pool.nextQuery(for: "gina", now: now + 5_000))
        try workspace.recordFeedback(FeedbackEvent(itemPath: skipped.path, user: "gina", predictedLabel: skipped.predictedLabel,
                                                   prediction: .skip, explanation: .skip))
        try pool.release(skipped, for: "gina")
        let again = try pool.nextQuery(for: "gina", now: now + 5_001)
        #expect(again?.itemID != skipped.itemID)
        if let again { try pool.release(again, for: "gina") }
        let hugo = try #require(try pool.nextQuery(for: "hugo", now: now + 5_002))
        #expect(hugo.itemID == skipped.itemID)
        try pool.release(hugo, for: "hugo")

        // An answered item is not asked again.
        try workspace.recordFeedback(FeedbackEvent(itemPath: anna.path, user: "anna", predictedLabel: anna.predictedLabel, prediction: .right))
        for user in ["dora", "emil", "fred"] {
            #expect(try pool.nextQuery(for: user, now: now + 10_000)?.itemID != anna.itemID)
        }

        // What the screens compute heatmaps for ahead is what nextQuery then offers: the
        // ranking without answered items and without items leased to anyone.
        let soon = now + 20_000
        let dora = try #require(try pool.nextQuery(for: "dora", now: soon))
        let ahead = try pool.upcoming(after: dora, for: "dora", strategy: .leastConfidence, count: 3, now: soon)
        #expect(ahead.count == 3 && !ahead.contains { $0.itemID == anna.itemID || $0.itemID == dora.itemID })
        try workspace.recordFeedback(FeedbackEvent(itemPath: dora.path, user: "dora", predictedLabel: dora.predictedLabel, prediction: .right))
        #expect(try pool.nextQuery(for: "dora", now: soon)?.itemID == ahead[0].itemID)
        let emil = try #require(try pool.nextQuery(for: "emil", now: soon))
        #expect(emil.itemID == ahead[1].itemID)
        #expect(try pool.upcoming(after: nil, for: "dora", strategy: .leastConfidence, count: 1, now: soon).first?.itemID == ahead[2].itemID)

        // Near hit: same class, most similar; near miss: other class, most similar; farthest: least similar.
        let neighbours = try pool.neighbours(of: ben.path)
        let query = try #require(pool.predictions.first { $0.path == ben.path })
        let hit = try #require(pool.predictions.first { $0.path == neighbours.nearHit?.path })
        let farthest = try #require(pool.predictions.first { $0.path == neighbours.farthest?.path })
        #expect(hit.predictedLabel == query.predictedLabel && hit.path != query.path)
        let others = pool.predictions.filter { $0.path != query.path }
        #expect(others.allSatisfy { cosine(query.embedding, $0.embedding) >= cosine(query.embedding, farthest.embedding) })
        if let miss = neighbours.nearMiss {
            let missItem = try #require(pool.predictions.first { $0.path == miss.path })
            #expect(missItem.predictedLabel != query.predictedLabel)
        }
        #expect(throws: WorkspaceError.self) { try pool.neighbours(of: "not/in/pool.png") }
    }

    /// The pool predictions are cached beside the checkpoint: a second session reads them
    /// (same values), and a cache that is damaged or belongs to a replaced checkpoint is
    /// ignored, never believed.
    @Test func poolPredictionsAreCachedAndDistrusted() throws {
        let directory = TemporaryDirectory("poolcache")
        defer { directory.remove() }
        let workspace = try Self.trainedWorkspace(directory)
        let first = try PoolModel(workspace: workspace)
        let round = try #require(try workspace.activeRound())
        let cache = workspace.path + "/" + round.checkpoint.replacingOccurrences(of: ".safetensors", with: ".pool")
        #expect(FileManager.default.fileExists(atPath: cache))
        func same(_ a: PoolModel, _ b: PoolModel) -> Bool {
            a.predictions.map(\.itemID) == b.predictions.map(\.itemID)
                && a.predictions.map(\.probabilities) == b.predictions.map(\.probabilities)
                && a.predictions.map(\.embedding) == b.predictions.map(\.embedding)
        }
        #expect(same(first, try PoolModel(workspace: workspace)))
        // Damaged: a flipped byte in the middle of the entries, then a truncation.
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: cache)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes.prefix(bytes.count - 7)).write(to: URL(fileURLWithPath: cache))
        #expect(same(first, try PoolModel(workspace: workspace)))
        // A cache whose values were changed but whose header still matches the checkpoint is
        // believed — it is a cache; a checkpoint replaced under it makes it stale: ignored.
        bytes = try Array(Data(contentsOf: URL(fileURLWithPath: cache)))
        let tampered = bytes.count - 4
        bytes[tampered] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: cache))
        #expect(!same(first, try PoolModel(workspace: workspace)))   // read, not recomputed
        let checkpoint = workspace.path + "/" + round.checkpoint
        let original = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        usleep(20_000)
        try original.write(to: URL(fileURLWithPath: checkpoint))   // same weights, new file
        #expect(same(first, try PoolModel(workspace: workspace)))
    }
}
