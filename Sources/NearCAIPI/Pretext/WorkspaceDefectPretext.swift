import FileAccess
import Foundation
import Imaging
import NeuralNet
import SeededRandom

/// One item's anomaly score, learnt without a label: higher is more anomalous. (Which split
/// the item is in now is the workspace's to say: answers move parts out of the pool.)
public struct AnomalyScore: Sendable, Equatable {
    /// What the number is.
    public enum Scale: Sendable, Equatable {
        /// The part's distance to its nearest match on the workspace's other parts
        /// (`PatchDistances`), in standard deviations of those parts' own: what round 0 of
        /// the defect pretext scores now.
        case standardDeviations
        /// Round 0's P(defect) (files written before the patch distance measured better).
        case probability
    }

    public var itemID: Int64
    public var path: String
    public var score: Float
    public var scale: Scale

    /// Beyond what the workspace's parts usually show: more than two standard deviations, or
    /// P(defect) above ½.
    public var standsOut: Bool { scale == .probability ? score > 0.5 : score > AnomalyScore.standingOut }
    /// The standardised distance beyond which a part stands out.
    public static let standingOut: Float = 2

    /// The order parts are ranked in: the higher score first, equal scores (P(defect) rounds
    /// to 1 for every clearly defective part) by item, so `status`'s list and the query rule's
    /// ranks (`PoolModel`) read them in one order on every station and every run.
    public static func ranksAbove(_ a: AnomalyScore, _ b: AnomalyScore) -> Bool {
        a.score != b.score ? a.score > b.score : a.itemID < b.itemID
    }
}

extension Workspace {
    /// The product's pretraining: the defect pretext, which measured best (Docs/Pretraining.md:
    /// a first round of 20 labels far above one from scratch or from SimCLR, and an anomaly
    /// score before any label); the contrastive methods stay selectable.
    public static let defaultPretrainingMethod = PretrainingMethod.defects

    /// The anomaly scores of round 0, when it came from the defect pretext.
    public var anomalyScoresPath: String { "\(path)/models/anomaly-scores.csv" }

    /// The defect pretext (`PretrainingMethod.defects`): the whole network, `fc` included,
    /// learns to tell each image as it is from the same image with synthetic defects
    /// (`DefectPretext`, `SyntheticDefects`). Saved after every epoch with its suspects; when
    /// finished, round 0 is written and every original item is scored (`anomalyScores()`).
    /// `images` are `items` as the network sees them, already read for the run.
    func pretrainOnDefects(_ images: [Image], of items: [ItemRecord], channels: Int, options: PretrainingOptions, restart: Bool,
                           started: Date, progress: (PretrainingProgress) -> Bool) throws -> PretrainingSummary {
        let (run, info, saved) = try openPretrainingRun(images, channels: channels, restart: restart) {
            try PretextTraining.resume(from: pretrainingStatePath, options: options)
        } fresh: { info in
            PretextTraining(model: ResNet(info.configuration, seed: options.seed), options: options)
        } configure: { $0.withDefectHead(options.defectMap) }
        let resumedAfter = run.epochsDone
        var notes = saved
        var pretext = DefectPretext(images: images, info: info, suspects: DefectPretext.suspects(fromNote: notes["suspects"]),
                                    warps: options.syntheticWarps)
        notes["images"] = String(images.count)
        notes["method"] = options.method.rawValue
        let secondsBefore = notes["seconds"].flatMap(Double.init) ?? 0
        while !run.isFinished {
            if options.setsSuspectsAside, DefectPretext.rescoresBefore(epochAfter: run.epochsDone, of: options.epochs) {
                pretext.rescore(with: run.model)
                notes["suspects"] = pretext.suspectsNote
            }
            guard run.runEpoch(count: images.count, makeBatch: pretext.batch, progress: progress) else { break }
            notes["seconds"] = String(secondsBefore + Date().timeIntervalSince(started))
            try run.save(info: info, notes: notes, to: pretrainingStatePath)
        }
        if run.isFinished {
            try Checkpoint.save(run.model, info: info, to: pretrainedBackbonePath)
            try writeAnomalyScores(model: run.model, info: info, known: Array(zip(items, images)))
            try storeRoundZero()
        }
        return PretrainingSummary(images: images.count, epochsDone: run.epochsDone, epochs: options.epochs, losses: run.losses,
                                  seconds: Date().timeIntervalSince(started), resumedAfter: resumedAfter, method: options.method)
    }

