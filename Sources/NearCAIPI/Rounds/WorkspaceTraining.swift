import Explanations
import FileAccess
import Foundation
import Imaging
import NeuralNet

extension Workspace {
    /// A usable item whose label the engine knows.
    public struct LabelledItem: Sendable {
        public var id: Int64
        public var path: String
        public var label: ClassLabel
        public var origin: ItemOrigin
        /// The defect mask the workspace holds for it: a refutation's own, or the data set's
        /// (relative to the workspace or the data root, by origin).
        public var truthMaskPath: String?
    }

    /// Usable items of a split whose label the engine knows (feedback labels and generated
    /// training items included), in the order they were indexed.
    public func labelledItems(in split: Split) throws -> [LabelledItem] {
        try store.items(in: split, labelledOnly: true).compactMap { item in
            item.label.map { LabelledItem(id: item.id, path: item.path, label: $0, origin: item.origin, truthMaskPath: item.truthMaskPath) }
        }
    }

    /// The file of an item: generated items below the workspace, originals below the data root.
    public func file(of path: String, origin: ItemOrigin) throws -> String {
        guard origin.isGenerated else { return "\(try dataRoot)/\(path)" }
        // On a server, a refutation another station made since this one looked is fetched now.
        try fetchStoredFileIfMissing(path)
        return "\(self.path)/\(path)"
    }

    public func file(of item: LabelledItem) throws -> String { try file(of: item.path, origin: item.origin) }
    public func file(of item: ItemRecord) throws -> String { try file(of: item.path, origin: item.origin) }

    /// The item's image from the data root, prepared for a model (channels, square size).
    public func image(_ path: String, size: Int, channels: Int) throws -> Image {
        try ImageFile.read("\(try dataRoot)/\(path)").image.modelInput(channels: channels, size: size)
    }

    /// The OK parts of the training split (originals, not refutations), prepared for
    /// `classifier`: what the normal-part heatmap fills draw from. At most
    /// `NormalParts.maximumParts`, evenly chosen; a part that cannot be read is left out.
    public func normalParts(for classifier: ImageClassifier) throws -> NormalParts? {
        let items = try labelledItems(in: .train).filter { $0.label == .ok && !$0.origin.isGenerated }
        var images: [Image] = []
        // Only the parts NormalParts would keep are read.
        for item in NormalParts.kept(of: items.count).map({ items[$0] }) {
            if let image = try? ImageFile.read(try file(of: item)).image {
                images.append(classifier.prepare(image))
            }
        }
        return NormalParts(parts: images)
    }

    /// Every round, oldest first. On a server workspace, the files other stations stored
    /// (a new round's checkpoint) are copied in first, so every round returned can be loaded.
    public func rounds() throws -> [Round] {
        try syncStoredFiles()
        return try store.rounds()
    }

    public func activeRound() throws -> Round? { try rounds().last { $0.status == .active } }

    /// Where a round's checkpoint file is (the rounds table stores it relative to the workspace).
    public func checkpointPath(of round: Round) -> String { "\(path)/\(round.checkpoint)" }

    /// The active round's classifier.
    public func activeModel() throws -> (model: ResNet, info: CheckpointInfo, round: Round) {
        guard let round = try activeRound() else { throw WorkspaceError.noTrainedModel(name) }
        let (model, info) = try Checkpoint.load(checkpointPath(of: round))
        return (model, info, round)
    }

