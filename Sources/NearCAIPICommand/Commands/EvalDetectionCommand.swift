import Explanations
import FileAccess
import Foundation
import Imaging
import NearCAIPI
import NeuralNet

/// `nearcaipi eval-detection`: how well a workspace's scores rank defective parts above good
/// ones — round 0's zero-label scores (the anomaly score, a patch distance, and the pretext's
/// P(defect)) and the classifier's P(NOK) — on labelled parts. Evaluation only: the labels are read to score, never to train.
enum EvalDetectionCommand: Command {
    static let name = "eval-detection"
    static let summary = "image AUROC and average precision of the anomaly scores and of P(NOK) on labelled parts"
    static let discussion = """
    With a workspace as --model and no --data: its test split (the parts no round trains on,
    with the data set's labels), scored by round 0 when it came from the defect pretext
    ('nearcaipi pretrain --method defects', learnt without a label) — its anomaly score (how
    far each part lies from its nearest match on the workspace's other parts, in round 0's
    early features, how much of the other parts it lacks, and what is left of it under its
    most alike parts laid over it whole) and its P(defect) — and by
    the active round's P(NOK). With --data: every readable image of that data set, in any
    layout 'init' reads (a part that is one of the workspace's own is not matched with
    itself). A checkpoint as --model is scored by its P(class 1).

    For each score: image AUROC (the chance that a random NOK part scores above a random OK
    part), average precision, and the share of OK parts a threshold would pass without a
    person looking when it may miss no defect, and when it may miss 1 % of them. For the
    anomaly score's map, and for the defect head's (round 0's, or a round's trained with the
    mask loss), the pixel AUROC against the parts' defect masks: every pixel of a good part counts as normal, defective
    parts without a mask are left out.
    """

    static let data = Option<String?>(name: "--data", placeholder: "DIR", help: "a labelled data set folder (read only)", format: .text,
                                      defaultDescription: "the workspace's test split")
    static let model = Option<String>(name: "--model", placeholder: "PATH", help: "a workspace folder, or a checkpoint", format: .text)
    static let json = Flag(name: "--json", help: "print the result as JSON")
    static let scoresFile = Option<String?>(name: "--scores", placeholder: "FILE",
                                            help: "also write every part's scores as CSV (file, label, one column per score)",
                                            format: .text, defaultDescription: "none")
    static let parameters: [any Parameter] = [model, data, SharedParameters.layout, SharedParameters.okFolders,
                                              SharedParameters.nokFolders, json, scoresFile]

    /// One score's figures, as `--json` prints them.
    struct ScoreReport: Codable {
        var score: String
        var model: String
        var metrics: DetectionMetrics
        /// The dense head's map against the parts' defect masks (a model with a head only).
        var pixelAUROC: Double?
        var partsWithMasks: Int?
    }

    struct Report: Codable {
        var images: String
        var scores: [ScoreReport]
    }

    /// What one score gathered over the parts: image scores and, for a defect map, the map's
    /// pixels over good parts and defective parts with a mask.
    struct Tally {
        let mapsPixels: Bool
        var scores: [Float] = [], truth: [Int] = []
        var pixelScores: [Float] = [], pixelTruth: [Bool] = [], partsWithMasks = 0

        init(mapsPixels: Bool) { self.mapsPixels = mapsPixels }

