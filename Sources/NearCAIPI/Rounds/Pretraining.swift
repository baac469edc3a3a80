import FileAccess
import Foundation
import Imaging
import NeuralNet

/// What a workspace's pretraining did (any method), and the network it left as round 0.
public struct PretrainingSummary: Sendable, Equatable {
    /// Images it learnt from (every usable original outside the test split).
    public var images: Int
    public var epochsDone: Int
    public var epochs: Int
    /// Mean loss per epoch (NT-Xent, or SimSiam's negative cosine).
    public var losses: [Float]
    /// Seconds of the run that made this summary (a resumed run counts its own).
    public var seconds: Double
    /// Epochs that were already done when this run started (0: not resumed).
    public var resumedAfter: Int
    /// How it pretrained (state files that do not say were SimCLR's, the only method then).
    public var method = PretrainingMethod.simclr
    public var isFinished: Bool { epochsDone >= epochs }
}

extension Workspace {
    /// The running state of pretraining: written after every epoch, resumed from.
    public var pretrainingStatePath: String { "\(path)/models/pretraining-state.safetensors" }
    /// Round 0: the pretrained backbone every round trained from scratch starts from.
    public var pretrainedBackbonePath: String { "\(path)/models/round-000.safetensors" }

    /// Whether the workspace has a finished pretrained backbone.
    public var hasPretrainedBackbone: Bool { BinaryFile.exists(pretrainedBackbonePath) }

    /// What the pretraining state file says (nil: never pretrained).
    public func pretrainingSummary() throws -> PretrainingSummary? {
        guard BinaryFile.exists(pretrainingStatePath) else { return nil }
        let saved = try ContrastivePretraining.savedProgress(at: pretrainingStatePath)
        return PretrainingSummary(images: saved.notes["images"].flatMap(Int.init) ?? 0, epochsDone: saved.epochsDone,
                                  epochs: saved.epochs, losses: saved.losses,
                                  seconds: saved.notes["seconds"].flatMap(Double.init) ?? 0, resumedAfter: 0,
                                  method: saved.notes["method"].flatMap(PretrainingMethod.init) ?? .simclr)
    }

    /// The images pretraining learns from: every usable original of the pool, the training and
    /// the validation split — labels are never read — and never the test split, whose images
    /// must stay unseen for its figures to mean anything.
    public func pretrainingItems() throws -> [ItemRecord] {
        // In the order they were indexed, whatever split an answer has since moved them to:
        // the run must not depend on who answered what.
        try [Split.pool, .train, .validation].flatMap { try items(in: $0) }.filter { $0.origin == .original }.sorted { $0.id < $1.id }
    }

    /// Pretraining of the workspace's network on its own unlabelled images (Docs/Pretraining.md):
    /// the defect pretext (`pretrainOnDefects`), or two views per image with SimCLR's NT-Xent or
    /// SimSiam's negative cosine. Resumes from the state of
    /// the last finished epoch unless `restart`; after every epoch the state is written
    /// atomically, and when the last epoch is done the backbone is written as round 0, from
    /// which the first round (and every round trained from scratch) starts. `progress`
    /// returning false stops after the current batch; the epochs done are kept.
    public func pretrain(options: PretrainingOptions, restart: Bool = false,
                         progress: (PretrainingProgress) -> Bool) throws -> PretrainingSummary {
        try takeTrainingTurn()
        defer { try? store.endTraining() }
        let started = Date()
        let items = try pretrainingItems()
        guard items.count >= 2 else { throw WorkspaceError(name, "pretraining needs at least two usable images outside the test split") }
        let size = try inputSize
        // The first image sets the channels every image is brought to.
        var channels = 0
        var images: [Image] = []
        images.reserveCapacity(items.count)
        for item in items {
            let image = try ImageFile.read(try file(of: item)).image
            if channels == 0 { channels = image.colorChannels }
            images.append(image.modelInput(channels: channels, size: size))
        }
        try BinaryFile.createDirectory("\(path)/models")
        if options.method == .defects {
            return try pretrainOnDefects(images, of: items, channels: channels, options: options, restart: restart, started: started,
                                         progress: progress)
        }
        let (run, info, _) = try openPretrainingRun(images, channels: channels, restart: restart) {
            let (run, info) = try ContrastivePretraining.resume(from: pretrainingStatePath, options: options)
            return (run, info, [:])
        } fresh: { info in
            ContrastivePretraining(model: ResNet(info.configuration, seed: options.seed), options: options)
        }
        let resumedAfter = run.epochsDone
        // The labels are given as zeros: pretraining has no use for them.
        let batch = SupervisedTraining.batch(images, labels: [Int](repeating: 0, count: images.count), info: info).images
        var notes = ["images": String(images.count), "method": options.method.rawValue]
        while !run.isFinished {
            guard run.runEpoch(on: batch, progress: progress) else { break }
            notes["seconds"] = String(Date().timeIntervalSince(started))
            try run.save(info: info, notes: notes, to: pretrainingStatePath)
        }
        if run.isFinished {
            try Checkpoint.save(run.model, info: info, to: pretrainedBackbonePath)
            try storeRoundZero()
        }
        return PretrainingSummary(images: images.count, epochsDone: run.epochsDone, epochs: options.epochs, losses: run.losses,
                                  seconds: Date().timeIntervalSince(started), resumedAfter: resumedAfter, method: options.method)
    }
}

