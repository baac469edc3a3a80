import Foundation
@testable import NearCAIPI
import NeuralNet
import Testing
import TestSupport

/// A worse round never goes live silently: trained rounds worse on the validation split than
/// the active one are kept as candidates for the operator to promote or discard.
@Suite(.serialized) struct RoundPromotionTests {
    @Test func theRuleComparesValidationMCC() throws {
        func metrics(_ mcc: Double, count: Int = 20) throws -> RoundMetrics {
            try JSONDecoder().decode(RoundMetrics.self, from: Data("""
                {"validation": {"accuracy": 0.5, "f1": 0.5, "mcc": \(mcc), "count": \(count)},
                 "test": {"accuracy": 0.5, "f1": 0.5, "mcc": 0, "count": 40}, "epochs": 1, "bestEpoch": 1, "seconds": 1}
                """.utf8))
        }
        #expect(Workspace.isNotWorse(try metrics(0.5), than: try metrics(0.5)))   // a tie is not worse
        #expect(Workspace.isNotWorse(try metrics(0.6), than: try metrics(0.5)))
        #expect(!Workspace.isNotWorse(try metrics(0.4), than: try metrics(0.5)))
        #expect(Workspace.isNotWorse(try metrics(0.1), than: nil))                // the first round
        #expect(Workspace.isNotWorse(try metrics(0, count: 0), than: try metrics(0.9)))  // nothing to compare on
    }

    /// A rollback while a round trained was undone when the round finished: it went live,
    /// compared with the round rolled back from. A round goes live only while the round it
    /// was compared with is still in use; else it waits as a candidate and says why.
    @Test func aRoundTrainedWhileTheModelInUseChangedWaitsAsACandidate() throws {
        let directory = TemporaryDirectory("promotion-changed")
        defer { directory.remove() }
        let workspace = try QuerySelectionTests.trainedWorkspace(directory)
        var quick = TrainingOptions()
        quick.epochs = 1
        _ = try workspace.trainRound(options: quick, fromScratch: false) { _ in true }
        #expect(try workspace.activeRound()?.number == 2)
        var rolledBack = false
        quick.epochs = 2
        let (round, metrics) = try workspace.trainRound(options: quick, fromScratch: false) { _ in
            // Another station (or the operator's screen) rolls back while this round trains.
            if !rolledBack { try? workspace.rollback(to: 1); rolledBack = true }
            return true
        }
        #expect(rolledBack && round.number == 3 && round.status == .candidate && metrics.inUseChangedTo == 1)
        #expect(try workspace.activeRound()?.number == 1)
        #expect(try workspace.rounds().first { $0.number == 3 }?.metrics?.inUseChangedTo == 1)
        let previous = try workspace.rounds().first { $0.number == 2 }
        #expect(Workspace.promotionReason(round, previous: previous)
                == "round 1 was put in use while it trained (it was compared with round 2): kept as candidate")
        // Nothing changed meanwhile: the next round goes live as the rule says.
        quick.epochs = 1
        let (next, _) = try workspace.trainRound(options: quick, fromScratch: false) { _ in true }
        #expect(next.status == .active && next.metrics?.inUseChangedTo == nil)
    }

    @Test func aWorseRoundStaysACandidateUntilTheOperatorDecides() throws {
        let directory = TemporaryDirectory("promotion")
        defer { directory.remove() }
        var options = WorkspaceOptions()
        options.inputSize = 32
        let (workspace, _) = try Workspace.create(at: directory.file("ws"), dataRoot: repositoryRoot() + "/SampleData/weld", options: options)
        // The candidate's life, under the rule that compares validation MCC: on ~20 validation
        // parts an untrained round is not worse with 90 % confidence (PairedComparisonTests).
        try workspace.setPromotion(.ifNotWorse)
        // The first round's own recipe, shortened: 15 epochs of Adam at 10⁻³ learnt enough on
        // one CPU and not on another (validation MCC 0.17 on an AVX-512 BF16 machine).
        var good = TrainingOptions.firstRound
        good.epochs = 60
        let (first, _) = try workspace.trainRound(options: good, fromScratch: true) { _ in true }
        let firstMCC = try #require(first.metrics?.validation.mcc)
        try #require(firstMCC > 0.2, "round 1 did not learn enough to be better than an untrained round")
        // An untrained round: from scratch, one step too small to move the weights.
        var untrained = TrainingOptions()
        untrained.epochs = 1
        untrained.method = .sgd(learningRate: 1e-9, momentum: 0)

        let session = try LoopSession(workspace: workspace, user: "ines")
        for prediction in session.pool.predictions.prefix(2) {
            _ = try session.submit(FeedbackEvent(itemPath: prediction.path, user: "ines", predictedLabel: prediction.predictedLabel,
                                                 prediction: .right))
        }
        let pool = session.pool.predictions.map(\.path)
        let (second, metrics) = try session.retrain(options: untrained, fromScratch: true)
        try #require(metrics.validation.mcc < firstMCC)
        // Kept aside: round 1 stays in use, its answers still wait, the pool is the same.
        #expect(second.status == .candidate)
        #expect(try workspace.rounds().map(\.status) == [.active, .candidate] && workspace.activeRound()?.number == 1)
        #expect(try session.pendingFeedback() == 2 && session.pool.predictions.map(\.path) == pool)

        // The operator promotes it: now it is in use, and the answers it trained on count.
        try session.promote(round: 2)
        #expect(try workspace.rounds().map(\.status) == [.superseded, .active] && session.pendingFeedback() == 0)
        #expect(throws: WorkspaceError.self) { try workspace.promote(round: 2) }  // not a candidate any more

        // Another worse round, discarded: kept in the list, never used.
        try session.rollback(to: 1)
        let (third, _) = try session.retrain(options: untrained, fromScratch: true)
        #expect(third.status == .candidate)
        try workspace.discard(round: third.number)
        #expect(try workspace.rounds().map(\.status) == [.active, .rolledBack, .discarded])
        do {
            try workspace.rollback(to: 3)
            Issue.record("a discarded round was rolled back to")
        } catch let error as WorkspaceError {
            #expect(error.message.contains("round 3 was discarded"), "\(error.message)")
        }

        // Forced: the same kind of round goes live.
        let (forced, _) = try session.retrain(options: untrained, fromScratch: true, promotion: .always)
        #expect(try forced.status == .active && workspace.activeRound()?.number == 4)

        // A later rollback leaves the discarded round discarded — so it can never go live
        // without the promotion rule — and a candidate a candidate.
        try session.rollback(to: 1)
        let (fifth, _) = try session.retrain(options: untrained, fromScratch: true)
        #expect(fifth.status == .candidate)
        try session.rollback(to: 1)
        #expect(try workspace.rounds().map(\.status) == [.active, .rolledBack, .discarded, .rolledBack, .candidate])
        #expect(throws: WorkspaceError.self) { try workspace.rollback(to: 3) }
        do {
            try workspace.rollback(to: 5)
            Issue.record("a candidate was rolled back to")
        } catch let error as WorkspaceError {
            #expect(error.message.contains("promote it instead"), "\(error.message)")
        }
    }
}
