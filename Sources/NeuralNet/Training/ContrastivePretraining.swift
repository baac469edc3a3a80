import FileAccess
import SeededRandom
#if canImport(Glibc)
import Glibc
#endif

/// How the two views of an image are made to agree.
public enum PretrainingMethod: String, Sendable, CaseIterable {
    /// SimCLR: NT-Xent over the batch; the other images' views are the negatives.
    case simclr
    /// SimSiam: a predictor pulls one view's projection towards the other's, held fixed; no
    /// negatives, so no large batch.
    case simsiam
    /// Synthetic local defects: the network learns to tell a part from the same part with a
    /// defect drawn on it (`PretextTraining` on batches the caller makes; the engine's
    /// `SyntheticDefects`).
    case defects

    /// Whether the method compares two views of each image (`ContrastivePretraining`).
    public var isContrastive: Bool { self != .defects }
}

public struct PretrainingOptions: Sendable, Equatable {
    public var method = PretrainingMethod.simclr
    public var epochs = 60
    /// Images per batch; each gives two views, so the loss sees 2 × batchSize rows.
    public var batchSize = 32
    /// Adam's step, decayed by a cosine over the epochs.
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 1e-6
    /// τ of NT-Xent.
    public var temperature: Float = 0.2
    /// The projection head's output size.
    public var projectionSize = 64
    /// The smallest share of the image a view's crop keeps.
    public var minimumCropArea: Float = 0.35
    /// Defect pretext: the network gets a dense defect head trained on the synthetic defects'
    /// masks beside its image output (`ResNet.defectHead`).
    public var defectMap = false
    /// Defect pretext with a head: the weight λ of the map loss, L = L_image + λ · L_map.
    public var mapLossWeight: Float = 1
    /// Defect pretext: parts the network already calls defective are shown only with
    /// synthetic defects (the engine's suspects), so real defects in the pool are not taught
    /// as normal.
    public var setsSuspectsAside = true
    /// Defect pretext: warps (the part's own outline moved: dents, kinks, bent edges) among the
    /// synthetic defects. Off by default: measured, they raised the patch distance's ranking
    /// of dents but lowered the first rounds on most seeds (`Docs/Pretraining.md`).
    public var syntheticWarps = false
    public var seed: UInt64 = 1

    public init() {}
}

/// After every batch and every epoch.
public struct PretrainingProgress: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var batch: Int
    public var batchesPerEpoch: Int
    /// Mean loss of the epoch so far (NT-Xent, or SimSiam's negative cosine).
    public var loss: Float
}