        /// A good part's every pixel is normal; a defective part counts only with its mask.
        mutating func add(_ maps: [Image], labels: [Int], masks: [BinaryMask?]) {
            for (row, map) in maps.enumerated() {
                let mask: BinaryMask
                if labels[row] == ClassLabel.ok.classIndex {
                    mask = BinaryMask(width: map.width, height: map.height)
                } else if let known = masks[row] {
                    mask = known.resized(width: map.width, height: map.height)
                    partsWithMasks += 1
                } else {
                    continue
                }
                pixelScores += map.pixels
                pixelTruth += mask.bits
            }
        }
    }

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.positionals([])
        let modelPath = try arguments[model], dataPath = try arguments[data]
        if dataPath == nil, !WorkspaceAddress.namesWorkspace(modelPath) {
            throw UsageError("a checkpoint as '--model' needs '--data DIR' (the parts to score); a workspace folder has its test split")
        }
        // The models to score with: (what the score is, which model, the checkpoint).
        var scorers: [(score: String, model: String, classifier: ImageClassifier, isAnomalyScore: Bool)] = []
        var workspace: Workspace? = nil
        var patchDistances: PatchDistances? = nil
        do {
            if WorkspaceAddress.namesWorkspace(modelPath) {
                let opened = try Workspace(opening: modelPath)
                workspace = opened
                if try opened.pretrainingSummary()?.method == .defects, opened.hasPretrainedBackbone {
                    let roundZero = try ImageClassifier(checkpoint: opened.pretrainedBackbonePath)
                    scorers.append(("P(defect)", "round 0 (defect pretext, no labels)", roundZero, true))
                    patchDistances = try opened.patchDistances(model: roundZero.model, info: roundZero.info)
                }
                if let active = try opened.activeRound() {
                    scorers.append(("P(NOK)", "round \(active.number)", try ImageClassifier(checkpoint: opened.checkpointPath(of: active)), false))
                }
                guard !scorers.isEmpty else {
                    throw RuntimeFailure("\(modelPath): no score to evaluate — neither a round 0 from 'nearcaipi pretrain --method defects' "
                                         + "nor a trained round")
                }
            } else {
                scorers.append(("P(class 1)", modelPath, try ImageClassifier(checkpoint: modelPath), false))
            }
        } catch let error as RuntimeFailure {
            throw error
        } catch {
            throw RuntimeFailure(error)
        }

        // The labelled parts: (file, label, defect mask file).
        var parts: [(file: String, label: ClassLabel, mask: String?)] = []
        let description: String
        if let dataPath {
            let dataset = try TrainCommand.openDataset(dataPath, arguments, layout: try arguments[SharedParameters.layout])
            parts = dataset.items.map { item in ("\(dataset.root)/\(item.path)", item.label, item.maskPath.map { "\(dataset.root)/\($0)" }) }
            description = "\(dataPath): \(parts.count) images"
        } else if let workspace {
            do {
                for item in try workspace.items(in: .test) where item.origin == .original {
                    guard let label = item.truthLabel else { continue }
                    parts.append((try workspace.file(of: item), label, try item.truthMaskPath.map { try workspace.file(of: $0, origin: item.origin) }))
                }
            } catch {
                throw RuntimeFailure(error)
            }
            description = "\(workspace.path): test split, \(parts.count) images"
        } else {
            throw UsageError("a checkpoint as '--model' needs '--data DIR' (the parts to score)")
        }
        guard !parts.isEmpty else { throw RuntimeFailure("\(description): no labelled part to score") }