extension Workspace {
    /// The checkpoint facts of a new pretraining run: the workspace's network for `channels`,
    /// normalised by the images it learns from (the first round keeps this normalisation).
    func pretrainingInfo(channels: Int, mean: [Float], std: [Float]) throws -> CheckpointInfo {
        let configuration = ResNetConfiguration.named(try architecture, inputChannels: channels, inputSize: try inputSize,
                                                      classCount: ClassLabel.allCases.count)!
        return CheckpointInfo(configuration: configuration, classNames: ClassFolderDataset.classNames, mean: mean, std: std)
    }

    /// Refuses a saved pretraining state made for another network than the workspace's.
    func checkPretrainingState(_ info: CheckpointInfo, channels: Int) throws {
        guard info.configuration.architecture == (try architecture), info.configuration.inputSize == (try inputSize),
              info.configuration.inputChannels == channels else {
            throw WorkspaceError(name, "the pretraining state is for another network (\(info.configuration.architecture) at "
                                 + "\(info.configuration.inputSize) px) — start again with --restart")
        }
    }

    /// The run to continue: resumed from the saved state unless `restart` (or there is none;
    /// a state for another network is refused), else a fresh one — normalised by the images
    /// it learns from, a normalisation the first round keeps — with round 0 and its scores
    /// removed as out of date.
    /// `configure` adapts the workspace's network for the method (the defect pretext adds its
    /// dense head).
    func openPretrainingRun<Run>(_ images: [Image], channels: Int, restart: Bool,
                                 resume: () throws -> (Run, CheckpointInfo, [String: String]),
                                 fresh: (CheckpointInfo) -> Run,
                                 configure: (ResNetConfiguration) -> ResNetConfiguration = { $0 })
        throws -> (Run, CheckpointInfo, [String: String]) {
        if !restart, BinaryFile.exists(pretrainingStatePath) {
            let resumed: (Run, CheckpointInfo, [String: String])
            do {
                resumed = try resume()
            } catch {
                throw WorkspaceError(name, "cannot resume pretraining: \(error) — start again with --restart")
            }
            try checkPretrainingState(resumed.1, channels: channels)
            return resumed
        }
        let (mean, std) = SupervisedTraining.normalisation(of: images)
        var info = try pretrainingInfo(channels: channels, mean: mean, std: std)
        info.configuration = configure(info.configuration)
        try removePretrainedBackbone()
        return (fresh(info), info, [:])
    }

    /// A new run makes round 0 and what was scored with it out of date.
    func removePretrainedBackbone() throws {
        try removeStoredFiles(["models/round-000.safetensors", "models/anomaly-scores.csv"])
        try BinaryFile.remove(pretrainedBackbonePath)
        try BinaryFile.remove(anomalyScoresPath)
    }
}
