#if canImport(Glibc)
import Glibc
#endif
import SeededRandom

/// Images (NCHW, already normalised) with their class indices and, where known, where each
/// image's defect is.
public struct LabelledImages: Sendable {
    public var images: Tensor
    public var labels: [Int]
    /// Defect masks [N, 1, H, W] at the images' size (1 inside the defect, 0 outside; a good
    /// part's mask is empty), or nil when no image's is known. They train a network's defect
    /// head (`TrainingOptions.maskLossWeight`) and move with the images under augmentation.
    public var masks: Tensor?
    /// Per image, how much its mask counts (0: its defect region is not known).
    public var maskWeights: [Float]

    public init(images: Tensor, labels: [Int], masks: Tensor? = nil, maskWeights: [Float] = []) {
        precondition(images.shape.count == 4 && images.shape[0] == labels.count, "one label per image")
        precondition(masks == nil || (masks!.shape == [labels.count, 1, images.shape[2], images.shape[3]] && maskWeights.count == labels.count),
                     "one mask of the images' size and one weight per image")
        self.images = images
        self.labels = labels
        self.masks = masks
        self.maskWeights = masks == nil ? [] : maskWeights
    }

    public var count: Int { labels.count }
    var imageSize: Int { images.shape[1] * images.shape[2] * images.shape[3] }

    /// The images at `indices`, in that order.
    func batch(_ indices: ArraySlice<Int>) -> (Tensor, [Int]) {
        let size = imageSize
        var data = [Float](repeating: 0, count: indices.count * size)
        images.data.withUnsafeBufferPointer { source in
            data.withUnsafeMutableBufferPointer { target in
                for (slot, index) in indices.enumerated() {
                    for i in 0..<size { target[slot * size + i] = source[index * size + i] }
                }
            }
        }
        var shape = images.shape
        shape[0] = indices.count
        return (Tensor(shape: shape, data: data), indices.map { labels[$0] })
    }

    /// The masks and mask weights at `indices`, in that order; nil without masks or when
    /// none of them counts.
    func maskBatch(_ indices: ArraySlice<Int>) -> (masks: Tensor, weights: [Float])? {
        guard let masks, indices.contains(where: { maskWeights[$0] > 0 }) else { return nil }
        let size = masks.shape[2] * masks.shape[3]
        var data = [Float](repeating: 0, count: indices.count * size)
        for (slot, index) in indices.enumerated() {
            for i in 0..<size { data[slot * size + i] = masks.data[index * size + i] }
        }
        return (Tensor(shape: [indices.count, 1, masks.shape[2], masks.shape[3]], data: data), indices.map { maskWeights[$0] })
    }
}

public struct TrainingOptions: Sendable {
    public enum Method: Sendable {
        /// SGD with momentum (the paper: learning rate 0.001, momentum 0.9).
        case sgd(learningRate: Float, momentum: Float)
        case adam(learningRate: Float)
    }
    public enum ClassWeighting: Sendable {
        case none
        /// w_c = N / (K · n_c): each class contributes equally to the loss.
        case balanced
        case custom([Float])
    }
    public var method: Method = .sgd(learningRate: 0.001, momentum: 0.9)
    public var weightDecay: Float = 0
    public var epochs = 50
    public var batchSize = 16
    /// Stop when the validation loss has not improved for this many epochs (the paper: 10);
    /// the best weights are kept.
    public var patience = 10
    public var classWeighting: ClassWeighting = .none
    /// Random flips, small shifts and brightness / contrast changes of each training image.
    public var augment = true
    /// Cosine decay of the learning rate over the epochs, η_e = η · ½ (1 + cos(π (e − 1) / E)):
    /// late epochs take small steps, so the weights settle instead of ending wherever the
    /// last large step threw them (with a few dozen training images, that is the difference
    /// between a model and a coin toss, measured in Docs/Workspace.md).
    public var cosineSchedule = true
    /// A further augmentation of each mini-batch (normalised NCHW images and their labels),
    /// applied after the built-in one when `augment` is on. The engine mixes occluded regions
    /// of OK parts through it (`OcclusionAugmentation`).
    public var batchAugmentation: (@Sendable (_ images: inout Tensor, _ labels: [Int], _ random: inout SplitMix64) -> Void)? = nil
    public var seed: UInt64 = 1
    /// For the first this-many epochs only the output layer `fc` is updated, the rest of the
    /// network's weights held as they are (batch normalisation's running statistics still
    /// follow the batches); then everything trains (a linear probe before fine-tuning):
    /// a pretrained backbone's features are not thrown around by the large, early gradients of
    /// a head that still answers at random. 0: everything from the start.
    public var headOnlyEpochs = 0
    /// λ of the mask loss: a network with a defect head and training images with masks adds
    /// λ · `DefectMapLoss` of the head's map against each mask's cell shares to the image loss,
    /// L = L_image + λ · L_map, so the network is told *where* a defect is as well as whether.
    /// 0: the head does not train.
    public var maskLossWeight: Float = 0
    /// λ of the right-reasons loss (`RightReasonsLoss`): training images with a known defect
    /// region add λ · L_reasons — `rightReasonsClass`'s evidence in the class activation map
    /// outside the region — so the decision is taken where the defect is. 0: off.
    public var rightReasonsWeight: Float = 0
    /// The class whose evidence outside a region is penalised (the defect class of two).
    public var rightReasonsClass = 1