    /// Trains a new round on the training split: fine-tuned from the active round's weights
    /// unless `fromScratch` (or there is none); else from `pretrained` (a backbone file), else
    /// from the workspace's pretrained backbone (round 0, `pretrain`) if it has one, else from
    /// random weights.
    /// The checkpoint is written (atomically) before the round is recorded, in one
    /// transaction that also marks the previous round superseded: a crash leaves either the
    /// old active round or the new one, never a half-written checkpoint in use.
    /// The new round becomes active by `promotion` (the workspace's rule when nil): with
    /// `.unlessWorse`, a round the paired comparison finds worse than the active one on the
    /// validation parts (`PairedComparison`, kept in its metrics), with `.ifNotWorse` one whose
    /// validation MCC is lower, is recorded as a candidate instead — the returned round's
    /// status says which.
    public func trainRound(options: TrainingOptions, fromScratch: Bool, pretrained: String? = nil, promotion: RoundPromotion? = nil,
                           progress: (TrainingProgress) -> Bool) throws -> (Round, RoundMetrics) {
        try takeTrainingTurn()
        defer { try? store.endTraining() }
        let architecture = try self.architecture
        let size = try inputSize
        // Feedback recorded while this round trains (other inspectors keep working) is not in
        // its training set, so it stays pending for the next round.
        let lastFeedback = try store.lastFeedbackID()
        let training = try labelledItems(in: .train), validation = try labelledItems(in: .validation), test = try labelledItems(in: .test)
        guard Set(training.map(\.label)).count == 2 else { throw WorkspaceError(name, "the training split needs OK and NOK images") }
        // The training-set size of a round counts originals and generated items alike.
        let originals = training.filter { !$0.origin.isGenerated }
        let channels = try ImageFile.read(try file(of: originals.first ?? training[0])).image.colorChannels
        let load = { (items: [LabelledItem]) throws -> [(Image, Int)] in
            try items.map { item in
                (try ImageFile.read(try self.file(of: item)).image.modelInput(channels: channels, size: size), item.label.classIndex)
            }
        }
        let trainingImages = try load(training), validationImages = try load(validation), testImages = try load(test)

        let start = Date()
        let previous = try activeRound()
        let configuration = ResNetConfiguration.named(architecture, inputChannels: channels, inputSize: size,
                                                      classCount: ClassLabel.allCases.count)!
        var model: ResNet, info: CheckpointInfo
        if let previous, !fromScratch {
            // A fine-tuned model keeps the normalisation it was first trained with.
            (model, info) = try Checkpoint.load(checkpointPath(of: previous))
        } else if pretrained == nil, hasPretrainedBackbone {
            // Round 0, the workspace's own pretrained network, with the normalisation it
            // learnt under and its fc as pretraining left it: the defect pretext's already
            // answers "defective or not"; the contrastive methods never train it.
            // Its defect head (the defect pretext's) comes along: the rounds keep a map of
            // where a defect is, though their own training does not change it.
            (model, info) = try Checkpoint.load(pretrainedBackbonePath)
            guard info.configuration.withDefectHead(false) == configuration else {
                throw WorkspaceError(name, "the pretrained backbone (round 0) is a \(info.configuration.architecture) at "
                                     + "\(info.configuration.inputSize) px; the workspace trains \(architecture) at \(size) px — pretrain again")
            }
        } else {
            let (mean, std) = SupervisedTraining.normalisation(of: trainingImages.map(\.0))
            info = CheckpointInfo(configuration: configuration, classNames: ClassFolderDataset.classNames, mean: mean, std: std)
            model = ResNet(configuration, seed: options.seed)
            if let pretrained { try Checkpoint.loadWeights(into: model, from: pretrained, replaceHeadIfClassesDiffer: true) }
        }
        var trainingSet = SupervisedTraining.batch(trainingImages.map(\.0), labels: trainingImages.map(\.1), info: info)
        var options = options, maskRegions: Int? = nil
        // λ as the caller chose it, the workspace's default where it did not; 0 when off.
        options.maskLossWeight = options.maskLossWeight > 0 ? options.maskLossWeight : Self.maskLossWeight
        if try !maskLoss { options.maskLossWeight = 0 }
        options.rightReasonsWeight = options.rightReasonsWeight > 0 ? options.rightReasonsWeight : Self.rightReasonsWeight
        if try !rightReasons { options.rightReasonsWeight = 0 }
        options.rightReasonsClass = ClassLabel.nok.classIndex
        if options.maskLossWeight > 0 {
            // The network learns where as well as whether: it needs a defect head to say where.
            model = model.addingDefectHead(seed: options.seed)
            info.configuration = info.configuration.withDefectHead(true)
        }
        if options.maskLossWeight > 0 || options.rightReasonsWeight > 0 {
            let targets = try maskTargets(of: training, in: .train, size: size)
            trainingSet.masks = targets.masks
            trainingSet.maskWeights = targets.weights
            if options.maskLossWeight > 0 { maskRegions = targets.defectRegions }
        }
        let validationSet = validationImages.isEmpty ? nil
            : SupervisedTraining.batch(validationImages.map(\.0), labels: validationImages.map(\.1), info: info)
        let report = Trainer.train(model, on: trainingSet, validation: validationSet,
                                   options: OcclusionAugmentation.options(options, on: trainingSet, enabled: try occlusionTraining),
                                   progress: progress)
        if report.cancelled { throw WorkspaceError(name, "training cancelled; no round recorded", reason: .trainingCancelled) }

        // Each split through the new model once: its predictions (the metrics, the paired
        // comparison) and its P(NOK) (the operating point).
        func answers(_ images: [(Image, Int)]) -> (predictions: [Int], scores: [Float], truth: [Int]) {
            guard !images.isEmpty else { return ([], [], []) }
            let set = SupervisedTraining.batch(images.map(\.0), labels: images.map(\.1), info: info)
            let (predictions, scores) = Trainer.classify(model, on: set)
            return (predictions, scores, set.labels)
        }
        let onValidation = answers(validationImages), onTest = answers(testImages)
        var metrics = RoundMetrics(validation: ClassificationMetrics(predictions: onValidation.predictions, truth: onValidation.truth),
                                   test: ClassificationMetrics(predictions: onTest.predictions, truth: onTest.truth), epochs: report.epochsRun,
                                   bestEpoch: report.bestEpoch, seconds: Date().timeIntervalSince(start))
        metrics.maskRegions = maskRegions
        metrics.operatingPoint = OperatingPoint(validation: (onValidation.scores, onValidation.truth), test: (onTest.scores, onTest.truth),
                                                maxMissed: try maxMissedDefects, maxRejected: try maxGoodRejected)
        let number = (try rounds().map(\.number).max() ?? 0) + 1
        let file = "models/round-\(String(format: "%03d", number)).safetensors"
        try Checkpoint.save(model, info: info, to: "\(path)/\(file)")
        let rule = try promotion ?? self.promotion
        let becomesActive: Bool
        switch rule {
        case .always: becomesActive = true
        case .ifNotWorse: becomesActive = Self.isNotWorse(metrics, than: previous?.metrics)
        case .unlessWorse:
            if let previous, !validationImages.isEmpty {
                // The round in use answers the same validation parts, with its own normalisation.
                let (activeModel, activeInfo) = try Checkpoint.load(checkpointPath(of: previous))
                let activeSet = SupervisedTraining.batch(validationImages.map(\.0), labels: onValidation.truth, info: activeInfo)
                let comparison = PairedComparison(against: previous.number, active: Trainer.predictions(activeModel, on: activeSet),
                                                  candidate: onValidation.predictions, truth: onValidation.truth,
                                                  confidence: try promotionConfidence)
                metrics.promotionEvidence = comparison
                becomesActive = !comparison.isWorse
            } else {
                becomesActive = true
            }
        }
        let trained = Round(number: number, checkpoint: file, status: becomesActive ? .active : .candidate,
                            trainingSize: training.count, metrics: metrics, lastFeedbackID: lastFeedback)
        let round = try store.record(trained, parentNumber: previous?.number, lastFeedbackID: lastFeedback,
                                     files: try stationFileContents([file]))
        return (round, round.metrics ?? metrics)
    }

