import FileAccess
import Foundation
import Imaging
@testable import NearCAIPI
import NeuralNet
import SeededRandom
import Testing
import TestSupport

/// The defect pretext: synthetic defects whose mask is exactly what changed, a pretraining run
/// that reads no label and resumes into the uninterrupted one (suspects included), the scores
/// it leaves, and the detection figures `eval-detection` prints.
@Suite(.serialized) struct DefectPretextTests {
    /// Bundled parts at the model's default size: colour welds and grey cast discs.
    static func parts(_ family: String, count: Int) throws -> [Image] {
        let folder = repositoryRoot() + "/SampleData/\(family)"
        let names = ClassFolderDataset.images(below: folder + "/ok", relative: "").prefix(count)
        return try names.map { try ImageFile.read("\(folder)/ok/\($0)").image.modelInput(channels: family == "weld" ? 3 : 1, size: 128) }
    }

    @Test(arguments: ["weld", "cast"])
    func aSyntheticDefectsMaskIsExactlyThePixelsThatChanged(family: String) throws {
        let parts = try Self.parts(family, count: 6)
        let defects = SyntheticDefects(warps: true)
        var random = SplitMix64(seed: 11)
        var areas: [Int] = []
        var kinds: Set<SyntheticDefects.Kind> = []
        for draw in 0..<150 {
            let part = parts[draw % parts.count]
            let made = defects.make(on: part, donors: parts, random: &random)
            let n = part.planeSize
            for i in 0..<n {
                let change = (0..<part.channels).map { abs(made.image.pixels[$0 * n + i] - part.pixels[$0 * n + i]) }.max()!
                if made.mask.bits[i] {
                    #expect(change > SyntheticDefects.changeThreshold, "draw \(draw): pixel \(i) marked but changed by \(change)")
                } else {
                    #expect(change == 0, "draw \(draw): pixel \(i) changed by \(change) outside the mask")
                }
            }
            #expect(made.mask.isEmpty == made.kinds.isEmpty)
            #expect(made.image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
            areas.append(made.mask.area)
            kinds.formUnion(made.kinds)
        }
        // Every kind is drawn; sizes from a few pixels to about a tenth of the part (three
        // defects of the largest size at most).
        #expect(kinds == Set(SyntheticDefects.Kind.allCases))
        let drawn = areas.filter { $0 > 0 }
        #expect(drawn.count >= 140, "\(150 - drawn.count) of 150 draws changed nothing")
        #expect(drawn.min()! < 40 && drawn.max()! > 128 * 128 / 25, "areas \(drawn.min()!)–\(drawn.max()!)")
        #expect(drawn.max()! <= 3 * 128 * 128 / 10 + 600)
        #expect(drawn.allSatisfy { $0 >= defects.minimumPixels })
    }

    /// A warp moves the part's own pixels and adds none: every pixel it changed takes a value
    /// found on the original within twelve pixels (the largest displacement, 0.3 of the
    /// largest radius — 0.3 of the side — is under that at 128 px), and a flat part cannot be
    /// warped at all.
    @Test(arguments: ["weld", "cast"])
    func aWarpMovesThePartsOwnPixels(family: String) throws {
        let parts = try Self.parts(family, count: 4)
        var defects = SyntheticDefects()
        defects.kindWeights = [(.warp, 1)]
        var random = SplitMix64(seed: 3)
        var warped = 0
        for draw in 0..<40 {
            let part = parts[draw % parts.count]
            let made = defects.make(on: part, donors: [], random: &random)
            guard !made.mask.isEmpty else { continue }
            warped += 1
            #expect(Set(made.kinds) == [.warp])
            for y in 0..<part.height {
                for x in 0..<part.width where made.mask[y, x] {
                    for c in 0..<part.channels {
                        var low = Float.infinity, high = -Float.infinity
                        for v in max(y - 12, 0)...min(y + 12, part.height - 1) {
                            for u in max(x - 12, 0)...min(x + 12, part.width - 1) {
                                low = min(low, part[c, v, u])
                                high = max(high, part[c, v, u])
                            }
                        }
                        let value = made.image[c, y, x]
                        #expect(value >= low - 1e-5 && value <= high + 1e-5, "draw \(draw): (\(x), \(y)) became \(value), outside \(low)–\(high)")
                    }
                }
            }
        }
        #expect(warped >= 36, "only \(warped) of 40 warps changed anything")
        let flat = Image(width: 64, height: 64, channels: 1, pixels: [Float](repeating: 0.4, count: 64 * 64))
        let none = defects.make(on: flat, donors: [], random: &random)
        #expect(none.mask.isEmpty && none.kinds.isEmpty && none.image == flat)
    }