    public init() {}
}

/// Reported after every batch and at the end of every epoch.
public struct TrainingProgress: Sendable {
    public var epoch: Int
    public var batch: Int
    public var batchesPerEpoch: Int
    /// Running mean over the epoch so far.
    public var loss: Float
    public var accuracy: Float
    /// Set at the end of an epoch when there is a validation set.
    public var validationLoss: Float?
    public var validationAccuracy: Float?
}

public struct TrainingReport: Sendable {
    public var epochsRun = 0
    public var bestEpoch = 0
    public var bestValidationLoss: Float?
    public var stoppedEarly = false
    public var cancelled = false
    /// Per epoch: training loss, training accuracy, validation loss, validation accuracy.
    public var history: [(loss: Float, accuracy: Float, validationLoss: Float?, validationAccuracy: Float?)] = []
}

/// Mini-batch training with shuffling, optional augmentation, class weighting and early
/// stopping. Deterministic: the same seed, data and options give the same weights.
public enum Trainer {
    /// Trains `model` in place. `progress` is called after each batch and after each epoch's
    /// validation; returning false cancels (the best weights so far are kept).
    @discardableResult
    public static func train(_ model: ResNet, on data: LabelledImages, validation: LabelledImages? = nil,
                             options: TrainingOptions,
                             progress: (TrainingProgress) -> Bool = { _ in true }) -> TrainingReport {
        var random = SplitMix64(seed: options.seed)
        let optimizer: Optimizer
        switch options.method {
        case .sgd(let lr, let momentum):
            optimizer = SGD(parameters: model.trainableParameters, learningRate: lr, momentum: momentum, weightDecay: options.weightDecay)
        case .adam(let lr):
            optimizer = Adam(parameters: model.trainableParameters, learningRate: lr, weightDecay: options.weightDecay)
        }
        // The head's own optimizer for the head-only epochs (its own moments: the whole
        // network's optimizer starts afresh when the backbone joins).
        let headOptimizer: Optimizer?
        if options.headOnlyEpochs > 0 {
            switch options.method {
            case .sgd(let lr, let momentum):
                headOptimizer = SGD(parameters: model.fc.trainableParameters, learningRate: lr, momentum: momentum,
                                    weightDecay: options.weightDecay)
            case .adam(let lr):
                headOptimizer = Adam(parameters: model.fc.trainableParameters, learningRate: lr, weightDecay: options.weightDecay)
            }
        } else {
            headOptimizer = nil
        }
        let weights = classWeights(options.classWeighting, labels: data.labels, classes: model.configuration.classCount)
        let batchesPerEpoch = (data.count + options.batchSize - 1) / options.batchSize
        var report = TrainingReport()
        var best: [[Float]]? = nil
        var bestLoss = Float.infinity
        var order = Array(0..<data.count)
        let baseRate = optimizer.learningRate
        for epoch in 1...max(options.epochs, 1) {
            if options.cosineSchedule {
                optimizer.learningRate = baseRate * 0.5 * (1 + cosf(Float.pi * Float(epoch - 1) / Float(max(options.epochs, 1))))
            }
            let stepping = epoch <= options.headOnlyEpochs ? headOptimizer ?? optimizer : optimizer
            stepping.learningRate = optimizer.learningRate
            // Fisher–Yates with the seeded generator.
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, random.integer(0, i)) }
            var lossSum: Float = 0, correct = 0, seen = 0
            for batch in 0..<batchesPerEpoch {
                let slice = order[(batch * options.batchSize)..<min((batch + 1) * options.batchSize, order.count)]
                var (images, labels) = data.batch(slice)
                let mapsDefects = options.maskLossWeight > 0 && model.defectHead != nil
                let weighsReasons = options.rightReasonsWeight > 0 && model.configuration.classCount == 2
                var masks = mapsDefects || weighsReasons ? data.maskBatch(slice) : nil
                if options.augment {
                    Augmentation.apply(to: &images, masks: &masks, random: &random)
                    options.batchAugmentation?(&images, labels, &random)
                }
                model.zeroGradients()
                model.computesDefectMap = masks != nil && mapsDefects
                model.computesClassMap = masks != nil && weighsReasons
                defer { (model.computesDefectMap, model.computesClassMap) = (false, false) }
                let (logits, _) = model.forward(images, training: true)
                var (loss, gradient) = softmaxCrossEntropy(logits: logits, labels: labels, classWeights: weights)
                var mapGradient: Tensor? = nil
                var classMapGradient: (gradient: Tensor, target: Int, other: Int)? = nil
                if let masks, model.computesDefectMap, let map = model.lastDefectMap {
                    let targets = DefectMapLoss.cellShares(of: masks.masks, height: map.shape[2], width: map.shape[3])
                    var (mapLoss, dMap) = DefectMapLoss.loss(logits: map, targets: targets, weights: masks.weights)
                    let lambda = options.maskLossWeight
                    for i in dMap.data.indices { dMap.data[i] *= lambda }
                    loss += lambda * mapLoss
                    mapGradient = dMap
                }
                if let masks, model.computesClassMap {
                    let target = options.rightReasonsClass, other = 1 - target
                    let classMaps = model.classMaps(target: target, other: other)
                    let shares = DefectMapLoss.cellShares(of: masks.masks, height: classMaps.shape[2], width: classMaps.shape[3])
                    var (reasonsLoss, dCam) = RightReasonsLoss.loss(classMaps: classMaps, shares: shares, weights: masks.weights)
                    let lambda = options.rightReasonsWeight
                    for i in dCam.data.indices { dCam.data[i] *= lambda }
                    loss += lambda * reasonsLoss
                    classMapGradient = (dCam, target, other)
                }
                model.backward(gradient, defectMapGradient: mapGradient, classMapGradient: classMapGradient)
                stepping.step()
                lossSum += loss * Float(labels.count)
                correct += zip(argmax(logits), labels).filter { $0 == $1 }.count
                seen += labels.count
                let state = TrainingProgress(epoch: epoch, batch: batch + 1, batchesPerEpoch: batchesPerEpoch,
                                             loss: lossSum / Float(seen), accuracy: Float(correct) / Float(seen))
                if !progress(state) {
                    report.cancelled = true
                    if let best { restore(best, into: model) }
                    return report
                }
            }
            report.epochsRun = epoch
            var entry: (loss: Float, accuracy: Float, validationLoss: Float?, validationAccuracy: Float?) =
                (lossSum / Float(seen), Float(correct) / Float(seen), nil, nil)
            if let validation {
                let (loss, accuracy) = evaluate(model, on: validation, classWeights: weights)
                entry.validationLoss = loss
                entry.validationAccuracy = accuracy
                if loss < bestLoss {
                    bestLoss = loss
                    best = snapshot(model)
                    report.bestEpoch = epoch
                    report.bestValidationLoss = loss
                }
            }
            report.history.append(entry)
            let state = TrainingProgress(epoch: epoch, batch: batchesPerEpoch, batchesPerEpoch: batchesPerEpoch,
                                         loss: entry.loss, accuracy: entry.accuracy,
                                         validationLoss: entry.validationLoss, validationAccuracy: entry.validationAccuracy)
            if !progress(state) {
                report.cancelled = true
                break
            }
            if validation != nil && epoch - report.bestEpoch >= options.patience {
                report.stoppedEarly = true
                break
            }
        }
        if let best { restore(best, into: model) }
        return report
    }

    /// Mean (weighted) loss and accuracy in inference mode, in batches of 32.
    public static func evaluate(_ model: ResNet, on data: LabelledImages, classWeights: [Float]? = nil) -> (loss: Float, accuracy: Float) {
        var lossSum: Float = 0, weightSum: Float = 0, correct = 0
        forEachInferenceBatch(model, data) { logits, labels in
            let (loss, _) = softmaxCrossEntropy(logits: logits, labels: labels, classWeights: classWeights)
            let batchWeight = labels.reduce(Float(0)) { $0 + (classWeights?[$1] ?? 1) }
            lossSum += loss * batchWeight
            weightSum += batchWeight
            correct += zip(argmax(logits), labels).filter { $0 == $1 }.count
        }
        return (lossSum / max(weightSum, 1e-12), Float(correct) / Float(max(data.count, 1)))
    }

    /// The predicted class of every image, in inference mode.
    public static func predictions(_ model: ResNet, on data: LabelledImages) -> [Int] {
        var predicted: [Int] = []
        forEachInferenceBatch(model, data) { logits, _ in predicted += argmax(logits) }
        return predicted
    }

    /// The predicted class (as `predictions`) and P(class 1) (softmax of the logits) of every
    /// image, from one inference pass.
    public static func classify(_ model: ResNet, on data: LabelledImages) -> (predictions: [Int], probabilitiesOfClassOne: [Float]) {
        var predicted: [Int] = [], probabilities: [Float] = []
        forEachInferenceBatch(model, data) { logits, _ in
            predicted += argmax(logits)
            let p = softmax(logits), classes = logits.shape[1]
            for row in 0..<logits.shape[0] { probabilities.append(p.data[row * classes + 1]) }
        }
        return (predicted, probabilities)
    }

    /// Runs `data` through the model in inference mode, 32 images at a time.
    static func forEachInferenceBatch(_ model: ResNet, _ data: LabelledImages, _ body: (_ logits: Tensor, _ labels: [Int]) -> Void) {
        var start = 0
        while start < data.count {
            let (images, labels) = data.batch(Array(start..<min(start + 32, data.count))[...])
            body(model.forward(images, training: false).logits, labels)
            start += 32
        }
    }

    static func classWeights(_ weighting: TrainingOptions.ClassWeighting, labels: [Int], classes: Int) -> [Float]? {
        switch weighting {
        case .none: return nil
        case .custom(let weights): return weights
        case .balanced:
            var counts = [Int](repeating: 0, count: classes)
            for label in labels { counts[label] += 1 }
            return counts.map { $0 > 0 ? Float(labels.count) / Float(classes * $0) : 0 }
        }
    }

    static func snapshot(_ model: ResNet) -> [[Float]] { model.namedParameters.map { $0.1.value } }

    static func restore(_ values: [[Float]], into model: ResNet) {
        for ((_, parameter), value) in zip(model.namedParameters, values) { parameter.value = value }
    }
}

