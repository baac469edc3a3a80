import Explanations
import FileAccess
import Foundation
import Imaging
import NeuralNet
import Storage

/// Where a round stands. The raw values are the rounds table's CHECK list (Schema.swift),
/// so the database and the code share one vocabulary.
public enum RoundStatus: String, Sendable, CaseIterable {
    /// The round whose model the loop uses (exactly one, once a round exists).
    case active
    /// Replaced by a later round.
    case superseded
    /// Undone by a rollback to an earlier round (kept, not used).
    case rolledBack = "rolled_back"
    /// Training did not complete.
    case failed
}

/// A recorded training round, with what it measured.
public struct Round: Sendable, Equatable {
    public var number: Int
    public var checkpoint: String
    public var status: RoundStatus
    public var trainingSize: Int
    /// Validation and test metrics; nil only for a round stored without readable metrics.
    public var metrics: RoundMetrics?
}

/// What a round measured, stored as JSON in the rounds table.
public struct RoundMetrics: Sendable, Codable, Equatable {
    public var validation: ClassificationMetrics
    public var test: ClassificationMetrics
    public var epochs: Int
    public var bestEpoch: Int
    public var seconds: Double
}

extension Workspace {
    /// A usable item with its known label, as read from the index.
    public struct LabelledItem: Sendable {
        public var id: Int64
        public var path: String
        public var label: Int
        /// Where the file lives: originals below the data root, generated items (refutations)
        /// below the workspace.
        public var isGenerated: Bool
    }

    /// Usable items of a split whose label the engine knows (feedback labels and generated
    /// training items included).
    public func labelledItems(split: String) throws -> [LabelledItem] {
        try database.query("SELECT id, path, label, origin FROM items WHERE split = ? AND usable = 1 AND label IS NOT NULL ORDER BY id",
                           [.text(split)]).compactMap { row in
            guard case .integer(let id) = row[0], case .text(let path) = row[1], case .integer(let label) = row[2],
                  case .text(let origin) = row[3] else { return nil }
            return LabelledItem(id: id, path: path, label: Int(label), isGenerated: origin != "original")
        }
    }

    /// The file of an item: generated items below the workspace, originals below the data root.
    public func file(of item: LabelledItem) throws -> String {
        item.isGenerated ? "\(path)/\(item.path)" : "\(try dataRoot)/\(item.path)"
    }

    public var dataRoot: String { get throws { try setting("data_root") ?? "" } }

    /// Whether rounds train with `OcclusionAugmentation` (setting `occlusion_training`, on or off).
    public var occlusionTraining: Bool {
        get throws {
            guard let text = try setting("occlusion_training") else { return OcclusionAugmentation.standard }
            guard let value = ["on": true, "off": false][text] else {
                throw WorkspaceError(path, "setting 'occlusion_training' has an unusable value '\(text)' (on or off)")
            }
            return value
        }
    }

    /// The item's image from the data root, prepared for a model (channels, square size).
    public func image(_ path: String, size: Int, channels: Int) throws -> Image {
        try ImageFile.read("\(try dataRoot)/\(path)").image.modelInput(channels: channels, size: size)
    }

    /// The OK parts of the training split (originals, not refutations), prepared for
    /// `classifier`: what the normal-part heatmap fills draw from. At most
    /// `NormalParts.maximumParts`, evenly chosen; a part that cannot be read is left out.
    public func normalParts(for classifier: ImageClassifier) throws -> NormalParts? {
        let items = try labelledItems(split: "train").filter { $0.label == 0 && !$0.isGenerated }
        var images: [Image] = []
        // Only the parts NormalParts would keep are read.
        for item in NormalParts.kept(of: items.count).map({ items[$0] }) {
            if let image = try? ImageFile.read(try file(of: item)).image {
                images.append(classifier.prepare(image))
            }
        }
        return NormalParts(parts: images)
    }

    /// Every round, oldest first: the one reader of the rounds table.
    public func rounds() throws -> [Round] {
        try database.query("SELECT number, checkpoint, status, training_size, metrics FROM rounds ORDER BY number")
            .compactMap { row in
                guard case .integer(let number) = row[0], case .text(let file) = row[1], case .text(let state) = row[2],
                      let status = RoundStatus(rawValue: state), case .integer(let size) = row[3] else { return nil }
                var metrics: RoundMetrics? = nil
                if case .text(let json) = row[4] { metrics = try? JSONDecoder().decode(RoundMetrics.self, from: Data(json.utf8)) }
                return Round(number: Int(number), checkpoint: file, status: status, trainingSize: Int(size), metrics: metrics)
            }
    }

    public func activeRound() throws -> Round? { try rounds().last { $0.status == .active } }

    /// Where a round's checkpoint file is (the rounds table stores it relative to the workspace).
    public func checkpointPath(of round: Round) -> String { "\(path)/\(round.checkpoint)" }

    /// The active round's classifier.
    public func activeModel() throws -> (model: ResNet, info: CheckpointInfo, round: Round) {
        guard let round = try activeRound() else { throw WorkspaceError.noTrainedModel(path) }
        let (model, info) = try Checkpoint.load(checkpointPath(of: round))
        return (model, info, round)
    }