        // Each part is read once and scored by every scorer, 32 at a time.
        var tallies = scorers.map { Tally(mapsPixels: $0.classifier.model.defectHead != nil) }
        var patchTally = Tally(mapsPixels: true)
        let readsMasks = tallies.contains { $0.mapsPixels } || patchDistances != nil
        var batch: [Image] = [], labels: [Int] = [], masks: [BinaryMask?] = []
        // The parts scored, in the order their scores are gathered (unreadable ones left out).
        var scoredParts: [(file: String, label: ClassLabel)] = []
        func flush() {
            guard !batch.isEmpty else { return }
            for (index, scorer) in scorers.enumerated() {
                let (model, info) = (scorer.classifier.model, scorer.classifier.info)
                if scorer.isAnomalyScore {
                    tallies[index].scores += Workspace.defectProbabilities(of: batch, model: model, info: info)
                } else {
                    let probabilities = scorer.classifier.probabilities(batch.flatMap { scorer.classifier.prepare($0).pixels }, batch: batch.count)
                    for row in 0..<batch.count { tallies[index].scores.append(probabilities[row * 2 + 1]) }
                }
                if tallies[index].mapsPixels, let maps = Workspace.defectMaps(of: batch, model: model, info: info) {
                    tallies[index].add(maps, labels: labels, masks: masks)
                }
            }
            for index in tallies.indices { tallies[index].truth += labels }
            if let patchDistances {
                let info = patchDistances.info
                let prepared = batch.map { $0.modelInput(channels: info.configuration.inputChannels, size: info.configuration.inputSize) }
                let results = patchDistances.distances(of: prepared, bankPositions: prepared.map(patchDistances.bankPosition(of:)))
                patchTally.scores += results.map(\.score)
                patchTally.truth += labels
                patchTally.add(results.map { patchDistances.map(of: $0, size: info.configuration.inputSize) }, labels: labels, masks: masks)
            }
            batch = []
            labels = []
            masks = []
        }
        for part in parts {
            do {
                let image = try ImageFile.read(part.file).image
                var mask: BinaryMask? = nil
                if readsMasks, part.label == .nok, let file = part.mask {
                    mask = BinaryMask(thresholding: try ImageFile.read(file).image)
                }
                batch.append(image)
                labels.append(part.label.classIndex)
                masks.append(mask)
                scoredParts.append((part.file, part.label))
            } catch {
                printError("nearcaipi eval-detection: \(error) (skipped)")
            }
            if batch.count == 32 { flush() }
        }
        flush()
        var scored = zip(scorers, tallies).map { (score: $0.score, model: $0.model, tally: $1, withoutLabels: $0.isAnomalyScore) }
        if patchDistances != nil {
            // The workspace's anomaly score first.
            scored.insert(("anomaly score", "round 0 (patch distance to the other parts, what it lacks of them, what they leave of it; no labels)", patchTally, true), at: 0)
        }
        let reports = scored.map { score, model, tally, _ in
            ScoreReport(score: score, model: model, metrics: DetectionMetrics(scores: tally.scores, truth: tally.truth),
                        pixelAUROC: tally.partsWithMasks > 0 ? DetectionMetrics.pixelAUROC(scores: tally.pixelScores, defect: tally.pixelTruth) : nil,
                        partsWithMasks: tally.mapsPixels ? tally.partsWithMasks : nil)
        }

        if let file = try arguments[scoresFile] {
            // One row per part, the scores in the order reported, so a part's rank under each
            // score can be looked at (which defect kinds a score misses, say).
            var csv = "file,label," + scored.map { "\"\($0.score)\"" }.joined(separator: ",") + "\n"
            for (row, part) in scoredParts.enumerated() {
                csv += "\"\(part.file)\",\(part.label.displayName)," + scored.map { String($0.tally.scores[row]) }.joined(separator: ",") + "\n"
            }
            do {
                try BinaryFile.writeAtomically(Array(csv.utf8), to: file)
            } catch {
                throw RuntimeFailure("\(file): \(error)")
            }
        }
        if arguments[json] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(Report(images: description, scores: reports)), as: UTF8.self))
            return
        }
        print(description)
        func figure(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "–" }
        for (report, withoutLabels) in zip(reports, scored.map(\.withoutLabels)) {
            let m = report.metrics
            print("\(report.score) of \(report.model), \(m.okCount) OK and \(m.nokCount) NOK parts:")
            print("  image AUROC \(figure(m.auroc, "%.3f"))  average precision \(figure(m.averagePrecision, "%.3f"))")
            print("  OK parts passed: \(figure(m.passedAtNoMiss.map { $0 * 100 }, "%.1f")) % when no defect may be missed, "
                  + "\(figure(m.passedAtOnePercentMissed.map { $0 * 100 }, "%.1f")) % when 1 % may be")
            if let parts = report.partsWithMasks {
                print("  defect map\(withoutLabels ? " (no labels)" : ""): pixel AUROC \(figure(report.pixelAUROC, "%.3f")) over the good parts "
                      + "and \(parts) defective parts with a mask")
            }
        }
    }
}
