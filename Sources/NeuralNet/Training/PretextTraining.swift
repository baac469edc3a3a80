#if canImport(Glibc)
import Glibc
#endif
import SeededRandom

/// One batch of a pretext task: normalised images, their pretext labels, and — for a network
/// with a defect head — where each image's defect is, per cell of the head's map.
public struct PretextBatch: Sendable {
    public var images: Tensor
    public var labels: [Int]
    /// The share of each cell of the head's map [N, 1, h, w] that is defect; nil: no map loss.
    public var mapTargets: Tensor?
    /// Per image, how much its map counts (0: its map is unknown).
    public var mapWeights: [Float]

    public init(images: Tensor, labels: [Int], mapTargets: Tensor? = nil, mapWeights: [Float] = []) {
        self.images = images
        self.labels = labels
        self.mapTargets = mapTargets
        self.mapWeights = mapWeights
    }
}

/// Training a whole ResNet — backbone and `fc`, and its defect head when it has one — on a
/// pretext task whose labels the caller makes per batch (for the defect pretext: 0 = the part
/// as it is, 1 = the part with a synthetic defect drawn on it, and the cells the defect
/// covers). No label of a data set is read here or by the caller.
///
/// The loss is softmax cross-entropy on the generated labels, L = −(1/N) Σᵢ log pᵢ,yᵢ, plus
/// the defect head's `DefectMapLoss` where the batch has map targets;
/// Adam with the learning rate decayed along a cosine over the epochs,
/// η_e = η · ½ (1 + cos(π (e − 1) / E)). Epoch by epoch, so the caller can save after each one
/// and resume: every epoch draws its randomness from the seed and its number alone, so a run
/// resumed from a saved state continues exactly as an uninterrupted one.
public final class PretextTraining {
    public let model: ResNet
    public let options: PretrainingOptions
    public private(set) var epochsDone = 0
    /// Mean loss of each epoch done.
    public private(set) var losses: [Float] = []
    let optimizer: Adam
    let optimizerParameters: [Parameter]

    public init(model: ResNet, options: PretrainingOptions) {
        self.model = model
        self.options = options
        optimizerParameters = model.trainableParameters
        optimizer = Adam(parameters: optimizerParameters, learningRate: options.learningRate, weightDecay: options.weightDecay)
    }

    public var isFinished: Bool { epochsDone >= options.epochs }

    /// Runs the next epoch over `count` images, in a shuffled order cut into whole batches;
    /// `makeBatch` turns the indices of a batch into normalised images and their pretext labels,
    /// drawing any randomness it needs from the generator it is handed. `progress` returning
    /// false stops at the end of the current batch: the epoch then does not count.
    @discardableResult
    public func runEpoch(count: Int, makeBatch: (_ indices: [Int], _ random: inout SplitMix64) -> PretextBatch,
                         progress: (PretrainingProgress) -> Bool = { _ in true }) -> Bool {
        precondition(count >= 2, "pretraining needs at least two images")
        let epoch = epochsDone + 1
        let mean = PretrainingState.runEpoch(epoch, count: count, options: options, optimizer: optimizer, progress: progress) { indices, random in
            let data = makeBatch(indices, &random)
            model.zeroGradients()
            let mapping = model.defectHead != nil && data.mapTargets != nil
            model.computesDefectMap = mapping
            defer { model.computesDefectMap = false }
            let (logits, _) = model.forward(data.images, training: true)
            var (loss, gradient) = softmaxCrossEntropy(logits: logits, labels: data.labels)
            guard mapping, let targets = data.mapTargets, let map = model.lastDefectMap else {
                model.backward(gradient)
                return loss
            }
            var (mapLoss, mapGradient) = DefectMapLoss.loss(logits: map, targets: targets, weights: data.mapWeights)
            let lambda = options.mapLossWeight
            for i in mapGradient.data.indices { mapGradient.data[i] *= lambda }
            loss += lambda * mapLoss
            model.backward(gradient, defectMapGradient: mapGradient)
            return loss
        }
        guard let mean else { return false }
        epochsDone = epoch
        losses.append(mean)
        return true
    }

    // MARK: Saving and resuming

    /// Writes the model, Adam's moments, the epochs done and their losses to one file,
    /// atomically (`PretrainingState`); `notes` are the caller's own facts about the run.
    public func save(info: CheckpointInfo, notes: [String: String] = [:], to path: String) throws(CheckpointError) {
        try PretrainingState.save(model: model, extra: [], optimizer: optimizer, epochsDone: epochsDone, losses: losses,
                                  epochs: options.epochs, description: Self.describe(options), info: info, notes: notes, to: path)
    }

    /// Continues a run saved by `save` with the same options (refused otherwise), with the
    /// notes it was saved with.
    public static func resume(from path: String, options: PretrainingOptions) throws(CheckpointError)
        -> (run: PretextTraining, info: CheckpointInfo, notes: [String: String]) {
        let state = try PretrainingState.read(from: path, description: describe(options), extraPrefixes: [])
        let run = PretextTraining(model: state.model, options: options)
        try state.restore(extra: [], optimizer: run.optimizer, parameters: run.optimizerParameters)
        run.epochsDone = state.epochsDone
        run.losses = state.losses
        return (run, state.info, state.notes)
    }

    /// The options as the state file records them.
    static func describe(_ options: PretrainingOptions) -> String {
        "method=\(options.method.rawValue) epochs=\(options.epochs) batch=\(options.batchSize) lr=\(options.learningRate) "
            + "decay=\(options.weightDecay) seed=\(options.seed)"
            + (options.defectMap ? " map=\(options.mapLossWeight)" : "") + (options.setsSuspectsAside ? "" : " suspects=off")
            + (options.syntheticWarps ? " warps=on" : "")
    }
}