    /// Trains a new round on the training split: fine-tuned from the active round's weights
    /// unless `fromScratch` (or there is none), optionally from a pretrained backbone.
    /// The checkpoint is written (atomically) before the round is recorded, in one
    /// transaction that also marks the previous round superseded: a crash leaves either the
    /// old active round or the new one, never a half-written checkpoint in use.
    public func trainRound(options: TrainingOptions, fromScratch: Bool, pretrained: String? = nil,
                           progress: (TrainingProgress) -> Bool) throws -> (Round, RoundMetrics) {
        let architecture = try setting("architecture") ?? "resnet18-w4"
        let size = Int(try setting("input_size") ?? "128") ?? 128
        // Feedback recorded while this round trains (other inspectors keep working) is not in
        // its training set, so it stays pending for the next round.
        var lastFeedback: Int64 = 0
        if case .integer(let id)? = try database.query("SELECT max(id) FROM feedback").first?.first { lastFeedback = id }
        let training = try labelledItems(split: "train"), validation = try labelledItems(split: "val"), test = try labelledItems(split: "test")
        guard Set(training.map(\.label)).count == 2 else { throw WorkspaceError(path, "the training split needs OK and NOK images") }
        // The training-set size of a round counts originals and generated items alike.
        let originals = training.filter { !$0.isGenerated }
        let channels = try ImageFile.read(try file(of: originals.first ?? training[0])).image.colorChannels
        let load = { (items: [LabelledItem]) throws -> [(Image, Int)] in
            try items.map { item in
                (try ImageFile.read(try self.file(of: item)).image.modelInput(channels: channels, size: size), item.label)
            }
        }
        let trainingImages = try load(training), validationImages = try load(validation), testImages = try load(test)

        let start = Date()
        let previous = try activeRound()
        let configuration = ResNetConfiguration.named(architecture, inputChannels: channels, inputSize: size, classCount: 2)!
        let model: ResNet, info: CheckpointInfo
        if let previous, !fromScratch {
            // A fine-tuned model keeps the normalisation it was first trained with.
            (model, info) = try Checkpoint.load(checkpointPath(of: previous))
        } else {
            let (mean, std) = SupervisedTraining.normalisation(of: trainingImages.map(\.0))
            info = CheckpointInfo(configuration: configuration, classNames: ClassFolderDataset.classNames, mean: mean, std: std)
            model = ResNet(configuration, seed: options.seed)
            if let pretrained { try Checkpoint.loadWeights(into: model, from: pretrained, replaceHeadIfClassesDiffer: true) }
        }
        let trainingSet = SupervisedTraining.batch(trainingImages.map(\.0), labels: trainingImages.map(\.1), info: info)
        let validationSet = validationImages.isEmpty ? nil
            : SupervisedTraining.batch(validationImages.map(\.0), labels: validationImages.map(\.1), info: info)
        let report = Trainer.train(model, on: trainingSet, validation: validationSet,
                                   options: OcclusionAugmentation.options(options, on: trainingSet, enabled: try occlusionTraining),
                                   progress: progress)
        if report.cancelled { throw WorkspaceError(path, "training cancelled; no round recorded") }

        func evaluate(_ images: [(Image, Int)]) -> ClassificationMetrics {
            guard !images.isEmpty else { return ClassificationMetrics(predictions: [], truth: []) }
            let set = SupervisedTraining.batch(images.map(\.0), labels: images.map(\.1), info: info)
            return ClassificationMetrics(predictions: Trainer.predictions(model, on: set), truth: set.labels)
        }
        let metrics = RoundMetrics(validation: evaluate(validationImages), test: evaluate(testImages), epochs: report.epochsRun,
                                   bestEpoch: report.bestEpoch, seconds: Date().timeIntervalSince(start))
        let number = (try rounds().map(\.number).max() ?? 0) + 1
        let file = "models/round-\(String(format: "%03d", number)).safetensors"
        try Checkpoint.save(model, info: info, to: "\(path)/\(file)")
        let json = String(decoding: try JSONEncoder().encode(metrics), as: UTF8.self)
        try database.transaction {
            try database.query("UPDATE rounds SET status = 'superseded' WHERE status = 'active'")
            try database.query("""
                INSERT INTO rounds (number, parent_id, checkpoint, training_size, metrics, created, status)
                VALUES (?, (SELECT id FROM rounds WHERE number = ?), ?, ?, ?, ?, 'active')
                """, [.integer(Int64(number)), previous.map { .integer(Int64($0.number)) } ?? .null, .text(file),
                      .integer(Int64(training.count)), .text(json), .text(ISO8601DateFormatter().string(from: Date()))])
            // The feedback this round trained on is now part of it.
            try database.query("UPDATE feedback SET round_id = (SELECT id FROM rounds WHERE number = ?) WHERE round_id IS NULL AND reverted = 0 AND id <= ?",
                               [.integer(Int64(number)), .integer(lastFeedback)])
        }
        return (Round(number: number, checkpoint: file, status: .active, trainingSize: training.count, metrics: metrics), metrics)
    }

    /// Makes round `number` active again; later rounds are marked rolled back (kept), and the
    /// feedback they trained on is marked reverted, so it is excluded until given again.
    public func rollback(to number: Int) throws {
        guard try rounds().contains(where: { $0.number == number && $0.status != .failed }) else {
            throw WorkspaceError(path, "no round \(number) to roll back to")
        }
        try database.transaction {
            try database.query("""
                UPDATE feedback SET reverted = 1
                WHERE round_id IN (SELECT id FROM rounds WHERE number > ?)
                """, [.integer(Int64(number))])
            try database.query("UPDATE rounds SET status = 'rolled_back' WHERE number > ?", [.integer(Int64(number))])
            try database.query("UPDATE rounds SET status = 'superseded' WHERE number < ? AND status = 'active'", [.integer(Int64(number))])
            try database.query("UPDATE rounds SET status = 'active' WHERE number = ?", [.integer(Int64(number))])
        }
    }
}