    /// Scores every usable original item — every split: the score reads no label, and the test
    /// split's scores are how `eval-detection` measures it — by its patch distance
    /// (`PatchDistances`) to the images the run learnt from (each of those against the others),
    /// and writes them atomically. `known`: those images, as the network sees them; the other
    /// items are read.
    func writeAnomalyScores(model: ResNet, info: CheckpointInfo, known: [(ItemRecord, Image)]) throws {
        let items = try [Split.pool, .train, .validation, .test].flatMap { try self.items(in: $0) }.filter { $0.origin == .original }
        let distances = PatchDistances(bankImages: known.map(\.1), model: model, info: info)
        let bankPosition = Dictionary(known.enumerated().map { ($1.0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let ready = Dictionary(known.map { ($0.0.id, $0.1) }, uniquingKeysWith: { a, _ in a })
        let size = info.configuration.inputSize, channels = info.configuration.inputChannels
        var text = "item_id,distance,path\n"
        var start = 0
        while start < items.count {
            let chunk = Array(items[start..<min(start + 256, items.count)])
            var images: [Image] = [], kept: [ItemRecord] = []
            for item in chunk {
                // An item that can no longer be read gets no score; the others still do.
                guard let image = ready[item.id] ?? (try? ImageFile.read(try file(of: item)).image)?.modelInput(channels: channels, size: size)
                else { continue }
                images.append(image)
                kept.append(item)
            }
            let results = distances.distances(of: images, bankPositions: kept.map { bankPosition[$0.id] })
            for (item, result) in zip(kept, results) {
                text += "\(item.id),\(result.score),\(Self.csvField(item.path))\n"
            }
            start += 256
        }
        try BinaryFile.writeAtomically(Array(text.utf8), to: anomalyScoresPath)
    }

    /// The anomaly score of every original item, highest first; empty when round 0 did not
    /// come from the defect pretext (or there is no round 0).
    public func anomalyScores() throws -> [AnomalyScore] {
        guard hasPretrainedBackbone, BinaryFile.exists(anomalyScoresPath) else { return [] }
        let text = String(decoding: try BinaryFile.read(anomalyScoresPath), as: UTF8.self)
        let lines = text.split(separator: "\n")
        // Files of the first version also held the split the item was in when scored (stale
        // once answers move parts): that column is passed over. Files before the patch
        // distance hold P(defect).
        let skipsSplit = lines.first?.hasPrefix("item_id,split,") == true
        let scale: AnomalyScore.Scale = lines.first?.hasPrefix("item_id,distance,") == true ? .standardDeviations : .probability
        var scores: [AnomalyScore] = []
        for line in lines.dropFirst() {
            // The path is last and may hold commas (quoted).
            var fields = line.split(separator: ",", maxSplits: skipsSplit ? 3 : 2, omittingEmptySubsequences: false).map(String.init)
            if skipsSplit, fields.count == 4 { fields.remove(at: 1) }
            guard fields.count == 3, let id = Int64(fields[0]), let score = Float(fields[1]) else {
                throw WorkspaceError(name, "\(anomalyScoresPath): unreadable line '\(line)'")
            }
            scores.append(AnomalyScore(itemID: id, path: Self.csvUnquoted(fields[2]), score: score, scale: scale))
        }
        return scores.sorted(by: AnomalyScore.ranksAbove)
    }

    /// The anomaly scores of the parts in the pool now, highest first: what `status` and the
    /// operator screen rank.
    public func poolAnomalyScores() throws -> [AnomalyScore] {
        let scores = try anomalyScores()
        guard !scores.isEmpty else { return [] }
        let pool = Set(try items(in: .pool).map(\.id))
        return scores.filter { pool.contains($0.itemID) }
    }

    /// The pretraining options for this workspace and `method`: the defaults, with the defect
    /// pretext's epochs set for about 3 000 batches over the workspace's images (30 to 1 000
    /// epochs), so a small workspace gets enough steps and a large one stays within minutes.
    public func suggestedPretrainingOptions(method: PretrainingMethod = Workspace.defaultPretrainingMethod) throws -> PretrainingOptions {
        var options = PretrainingOptions()
        options.method = method
        if method == .defects {
            options.epochs = DefectPretext.defaultEpochs(images: try pretrainingItems().count, batchSize: options.batchSize)
        }
        return options
    }

    /// Round 0's P(defect) of each image (any size; prepared for `model`), averaged over the
    /// image and its flips.
    public static func defectProbabilities(of images: [Image], model: ResNet, info: CheckpointInfo) -> [Float] {
        DefectPretext.scores(of: images.map { $0.modelInput(channels: info.configuration.inputChannels, size: info.configuration.inputSize) },
                             model: model, info: info)
    }

    /// The nearest-neighbour distances of round 0's early features (`PatchDistances`; `model`
    /// and `info` are round 0's, as the caller loaded it), with the images pretraining learnt
    /// from as the bank; nil when round 0 did not come from the defect pretext. Reads those
    /// images.
    public func patchDistances(model: ResNet, info: CheckpointInfo) throws -> PatchDistances? {
        guard try pretrainingSummary()?.method == .defects, hasPretrainedBackbone else { return nil }
        let size = info.configuration.inputSize, channels = info.configuration.inputChannels
        var bank: [Image] = []
        for item in try pretrainingItems() {
            // An image that can no longer be read is left out of the bank.
            guard let image = try? ImageFile.read(try file(of: item)).image else { continue }
            bank.append(image.modelInput(channels: channels, size: size))
        }
        guard bank.count >= 2 else { return nil }
        return PatchDistances(bankImages: bank, model: model, info: info)
    }

    /// Round 0's defect map of each image (any size; prepared for `model`): the dense head's
    /// σ(z), averaged over the image and its flips (each map flipped back), enlarged
    /// bilinearly to the model's input size; nil without a defect head.
    public static func defectMaps(of images: [Image], model: ResNet, info: CheckpointInfo) -> [Image]? {
        guard model.defectHead != nil else { return nil }
        let size = info.configuration.inputSize, (h, w) = info.configuration.defectMapSize
        let prepared = images.map { $0.modelInput(channels: info.configuration.inputChannels, size: size) }
        let maps = DefectPretext.averagedOverFlips(prepared, info: info) { batch, count in
            let map = model.defectMaps(batch)!
            return (0..<count).map { Image(width: w, height: h, channels: 1, pixels: Array(map.data[($0 * h * w)..<(($0 + 1) * h * w)])) }
        }
        return maps.map { $0.resized(width: size, height: size) }
    }
}

extension Workspace {
    /// `count` examples of the defect pretext on the workspace's own images (as pretraining
    /// would see them: at the model's input size, from the images outside the test split),
    /// for a person to judge whether they look like defects: the mix a run with `warps` draws,
    /// or only `kind` when given.
    public func syntheticDefectExamples(count: Int, seed: UInt64, warps: Bool = false, kind: SyntheticDefects.Kind? = nil) throws -> [(path: String, original: Image, defect: SyntheticDefect)] {
        let items = try pretrainingItems()
        guard items.count >= 1 else { throw WorkspaceError(name, "no usable image outside the test split to draw defects on") }
        let size = try inputSize
        var random = SplitMix64(seed: seed)
        var channels = 0
        // A few dozen donors are plenty for examples; reading every image is not needed.
        var donors: [Image] = []
        for index in (0..<min(items.count, 32)).map({ $0 * items.count / min(items.count, 32) }) {
            guard let image = try? ImageFile.read(try file(of: items[index])).image else { continue }
            if channels == 0 { channels = image.colorChannels }
            donors.append(image.modelInput(channels: channels, size: size))
        }
        var defects = SyntheticDefects(warps: warps)
        if let kind { defects.kindWeights = [(kind, 1)] }
        var examples: [(path: String, original: Image, defect: SyntheticDefect)] = []
        for _ in 0..<count {
            let item = items[random.integer(0, items.count - 1)]
            let image = try ImageFile.read(try file(of: item)).image.modelInput(channels: max(channels, 1), size: size)
            examples.append((item.path, image, defects.make(on: image, donors: donors, random: &random)))
        }
        return examples
    }
}