    @Test func theSameSeedDrawsTheSameDefects() throws {
        let parts = try Self.parts("weld", count: 3)
        var a = SplitMix64(seed: 5), b = SplitMix64(seed: 5), c = SplitMix64(seed: 6)
        let first = SyntheticDefects().make(on: parts[0], donors: parts, random: &a)
        let again = SyntheticDefects().make(on: parts[0], donors: parts, random: &b)
        let other = SyntheticDefects().make(on: parts[0], donors: parts, random: &c)
        #expect(first.image == again.image && first.mask == again.mask)
        #expect(first.mask != other.mask)
    }

    static func options(epochs: Int, defectMap: Bool = true) -> PretrainingOptions {
        var options = PretrainingOptions()
        options.method = .defects
        options.defectMap = defectMap
        options.epochs = epochs
        options.batchSize = 16
        return options
    }

    /// An interruption after the suspects were scored again: the resumed run keeps them and
    /// ends as the uninterrupted one, bit for bit; round 0's scores are written.
    @Test func anInterruptedRunResumesWithItsSuspects() throws {
        let directory = TemporaryDirectory("defect-pretext-resume")
        defer { directory.remove() }
        // Ten epochs: the suspects are scored again before epochs 3 to 10.
        #expect(DefectPretext.rescoresBefore(epochAfter: 2, of: 10) && !DefectPretext.rescoresBefore(epochAfter: 1, of: 10))
        let whole = try PretrainingTests.workspace(directory, name: "whole")
        let summary = try whole.pretrain(options: Self.options(epochs: 10)) { _ in true }
        #expect(summary.isFinished && whole.hasPretrainedBackbone)

        let broken = try PretrainingTests.workspace(directory, name: "broken")
        let stopped = try broken.pretrain(options: Self.options(epochs: 10)) { $0.epoch < 6 }
        let noScores = try broken.anomalyScores().isEmpty
        #expect(stopped.epochsDone == 5 && !broken.hasPretrainedBackbone && noScores)
        let resumed = try broken.pretrain(options: Self.options(epochs: 10)) { _ in true }
        #expect(resumed.resumedAfter == 5 && resumed.losses == summary.losses)
        let a = try PretrainingTests.parameters(whole.pretrainedBackbonePath)
        let b = try PretrainingTests.parameters(broken.pretrainedBackbonePath)
        for ((name, x), (_, y)) in zip(a, b) { #expect(x == y, "\(name) differs") }
        let saved = try ContrastivePretraining.savedProgress(at: whole.pretrainingStatePath).notes
        #expect(saved["suspects"] == (try ContrastivePretraining.savedProgress(at: broken.pretrainingStatePath).notes["suspects"]))
        #expect(try whole.pretrainingSummary()?.method == .defects)

        // Every original item is scored, the test split too, highest first.
        let scores = try whole.anomalyScores()
        let originals = try [Split.pool, .train, .validation, .test].flatMap { try whole.items(in: $0) }.filter { $0.origin == .original }
        #expect(Set(scores.map(\.itemID)) == Set(originals.map(\.id)))
        #expect(scores == scores.sorted(by: AnomalyScore.ranksAbove))
        #expect(scores.allSatisfy { $0.scale == .standardDeviations && $0.score.isFinite })
        // Standardised by the parts pretraining learnt from: a typical one scores near 0 (what a
        // part lacks and what its most alike parts leave only add, for the parts beyond 3.5
        // robust standard deviations), and most do not stand out.
        let learnt = Set(try whole.pretrainingItems().map(\.id))
        let learntScores = scores.filter { learnt.contains($0.itemID) }.map(\.score).sorted()
        let median = learntScores[learntScores.count / 2]
        #expect(median > -1 && median < 0.5, "median \(median)")
        #expect(learntScores.filter { $0 > AnomalyScore.standingOut }.count < learntScores.count / 2)
        // Files of the versions before, holding P(defect) — the first also the split each item
        // was in when scored — read as probabilities.
        let current = try String(contentsOfFile: whole.anomalyScoresPath, encoding: .utf8).split(separator: "\n")
        let splits = Dictionary(uniqueKeysWithValues: originals.map { ($0.id, $0.split.rawValue) })
        let probabilities = scores.map { AnomalyScore(itemID: $0.itemID, path: $0.path, score: 1 / (1 + expf(-$0.score)), scale: .probability) }
            .sorted(by: AnomalyScore.ranksAbove)
        let older = ["item_id,split,score,path"] + current.dropFirst().map { line -> String in
            let fields = line.split(separator: ",", maxSplits: 2).map(String.init)
            return [fields[0], splits[Int64(fields[0])!]!, String(1 / (1 + expf(-Float(fields[1])!))), fields[2]].joined(separator: ",")
        }
        try BinaryFile.writeAtomically(Array((older.joined(separator: "\n") + "\n").utf8), to: whole.anomalyScoresPath)
        #expect(try whole.anomalyScores() == probabilities)
        let second = ["item_id,score,path"] + older.dropFirst().map { line -> String in
            let fields = line.split(separator: ",", maxSplits: 3).map(String.init)
            return [fields[0], fields[2], fields[3]].joined(separator: ",")
        }
        try BinaryFile.writeAtomically(Array((second.joined(separator: "\n") + "\n").utf8), to: whole.anomalyScoresPath)
        #expect(try whole.anomalyScores() == probabilities)

        // Run again on a finished pretext (a workspace scored by an earlier version): round 0
        // stays as it is, and every part is scored again, on today's scale.
        let roundZero = try BinaryFile.read(whole.pretrainedBackbonePath)
        let again = try whole.pretrain(options: Self.options(epochs: 10)) { _ in true }
        let roundZeroAgain = try BinaryFile.read(whole.pretrainedBackbonePath)
        #expect(again.isFinished && roundZeroAgain == roundZero)
        #expect(try whole.anomalyScores() == scores)

        // A new run makes them out of date: gone until it finishes.
        _ = try whole.pretrain(options: Self.options(epochs: 10), restart: true) { $0.epoch < 2 }
        let scoresAfterRestart = try whole.anomalyScores()
        #expect(!whole.hasPretrainedBackbone && scoresAfterRestart.isEmpty)
    }

    /// The first round keeps round 0's whole network — its image output (`fc`), fine-tuned,
    /// and its defect head, which the supervised round leaves as it is.
    @Test func theFirstRoundStartsFromTheDefectNetwork() throws {
        let directory = TemporaryDirectory("defect-pretext-round")
        defer { directory.remove() }
        let workspace = try PretrainingTests.workspace(directory)
        _ = try workspace.pretrain(options: Self.options(epochs: 2)) { _ in true }
        let backbone = try Checkpoint.load(workspace.pretrainedBackbonePath)
        var options = TrainingOptions()
        options.epochs = 1
        let (round, _) = try workspace.trainRound(options: options, fromScratch: true) { _ in true }
        let trained = try Checkpoint.load(workspace.checkpointPath(of: round))
        let start = backbone.model.fc.weight.value, now = trained.model.fc.weight.value
        let moved = zip(start, now).map { abs($0 - $1) }.max()!
        #expect(moved > 0 && moved < start.map(abs).max()! * 0.5, "fc moved \(moved)")
        #expect(trained.info.configuration.hasDefectHead && trained.model.defectHead?.weight.value == backbone.model.defectHead?.weight.value)
    }
}

/// The query rules that read round 0's anomaly scores.
@Suite(.serialized) struct AnomalyQueryTests {
    @Test func theRulesRankScoredPartsByTheirScore() {
        // Anomaly: the score decides, whatever the model's doubt; unscored parts come after.
        #expect(QueryStrategy.anomaly.informativeness([0.5, 0.5], anomaly: 0.2) < QueryStrategy.anomaly.informativeness([0.9, 0.1], anomaly: 0.3))
        #expect(QueryStrategy.anomaly.informativeness([0.5, 0.5]) < QueryStrategy.anomaly.informativeness([0.99, 0.01], anomaly: 0))
        // With uncertainty: the mean of the score and 2 · (1 − max p).
        let mixed = QueryStrategy.anomalyAndUncertainty
        #expect(abs(mixed.informativeness([0.7, 0.3], anomaly: 0.4) - (1 + (0.4 + 0.6) / 2)) < 1e-6)
        #expect(mixed.informativeness([0.5, 0.5], anomaly: 0.5) > mixed.informativeness([0.95, 0.05], anomaly: 0.6))
    }