    /// Why a round went live or stayed a candidate, in words (`previous`: the round in use when
    /// it was trained).
    public static func promotionReason(_ round: Round, previous: Round?) -> String {
        if let inUse = round.metrics?.inUseChangedTo {
            let trainedOn = previous.map { "round \($0.number)" } ?? "no round"
            return (inUse == 0 ? "no round was in use any more" : "round \(inUse) was put in use")
                + " while it trained (it was compared with \(trainedOn)): kept as candidate"
        }
        if let evidence = round.metrics?.promotionEvidence { return evidence.sentence }
        guard let previous else { return round.status == .candidate ? "kept as candidate" : "live: the first round" }
        let new = round.metrics?.validation.mcc ?? .nan, old = previous.metrics?.validation.mcc ?? .nan
        return round.status == .candidate
            ? String(format: "validation MCC %.3f < round %d's %.3f: kept as candidate", new, previous.number, old)
            : String(format: "validation MCC %.3f, round %d's %.3f: live", new, previous.number, old)
    }

    /// The promotion rule: `new` is not worse than `active` when its validation MCC is at
    /// least the active round's — or when there is nothing to compare (no active round, no
    /// metrics, or no validation images on either side).
    public static func isNotWorse(_ new: RoundMetrics, than active: RoundMetrics?) -> Bool {
        guard let active, new.validation.count > 0, active.validation.count > 0 else { return true }
        return new.validation.mcc >= active.validation.mcc
    }

    /// Makes the candidate round `number` active: the operator decided it is better after all.
    public func promote(round number: Int) throws {
        guard try store.promote(number) else { throw WorkspaceError(name, "round \(number) is not a candidate to promote") }
    }

    /// Sets the candidate round `number` aside for good (kept, marked discarded).
    public func discard(round number: Int) throws {
        guard try store.discard(number) else { throw WorkspaceError(name, "round \(number) is not a candidate to discard") }
    }

    /// Makes round `number` active again; later rounds are marked rolled back (kept). A
    /// rollback restores a model: the answers the later rounds trained on — labels, painted
    /// masks — stay true and wait for the next round (`revert` is how answers are withdrawn).
    /// Only a round that went live can be made active again this way: a candidate is promoted,
    /// a discarded or failed round never is.
    public func rollback(to number: Int) throws {
        guard let round = try rounds().first(where: { $0.number == number }) else {
            throw WorkspaceError(name, "no round \(number) to roll back to")
        }
        switch round.status {
        case .active, .superseded, .rolledBack: try store.rollback(to: number)
        case .candidate:
            throw WorkspaceError(name, "round \(number) is a candidate that never went live: promote it instead of rolling back to it")
        case .discarded:
            throw WorkspaceError(name, "round \(number) was discarded and never went live; it cannot be rolled back to")
        case .failed:
            throw WorkspaceError(name, "round \(number) did not finish training; it cannot be rolled back to")
        }
    }
}