/// Two views of each image, as SimCLR makes them but for parts photographed by a fixed
/// camera: a random crop of 35–100 % of the area (aspect 3:4 to 4:3) scaled back to the full
/// size, horizontal and vertical flips, brightness ± 0.4 and contrast × 0.6–1.4 (in the
/// normalised units, about the image's own mean). No quarter turns and no colour jitter: the
/// camera fixes the orientation and the lighting's colour, so the network need not learn to
/// ignore them, and a defect's look is kept.
public enum ContrastiveViews {
    /// One view of every image of `batch` (normalised NCHW).
    public static func view(of batch: Tensor, minimumArea: Float = 0.35, random: inout SplitMix64) -> Tensor {
        let (n, c, h, w) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        var out = Tensor(zeros: batch.shape)
        for image in 0..<n {
            let area = random.uniform(minimumArea, 1), aspect = expf(random.uniform(logf(0.75), logf(4 / 3.0)))
            let cropW = min(Float(w), (area * aspect).squareRoot() * Float(w))
            let cropH = min(Float(h), (area / aspect).squareRoot() * Float(h))
            let left = random.uniform(0, Float(w) - cropW), top = random.uniform(0, Float(h) - cropH)
            let flipX = random.chance(0.5), flipY = random.chance(0.5)
            let brightness = random.uniform(-0.4, 0.4), contrast = random.uniform(0.6, 1.4)
            batch.data.withUnsafeBufferPointer { source in
                out.data.withUnsafeMutableBufferPointer { target in
                    for channel in 0..<c {
                        let base = (image * c + channel) * h * w
                        var mean: Float = 0
                        for i in 0..<(h * w) { mean += source[base + i] }
                        mean /= Float(h * w)
                        for y in 0..<h {
                            let ty = flipY ? h - 1 - y : y
                            // Bilinear sample of the crop at the pixel centre.
                            let sy = min(max(top + (Float(y) + 0.5) * cropH / Float(h) - 0.5, 0), Float(h - 1))
                            let y0 = Int(sy), y1 = min(y0 + 1, h - 1), fy = sy - Float(y0)
                            for x in 0..<w {
                                let tx = flipX ? w - 1 - x : x
                                let sx = min(max(left + (Float(x) + 0.5) * cropW / Float(w) - 0.5, 0), Float(w - 1))
                                let x0 = Int(sx), x1 = min(x0 + 1, w - 1), fx = sx - Float(x0)
                                let top = source[base + y0 * w + x0] * (1 - fx) + source[base + y0 * w + x1] * fx
                                let bottom = source[base + y1 * w + x0] * (1 - fx) + source[base + y1 * w + x1] * fx
                                let value = top * (1 - fy) + bottom * fy
                                target[base + ty * w + tx] = (value - mean) * contrast + mean + brightness
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// Self-supervised pretraining of a ResNet's backbone on unlabelled images: two views of each
/// image, a projection head, and NT-Xent (SimCLR) or a predictor and the negative cosine
/// (SimSiam). Never reads a label. Epoch by epoch, so the
/// caller can save after each one and resume: every epoch draws its randomness from the seed
/// and the epoch's number alone, so a run resumed from a saved state continues exactly as an
/// uninterrupted one.
public final class ContrastivePretraining {
    public let model: ResNet
    public let head: ProjectionHead
    /// SimSiam's predictor on the projection (a bottleneck of a quarter), nil for SimCLR.
    public let predictor: ProjectionHead?
    public let options: PretrainingOptions
    public private(set) var epochsDone = 0
    /// Mean loss of each epoch done.
    public private(set) var losses: [Float] = []
    let optimizer: Adam
    let optimizerParameters: [Parameter]

    public init(model: ResNet, options: PretrainingOptions) {
        precondition(options.method.isContrastive, "\(options.method) is not a contrastive method")
        self.model = model
        self.options = options
        var random = SplitMix64(seed: options.seed ^ 0x5052_4554_5241_494E)
        let features = model.configuration.embeddingSize
        head = ProjectionHead(inFeatures: features, hidden: features, outFeatures: options.projectionSize, random: &random)
        predictor = options.method == .simsiam
            ? ProjectionHead(inFeatures: options.projectionSize, hidden: max(options.projectionSize / 4, 4),
                             outFeatures: options.projectionSize, random: &random)
            : nil
        // The classifier head (fc) takes no part: the backbone and the projection head learn.
        optimizerParameters = model.namedParameters.filter { !$0.0.hasPrefix(model.headPrefix) }.map(\.1).filter(\.isTrainable)
            + head.trainableParameters + (predictor?.trainableParameters ?? [])
        optimizer = Adam(parameters: optimizerParameters, learningRate: options.learningRate, weightDecay: options.weightDecay)
    }

    public var isFinished: Bool { epochsDone >= options.epochs }

    /// Runs the next epoch over `images` (normalised NCHW, at least 2). `progress` returning
    /// false stops at the end of the current batch: the epoch then does not count and the
    /// model is left between states — resume from the last saved one.
    @discardableResult
    public func runEpoch(on images: Tensor, progress: (PretrainingProgress) -> Bool = { _ in true }) -> Bool {
        precondition(images.shape[0] >= 2, "pretraining needs at least two images")
        let epoch = epochsDone + 1
        model.setTraining(true)
        head.setTraining(true)
        predictor?.setTraining(true)
        let mean = PretrainingState.runEpoch(epoch, count: images.shape[0], options: options, optimizer: optimizer,
                                             progress: progress) { slice, random in
            let originals = Self.gather(images, slice)
            let first = ContrastiveViews.view(of: originals, minimumArea: options.minimumCropArea, random: &random)
            let second = ContrastiveViews.view(of: originals, minimumArea: options.minimumCropArea, random: &random)
            let views = Self.concatenate(first, second)
            for parameter in optimizerParameters { parameter.zeroGradient() }
            let (_, embedding) = model.forward(views)
            let projections = head(embedding)
            let loss: Float, dz: Tensor
            if let predictor {
                let dp: Tensor
                (loss, dp) = NegativeCosine.loss(predictions: predictor(projections), targets: projections)
                dz = predictor.backward(dp)
            } else {
                (loss, dz) = NTXent.loss(projections, temperature: options.temperature)
            }
            model.backward(embeddingGradient: head.backward(dz))
            return loss
        }
        guard let mean else { return false }
        epochsDone = epoch
        losses.append(mean)
        return true
    }

    static func gather(_ images: Tensor, _ indices: [Int]) -> Tensor {
        let size = images.shape[1] * images.shape[2] * images.shape[3]
        var shape = images.shape
        shape[0] = indices.count
        var out = Tensor(zeros: shape)
        for (slot, index) in indices.enumerated() {
            for i in 0..<size { out.data[slot * size + i] = images.data[index * size + i] }
        }
        return out
    }

    static func concatenate(_ a: Tensor, _ b: Tensor) -> Tensor {
        var shape = a.shape
        shape[0] += b.shape[0]
        return Tensor(shape: shape, data: a.data + b.data)
    }

    // MARK: Saving and resuming

    /// Writes everything a resumed run needs — the model (as a checkpoint with `info`), the
    /// projection head, Adam's moments, the epochs done and their losses — to one file,
    /// atomically: after a crash the file holds the last finished epoch, whole.
    /// `notes`: the caller's own facts about the run (kept as metadata `note_KEY`).
    public func save(info: CheckpointInfo, notes: [String: String] = [:], to path: String) throws(CheckpointError) {
        let heads = head.namedParameters.map { ("projection.\($0.0)", $0.1) }
            + (predictor?.namedParameters ?? []).map { ("predictor.\($0.0)", $0.1) }
        try PretrainingState.save(model: model, extra: heads, optimizer: optimizer, epochsDone: epochsDone, losses: losses,
                                  epochs: options.epochs, description: Self.describe(options), info: info, notes: notes, to: path)
    }

    /// How far the run saved at `path` got, without building it (any pretraining method).
    public static func savedProgress(at path: String) throws(CheckpointError)
        -> (epochsDone: Int, epochs: Int, losses: [Float], notes: [String: String]) {
        try PretrainingState.savedProgress(at: path)
    }

    /// Continues a run saved by `save` with the same options (refused otherwise: a resumed
    /// run with other options would not be the run it continues).
    public static func resume(from path: String, options: PretrainingOptions) throws(CheckpointError) -> (ContrastivePretraining, CheckpointInfo) {
        let state = try PretrainingState.read(from: path, description: describe(options), extraPrefixes: ["projection.", "predictor."])
        let run = ContrastivePretraining(model: state.model, options: options)
        let heads = run.head.namedParameters.map { ("projection.\($0.0)", $0.1) }
            + (run.predictor?.namedParameters ?? []).map { ("predictor.\($0.0)", $0.1) }
        try state.restore(extra: heads, optimizer: run.optimizer, parameters: run.optimizerParameters)
        run.epochsDone = state.epochsDone
        run.losses = state.losses
        return (run, state.info)
    }

    /// The options as the state file records them.
    static func describe(_ options: PretrainingOptions) -> String {
        "method=\(options.method.rawValue) epochs=\(options.epochs) batch=\(options.batchSize) lr=\(options.learningRate) decay=\(options.weightDecay) "
            + "tau=\(options.temperature) projection=\(options.projectionSize) crop=\(options.minimumCropArea) seed=\(options.seed)"
    }
}