    @Test func theFirstQueryIsThePoolsMostAnomalousPart() throws {
        let directory = TemporaryDirectory("anomaly-query")
        defer { directory.remove() }
        let workspace = try PretrainingTests.workspace(directory)
        _ = try workspace.pretrain(options: DefectPretextTests.options(epochs: 2, defectMap: false)) { _ in true }
        var options = TrainingOptions()
        options.epochs = 1
        _ = try workspace.trainRound(options: options, fromScratch: true) { _ in true }
        let pool = Set(try workspace.items(in: .pool).map(\.id))
        let ranked = try workspace.anomalyScores().filter { pool.contains($0.itemID) }
        var settings = LoopSettings()
        settings.queryStrategy = .anomaly
        try settings.store(in: workspace)
        let session = try LoopSession(workspace: workspace, user: "ines")
        let first = try #require(try session.nextQuery())
        #expect(first.itemID == ranked[0].itemID)
        // The next inspector gets the next most anomalous part (the first is leased).
        let other = try LoopSession(workspace: workspace, user: "omar")
        #expect(try other.nextQuery()?.itemID == ranked[1].itemID)
        // An answer moves the part out of the pool, and out of the pool's ranking.
        #expect(try workspace.poolAnomalyScores().map(\.itemID) == ranked.map(\.itemID))
        _ = try session.submit(FeedbackEvent(itemPath: first.path, user: "ines", predictedLabel: first.predictedLabel, prediction: .right))
        #expect(try workspace.poolAnomalyScores().map(\.itemID) == Array(ranked.dropFirst().map(\.itemID)))
    }
}

/// AUROC, average precision and the share of OK parts passed, against their definitions.
@Suite struct DetectionMetricsTests {
    /// The definition: over every OK × NOK pair, 1 when the NOK part scores higher, ½ when tied.
    static func pairwise(_ scores: [Float], _ truth: [Int]) -> Double {
        var sum = 0.0, pairs = 0.0
        for (s, t) in zip(scores, truth) where t == 1 {
            for (o, u) in zip(scores, truth) where u == 0 {
                sum += s > o ? 1 : (s == o ? 0.5 : 0)
                pairs += 1
            }
        }
        return sum / pairs
    }