/// Index of the largest value in each row.
public func argmax(_ rows: Tensor) -> [Int] {
    let width = rows.shape[1]
    return (0..<rows.shape[0]).map { r in
        var best = 0
        for c in 1..<width where rows.data[r * width + c] > rows.data[r * width + best] { best = c }
        return best
    }
}

/// Light augmentation that keeps a defect and its label: horizontal / vertical flips,
/// shifts of up to 1/16 of the side (edge pixels repeated), brightness ±0.1 and contrast
/// ×0.9–1.1 of the normalised values. A mask moves with its image's pixels (the same flips
/// and shift, no change of value), so it still covers the defect.
enum Augmentation {
    static func apply(to batch: inout Tensor, random: inout SplitMix64) {
        var masks: (masks: Tensor, weights: [Float])? = nil
        apply(to: &batch, masks: &masks, random: &random)
    }

    static func apply(to batch: inout Tensor, masks: inout (masks: Tensor, weights: [Float])?, random: inout SplitMix64) {
        let (n, c, h, w) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        let maxShift = max(h, w) / 16
        var scratch = [Float](repeating: 0, count: h * w)
        /// Plane `plane` of `tensor` moved as the image is, times `contrast` plus `brightness`.
        func move(_ tensor: inout Tensor, plane: Int, flipX: Bool, flipY: Bool, dx: Int, dy: Int, contrast: Float, brightness: Float) {
            let base = plane * h * w
            tensor.data.withUnsafeMutableBufferPointer { data in
                for y in 0..<h {
                    let sy = min(max((flipY ? h - 1 - y : y) - dy, 0), h - 1)
                    for x in 0..<w {
                        let sx = min(max((flipX ? w - 1 - x : x) - dx, 0), w - 1)
                        scratch[y * w + x] = data[base + sy * w + sx] * contrast + brightness
                    }
                }
                for i in 0..<(h * w) { data[base + i] = scratch[i] }
            }
        }
        for image in 0..<n {
            let flipX = random.chance(0.5), flipY = random.chance(0.5)
            let dx = random.integer(-maxShift, maxShift), dy = random.integer(-maxShift, maxShift)
            let brightness = random.uniform(-0.1, 0.1), contrast = random.uniform(0.9, 1.1)
            for channel in 0..<c {
                move(&batch, plane: image * c + channel, flipX: flipX, flipY: flipY, dx: dx, dy: dy, contrast: contrast, brightness: brightness)
            }
            if masks != nil {
                move(&masks!.masks, plane: image, flipX: flipX, flipY: flipY, dx: dx, dy: dy, contrast: 1, brightness: 0)
            }
        }
    }
}
