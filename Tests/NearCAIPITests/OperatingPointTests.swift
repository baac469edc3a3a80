import Foundation
@testable import NearCAIPI
import NeuralNet
import SeededRandom
import Testing
import TestSupport

/// Pass / review / reject: the cuts on hand-made scores, the intervals' coverage, and what a
/// trained round stores.
@Suite struct OperatingPointTests {
    @Test func theCutsKeepToTheBudgets() throws {
        // Validation: 4 good parts, 5 defective ones.
        let scores: [Float] = [0.05, 0.10, 0.30, 0.80, 0.20, 0.40, 0.60, 0.90, 0.95]
        let truth = [0, 0, 0, 0, 1, 1, 1, 1, 1]
        // No defect may pass: pass below the lowest NOK score (0.20); no good part may be
        // rejected: reject above the highest OK score (0.80).
        let (pass, reject) = try #require(OperatingPoint.thresholds(scores: scores, truth: truth, maxMissed: 0, maxRejected: 0))
        #expect(pass == 0.20 && reject == 0.80)
        #expect(OperatingPoint.decide(0.19, passBelow: pass, rejectAbove: reject) == .pass)
        #expect(OperatingPoint.decide(0.20, passBelow: pass, rejectAbove: reject) == .review)   // tied with a NOK part: not passed
        #expect(OperatingPoint.decide(0.80, passBelow: pass, rejectAbove: reject) == .review)   // tied with an OK part: not rejected
        #expect(OperatingPoint.decide(0.81, passBelow: pass, rejectAbove: reject) == .reject)
        // A budget of 20 % of 5 defects lets one pass: the second lowest NOK score cuts.
        let (loose, _) = try #require(OperatingPoint.thresholds(scores: scores, truth: truth, maxMissed: 0.2, maxRejected: 0))
        #expect(loose == 0.40)
        // 1 % of 5 is less than one part: none may pass.
        #expect(OperatingPoint.thresholds(scores: scores, truth: truth, maxMissed: 0.01, maxRejected: 0.01)! == (0.20, 0.80))
        // Ties at the cut: three NOK parts at 0.5 with one allowed miss — the cut is 0.5 and
        // none of them passes (a cut between tied parts cannot be drawn).
        let tied = OperatingPoint.thresholds(scores: [0.1, 0.5, 0.5, 0.5, 0.9], truth: [0, 1, 1, 1, 1], maxMissed: 0.25, maxRejected: 0)!
        #expect(tied.0 == 0.5)
        // Neither cut crosses ½: where every validation defect scores above 0.9 and every good
        // part below 0.1, a part the model calls NOK (0.59) is not passed, and one it calls OK
        // (0.3) is not rejected.
        let sure = try #require(OperatingPoint.thresholds(scores: [0.02, 0.05, 0.1, 0.9, 0.95, 0.99], truth: [0, 0, 0, 1, 1, 1],
                                                          maxMissed: 0, maxRejected: 0))
        #expect(sure == (0.5, 0.5))
        #expect(OperatingPoint.decide(0.59, passBelow: sure.0, rejectAbove: sure.1) == .reject)
        #expect(OperatingPoint.decide(0.3, passBelow: sure.0, rejectAbove: sure.1) == .pass)
        // Without both classes there are no cuts.
        #expect(OperatingPoint.thresholds(scores: [0.1, 0.2], truth: [0, 0], maxMissed: 0, maxRejected: 0) == nil)

        // The figures, on validation and test, from the same cuts.
        let point = try #require(OperatingPoint(validation: (scores, truth), test: ([0.1, 0.5, 0.85, 0.1, 0.3], [0, 0, 0, 1, 1]),
                                                maxMissed: 0, maxRejected: 0))
        #expect(point.validation.missedDefects.count == 0 && point.validation.passedGood.count == 2 && point.validation.passedGood.of == 4)
        #expect(point.validation.rejectedGood.count == 0 && point.validation.reviewed.count == 5)
        #expect(point.test.missedDefects.count == 1 && point.test.missedDefects.of == 2)
        #expect(point.test.passedGood.count == 1 && point.test.rejectedGood.count == 1 && point.test.reviewed.count == 2)
        #expect(point.summary.hasPrefix("passes 50 % ") && point.summary.contains("test: 1 of 2 defects missed"))
    }

    /// The 95 % interval covers the rate it estimates about 95 % of the time, also near 0,
    /// where a percentile bootstrap collapses to [0, 0].
    @Test func intervalsCoverAKnownRateAtTheirNominalLevel() {
        var random = SplitMix64(seed: 17)
        for (rate, size) in [(0.01, 100), (0.05, 40), (0.2, 25), (0.5, 60), (0.02, 300)] {
            var covered = 0
            let trials = 2_000
            for _ in 0..<trials {
                let count = (0..<size).filter { _ in Double(random.unit()) < rate }.count
                let interval = Proportion(count, of: size)
                if interval.low <= rate && rate <= interval.high { covered += 1 }
            }
            let coverage = Double(covered) / Double(trials)
            #expect(coverage >= 0.92 && coverage <= 0.995, "rate \(rate), n \(size): covered \(coverage)")
        }
        // Nothing seen is not certainty: 0 of 28 still allows up to about 12 %.
        let none = Proportion(0, of: 28)
        #expect(none.low == 0 && abs(none.high - 0.1206) < 0.001)
    }

    @Test func roundsStoredBeforeKeepTheirMetrics() throws {
        let json = """
        {"validation": {"accuracy": 0.5, "f1": 0.5, "mcc": 0.1, "count": 20},
         "test": {"accuracy": 0.6, "f1": 0.6, "mcc": 0.2, "count": 40}, "epochs": 3, "bestEpoch": 2, "seconds": 12}
        """
        let metrics = try JSONDecoder().decode(RoundMetrics.self, from: Data(json.utf8))
        #expect(metrics.operatingPoint == nil && metrics.test.mcc == 0.2)
    }

    /// A trained round stores its cuts, set on its validation parts within the budget the
    /// workspace sets.
    @Test func aTrainedRoundStoresItsCuts() throws {
        let directory = TemporaryDirectory("operating-point")
        defer { directory.remove() }
        let workspace = try PretrainingTests.workspace(directory)
        try workspace.setDecisionBudgets(maxMissedDefects: 0, maxGoodRejected: 0.1)
        #expect(throws: (any Error).self) { try workspace.setDecisionBudgets(maxMissedDefects: 0.7, maxGoodRejected: nil) }
        var options = TrainingOptions()
        options.epochs = 2
        let (_, metrics) = try workspace.trainRound(options: options, fromScratch: true) { _ in true }
        let point = try #require(metrics.operatingPoint)
        #expect(point.maxMissed == 0 && point.maxRejected == 0.1)
        #expect(point.validation.missedDefects.count == 0)
        #expect(Double(point.validation.rejectedGood.count) <= 0.1 * Double(point.validation.rejectedGood.of))
        #expect(point.test.missedDefects.of + point.test.passedGood.of == metrics.test.count)
        #expect(try workspace.activeRound()?.metrics?.operatingPoint == point)
        // The next round is compared with it part by part (the default rule), and the verdict kept.
        let (second, secondMetrics) = try workspace.trainRound(options: options, fromScratch: false) { _ in true }
        let evidence = try #require(secondMetrics.promotionEvidence)
        #expect(evidence.against == 1 && evidence.parts == secondMetrics.validation.count && evidence.confidence == 0.9)
        #expect((second.status == .candidate) == evidence.isWorse)
        #expect(Workspace.promotionReason(second, previous: try workspace.rounds().first) == evidence.sentence)
    }
}