    @Test func aurocIsTheShareOfPairsRankedRight() {
        // Perfect, reversed, and with ties across the classes.
        #expect(DetectionMetrics(scores: [0.1, 0.2, 0.8, 0.9], truth: [0, 0, 1, 1]).auroc == 1)
        #expect(DetectionMetrics(scores: [0.9, 0.8, 0.2, 0.1], truth: [0, 0, 1, 1]).auroc == 0)
        #expect(DetectionMetrics(scores: [0.5, 0.5, 0.5, 0.5], truth: [0, 1, 0, 1]).auroc == 0.5)
        var random = SplitMix64(seed: 3)
        for _ in 0..<20 {
            let count = random.integer(2, 60)
            // Scores on a coarse grid, so ties are common.
            let scores = (0..<count).map { _ in Float(random.integer(0, 9)) / 10 }
            var truth = (0..<count).map { _ in random.integer(0, 1) }
            truth[0] = 0
            truth[1] = 1
            let metrics = DetectionMetrics(scores: scores, truth: truth)
            #expect(abs(metrics.auroc! - Self.pairwise(scores, truth)) < 1e-12)
        }
        #expect(DetectionMetrics(scores: [0.3, 0.4], truth: [0, 0]).auroc == nil)
    }

    @Test func averagePrecisionByHand() {
        // Ranked NOK, OK, NOK: precision 1 at the first NOK, 2/3 at the second.
        #expect(abs(DetectionMetrics(scores: [0.9, 0.8, 0.7], truth: [1, 0, 1]).averagePrecision! - (1 + 2.0 / 3) / 2) < 1e-12)
        // A NOK and an OK part tied at the top enter together: precision ½ for the NOK.
        #expect(abs(DetectionMetrics(scores: [0.9, 0.9, 0.1], truth: [1, 0, 0]).averagePrecision! - 0.5) < 1e-12)
        #expect(DetectionMetrics(scores: [0.9, 0.1], truth: [0, 0]).averagePrecision == nil)
    }

    @Test func passedGoodPartsAtABudgetOfMissedDefects() {
        let ok: [Float] = [0.1, 0.2, 0.3, 0.4, 0.5]
        // No miss allowed: the threshold is the lowest NOK score (0.35), strictly below passes.
        #expect(DetectionMetrics.passedOK(ok: ok, nok: [0.35, 0.6, 0.9], allowingMissed: 0) == 3.0 / 5)
        // A tie between an OK part and the lowest NOK score: the OK part is not passed.
        #expect(DetectionMetrics.passedOK(ok: ok, nok: [0.3, 0.6], allowingMissed: 0) == 2.0 / 5)
        // 1 % of 100 NOK parts: one may be missed, so the second lowest sets the threshold.
        let nok = [Float(0.15)] + [Float](repeating: 0.45, count: 99)
        #expect(DetectionMetrics.passedOK(ok: ok, nok: nok, allowingMissed: 0.01) == 4.0 / 5)
        #expect(DetectionMetrics.passedOK(ok: ok, nok: nok, allowingMissed: 0) == 1.0 / 5)
        // Fewer than 100 NOK parts: 1 % is less than one part, so none may be missed.
        #expect(DetectionMetrics.passedOK(ok: ok, nok: [0.15, 0.45], allowingMissed: 0.01) == 1.0 / 5)
    }
}
