#if canImport(Glibc)
import Glibc
#endif
import SeededRandom

/// The networks the product trains, by the names checkpoints, settings and the command line
/// use: the paper's ResNet-18 and narrower ones (width 64/K for K = 2, 4, 8).
public enum Architecture: String, CaseIterable, Sendable {
    case resnet18w4 = "resnet18-w4"
    case resnet18w2 = "resnet18-w2"
    case resnet18w8 = "resnet18-w8"
    case resnet18

    /// The product's default: interactive on two CPU cores.
    public static let standard = Architecture.resnet18w4

    /// The input side it is made for: the paper's 224 for the full network, 128 for the
    /// narrow ones.
    public var defaultInputSize: Int { self == .resnet18 ? 224 : 128 }

    public func configuration(inputChannels: Int, inputSize: Int? = nil, classCount: Int = 2) -> ResNetConfiguration {
        ResNetConfiguration.named(rawValue, inputChannels: inputChannels, inputSize: inputSize ?? defaultInputSize, classCount: classCount)!
    }
}

/// What defines a ResNet of the family: topology, widths, input and classes.
public struct ResNetConfiguration: Equatable, Sendable {
    /// Name written into checkpoints, e.g. "resnet18-w4".
    public var architecture: String
    /// Channels of the four stages (ResNet-18: 64, 128, 256, 512).
    public var widths: [Int]
    /// Basic blocks per stage (ResNet-18: 2, 2, 2, 2).
    public var blocks: [Int]
    public var inputChannels: Int
    public var inputSize: Int
    public var classCount: Int
    /// Whether the network has a dense defect head (`ResNet.defectHead`): a map of where a
    /// defect is, beside the image-level output. Checkpoints say so in their metadata.
    public var hasDefectHead = false

    public init(architecture: String, widths: [Int], blocks: [Int], inputChannels: Int, inputSize: Int, classCount: Int) {
        self.architecture = architecture
        self.widths = widths
        self.blocks = blocks
        self.inputChannels = inputChannels
        self.inputSize = inputSize
        self.classCount = classCount
    }

    /// The product's default: ResNet-18 topology at a quarter of the width (16-32-64-128),
    /// 128 × 128 input — interactive on two CPU cores.
    public static func resnet18w4(inputChannels: Int = 3, inputSize: Int = 128, classCount: Int = 2) -> Self {
        Self(architecture: "resnet18-w4", widths: [16, 32, 64, 128], blocks: [2, 2, 2, 2],
             inputChannels: inputChannels, inputSize: inputSize, classCount: classCount)
    }

    /// The paper's network: full-width ResNet-18 at 224 × 224.
    public static func resnet18(inputChannels: Int = 3, inputSize: Int = 224, classCount: Int = 2) -> Self {
        Self(architecture: "resnet18", widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2],
             inputChannels: inputChannels, inputSize: inputSize, classCount: classCount)
    }

    /// Looks an architecture up by name ("resnet18-w4", "resnet18", or "resnet18-wK" for
    /// width 64/K).
    public static func named(_ name: String, inputChannels: Int, inputSize: Int, classCount: Int) -> Self? {
        if name == "resnet18" { return .resnet18(inputChannels: inputChannels, inputSize: inputSize, classCount: classCount) }
        guard name.hasPrefix("resnet18-w"), let divisor = Int(name.dropFirst("resnet18-w".count)),
              [1, 2, 4, 8].contains(divisor) else { return nil }
        return Self(architecture: name, widths: [64, 128, 256, 512].map { $0 / divisor }, blocks: [2, 2, 2, 2],
                    inputChannels: inputChannels, inputSize: inputSize, classCount: classCount)
    }

    /// The embedding's length: channels of the last stage.
    public var embeddingSize: Int { widths[widths.count - 1] }

    /// The stage (0-based) whose output the defect head reads: the third, at 1/16 of the
    /// input's resolution (8 × 8 cells at 128 px) — fine enough to say where on a part, deep
    /// enough to know what a defect is.
    public static let defectHeadStage = 2

    /// The defect head's map size for this input: the tapped stage's output, each stride-2
    /// layer giving ⌊(x − 1) / 2⌋ + 1 (conv1 7×7/2, the max pool 3×3/2, and the first block of
    /// every stage after the first).
    public var defectMapSize: (height: Int, width: Int) {
        var side = inputSize
        for _ in 0..<(2 + Self.defectHeadStage) { side = (side - 1) / 2 + 1 }
        return (side, side)
    }

    /// The same network with or without the defect head.
    public func withDefectHead(_ present: Bool) -> Self {
        var copy = self
        copy.hasDefectHead = present
        return copy
    }
}

/// The ResNet family (He et al.), torchvision's layout:
///     conv1 7×7/2 → bn1 → relu → maxpool 3×3/2 → layer1…layer4 (BasicBlocks; stages 2–4
///     start with stride 2) → global average pool (the embedding) → fc.
public final class ResNet: Network {
    public let configuration: ResNetConfiguration
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    let relu = ReLU()
    let pool = MaxPool2d(kernel: 3, stride: 2, padding: 1)
    public let stages: [[BasicBlock]]
    let average = GlobalAveragePool()
    public let fc: Linear
    /// The dense defect head, when the configuration has one: a 1×1 convolution with bias
    /// from the channels of stage `ResNetConfiguration.defectHeadStage` to one map of logits,
    /// z[n, y, x] = b + Σ_c w_c · f[n, c, y, x], one cell per 16 × 16 input pixels; σ(z) is the
    /// probability that the cell holds a defect.
    public let defectHead: Conv2d?
    /// Whether a forward also computes the defect map (kept in `lastDefectMap`; in training,
    /// for `backward(_:defectMapGradient:)`); off, a pass costs what it did without a head.
    public var computesDefectMap = false
    /// The defect-map logits [N, 1, h, w] of the last forward that computed one.
    public private(set) var lastDefectMap: Tensor?
    /// Whether a training forward keeps the last stage's features (`lastFinalFeatures`) for
    /// the class activation map (`classMaps`) and its loss (`backward(_:classMapGradient:)`).
    public var computesClassMap = false
    /// The last stage's features [N, C, h, w] (before the average pool) of the last training
    /// forward that kept them.
    public private(set) var lastFinalFeatures: Tensor?
    /// How forward and backward are computed; the parameters are the same either way.
    public var backend: Backend = .default {
        didSet { if backend != oldValue { plans = OneDNNPlans() } }
    }
    /// oneDNN plans for the shapes seen last, and whether the last training forward ran on one.
    var plans = OneDNNPlans()
    /// The backend that ran the last forward: `backend`, or OpenBLAS where oneDNN could not
    /// make a plan for the shape (a warning says why).
    public private(set) var lastForwardBackend: Backend?

    public init(_ configuration: ResNetConfiguration, seed: UInt64) {
        self.configuration = configuration
        var random = SplitMix64(seed: seed)
        let stem = configuration.widths[0]
        conv1 = Conv2d(inChannels: configuration.inputChannels, outChannels: stem, kernel: 7, stride: 2, padding: 3,
                       random: &random)
        bn1 = BatchNorm2d(channels: stem)
        var stages: [[BasicBlock]] = []
        var channels = stem
        for (index, width) in configuration.widths.enumerated() {
            var stage: [BasicBlock] = []
            for block in 0..<configuration.blocks[index] {
                let stride = (index > 0 && block == 0) ? 2 : 1
                stage.append(BasicBlock(inChannels: channels, outChannels: width, stride: stride, random: &random))
                channels = width
            }
            stages.append(stage)
        }
        self.stages = stages
        fc = Linear(inFeatures: channels, outFeatures: configuration.classCount, random: &random)
        defectHead = configuration.hasDefectHead
            ? Conv2d(inChannels: configuration.widths[ResNetConfiguration.defectHeadStage], outChannels: 1, kernel: 1, bias: true,
                     random: &random)
            : nil
    }

    /// The same network with a defect head added: every weight and running statistic copied,
    /// the head freshly initialised from `seed` (as `init` draws it) — for training a network
    /// that has none to say where a defect is. A network that has one is returned as it is.
    public func addingDefectHead(seed: UInt64) -> ResNet {
        guard defectHead == nil else { return self }
        let copy = ResNet(configuration.withDefectHead(true), seed: seed)
        let values = Dictionary(uniqueKeysWithValues: namedParameters.map { ($0.0, $0.1.value) })
        for (name, parameter) in copy.namedParameters { if let value = values[name] { parameter.value = value } }
        let tracked = Dictionary(uniqueKeysWithValues: layers(of: BatchNorm2d.self).map { ($0.0, $0.1.batchesTracked) })
        for (name, bn) in copy.layers(of: BatchNorm2d.self) { bn.batchesTracked = tracked[name] ?? 0 }
        copy.backend = backend
        return copy
    }

    public var isTraining = false
    public var architectureName: String { configuration.architecture }
    public var headPrefix: String { "fc." }
    /// torchvision's names: conv1, bn1, layer1.0 … layer4.1, fc (ReLU and pools hold nothing).
    public var children: [(name: String, layer: any Layer)] {
        var list: [(name: String, layer: any Layer)] = [("conv1", conv1), ("bn1", bn1)]
        for (s, stage) in stages.enumerated() {
            for (b, block) in stage.enumerated() { list.append(("layer\(s + 1).\(b)", block)) }
        }
        list += [("fc", fc)]
        if let defectHead { list.append(("defect_head", defectHead)) }
        return list + [("relu", relu), ("maxpool", pool), ("avgpool", average)]
    }

    /// Sets the mode, then runs the forward.
    public func forward(_ images: Tensor, training: Bool) -> (logits: Tensor, embedding: Tensor) {
        if training != isTraining { setTraining(training) }
        return forward(images)
    }

    /// Logits [N, classes] and embeddings [N, embeddingSize] of an NCHW batch, in the
    /// current mode (training: batch statistics, everything kept for `backward`). An
    /// inference pass may ask for bfloat16 (`InferencePrecision`); training is float32.
    public func forward(_ images: Tensor) -> (logits: Tensor, embedding: Tensor) { forward(images, precision: .float32) }

    /// The same, an inference pass in `precision` where the backend and CPU allow it.
    public func forward(_ images: Tensor, precision: InferencePrecision) -> (logits: Tensor, embedding: Tensor) {
        let training = isTraining
        precondition(images.shape.count == 4 && images.shape[1] == configuration.inputChannels,
                     "expected N × \(configuration.inputChannels) × H × W input")
        let precision = training ? .float32 : precision.effective(on: backend)
        let mapping = defectHead != nil && computesDefectMap
        lastDefectMap = nil
        lastFinalFeatures = nil
        if backend == .oneDNN, let (embedding, tapped) = oneDNNEmbeddings(images, training: training, precision: precision) {
            lastForwardBackend = .oneDNN
            if mapping, let tapped { lastDefectMap = defectMap(of: FeatureMap(nchw: tapped), training: training) }
            return (fc(embedding), embedding)
        }
        lastForwardBackend = .openBLAS
        plans.trainedOn = nil
        var x = FeatureMap(nchw: images)
        if training {
            x = pool(relu(bn1(conv1(x))))
        } else {
            x = pool(conv1.inferenceForward(x, batchNorm: bn1, relu: true))
        }
        for (s, stage) in stages.enumerated() {
            for block in stage { x = training ? block.forward(x) : block.inferenceForward(x) }
            if mapping, s == ResNetConfiguration.defectHeadStage { lastDefectMap = defectMap(of: x, training: training) }
        }
        if training && computesClassMap { lastFinalFeatures = x.nchw }
        let embedding = average.forward(x)
        return (fc(embedding), embedding)
    }

    /// The head's logits [N, 1, h, w] over the tapped stage's features (CNHW). With one
    /// output channel, CNHW and NCHW hold the values in the same order.
    private func defectMap(of features: FeatureMap, training: Bool) -> Tensor {
        let map = training ? defectHead!.forward(features) : defectHead!.inferenceForward(features, batchNorm: nil, relu: false)
        return Tensor(shape: [map.batch, 1, map.height, map.width], data: map.data)
    }

    /// Defect-map probabilities σ(z) [N, 1, h, w] of an NCHW batch, in inference mode; nil
    /// without a defect head.
    public func defectMaps(_ images: Tensor) -> Tensor? {
        guard defectHead != nil else { return nil }
        if isTraining { setTraining(false) }
        let was = computesDefectMap
        computesDefectMap = true
        defer { computesDefectMap = was }
        _ = forward(images, precision: .float32)
        guard var map = lastDefectMap else { return nil }
        for i in map.data.indices { map.data[i] = 1 / (1 + expf(-map.data[i])) }
        return map
    }

    /// The features after each stage in `stages` (0-based: 0 is layer1) of an NCHW batch, in
    /// inference mode, computed on the reference path: [C, N, h, w] each (`FeatureMap`'s CNHW),
    /// one cell per 2^(stage+2) input pixels. What nearest-neighbour distances compare cell by
    /// cell.
    public func features(_ images: Tensor, afterStages wanted: [Int]) -> [FeatureMap] {
        precondition(wanted.allSatisfy(stages.indices.contains), "no such stage in \(wanted)")
        if isTraining { setTraining(false) }
        var x = pool(conv1.inferenceForward(FeatureMap(nchw: images), batchNorm: bn1, relu: true))
        var kept: [Int: FeatureMap] = [:]
        for s in 0...(wanted.max() ?? -1) {
            for block in stages[s] { x = block.inferenceForward(x) }
            if wanted.contains(s) { kept[s] = x }
        }
        return wanted.map { kept[$0]! }
    }

    /// Inference: class probabilities and embeddings (in float32 unless told).
    public func callAsFunction(_ images: Tensor,
                               precision: InferencePrecision = .float32) -> (probabilities: Tensor, embedding: Tensor) {
        if isTraining { setTraining(false) }
        let (logits, embedding) = forward(images, precision: precision)
        return (softmax(logits), embedding)
    }

    /// Backpropagates ∂loss/∂logits through the network, accumulating every gradient.
    public func backward(_ dLogits: Tensor) {
        backward(embeddingGradient: fc.backward(dLogits))
    }

    /// The class activation maps [N, 1, h, w] of the last training forward that kept its
    /// features (`computesClassMap`): how much each cell of the last stage adds to the gap
    /// between the logits of `target` and `other`,
    ///
    ///     cam(n, y, x) = Σ_c (W[target, c] − W[other, c]) · f(n, c, y, x)
    ///
    /// whose mean over the cells, plus the biases' gap, is that logit gap (the pool is a mean).
    public func classMaps(target: Int, other: Int) -> Tensor {
        guard let features = lastFinalFeatures else { preconditionFailure("a class map needs a training forward with computesClassMap") }
        let (n, c, cells) = (features.shape[0], features.shape[1], features.shape[2] * features.shape[3])
        let w = fc.weight.value, width = fc.inFeatures
        var map = [Float](repeating: 0, count: n * cells)
        for image in 0..<n {
            for channel in 0..<c {
                let gap = w[target * width + channel] - w[other * width + channel]
                let plane = (image * c + channel) * cells
                for cell in 0..<cells { map[image * cells + cell] += gap * features.data[plane + cell] }
            }
        }
        return Tensor(shape: [n, 1, features.shape[2], features.shape[3]], data: map)
    }

    /// Backpropagates ∂loss/∂logits, ∂loss/∂(defect-map logits) when given, and ∂loss/∂cam of
    /// `classMaps(target:other:)` [N, 1, h, w] when given. The class map's share:
    ///
    ///     ∂L/∂W[target, c] += Σ_{n,y,x} g(n, y, x) · f(n, c, y, x),   ∂L/∂W[other, c] −= the same
    ///     ∂L/∂f(n, c, y, x) += (W[target, c] − W[other, c]) · g(n, y, x)
    ///
    /// the second joining the pool's gradient at the last stage.
    public func backward(_ dLogits: Tensor, defectMapGradient: Tensor? = nil,
                         classMapGradient: (gradient: Tensor, target: Int, other: Int)? = nil) {
        var finalGradient: Tensor? = nil
        if let classMapGradient {
            guard let features = lastFinalFeatures else { preconditionFailure("a class-map gradient needs a forward that kept the features") }
            let g = classMapGradient.gradient, (target, other) = (classMapGradient.target, classMapGradient.other)
            let (n, c, cells) = (features.shape[0], features.shape[1], features.shape[2] * features.shape[3])
            precondition(g.count == n * cells, "one class-map gradient per cell of the last forward")
            let width = fc.inFeatures
            var dFeatures = Tensor(zeros: features.shape)
            for channel in 0..<c {
                let gap = fc.weight.value[target * width + channel] - fc.weight.value[other * width + channel]
                var dGap: Float = 0
                for image in 0..<n {
                    let plane = (image * c + channel) * cells
                    for cell in 0..<cells {
                        let gradient = g.data[image * cells + cell]
                        dGap += gradient * features.data[plane + cell]
                        dFeatures.data[plane + cell] = gap * gradient
                    }
                }
                fc.weight.gradient[target * width + channel] += dGap
                fc.weight.gradient[other * width + channel] -= dGap
            }
            finalGradient = dFeatures
        }
        backward(embeddingGradient: fc.backward(dLogits), defectMapGradient: defectMapGradient, finalGradient: finalGradient)
    }


    /// Backpropagates ∂loss/∂embedding of the last training forward through the backbone
    /// (not `fc`), accumulating its gradients: for losses on the embedding itself, such as
    /// the contrastive loss of pretraining. With `defectMapGradient`, through the defect head
    /// too.
    /// `finalGradient`: ∂loss/∂(last stage's features) [N, C, h, w] beside the pool's.
    public func backward(embeddingGradient: Tensor, defectMapGradient: Tensor? = nil, finalGradient: Tensor? = nil) {
        var tapped: FeatureMap? = nil
        if let defectMapGradient, let defectHead {
            precondition(lastDefectMap?.shape == defectMapGradient.shape, "a defect-map gradient needs a forward that computed the map")
            let shape = defectMapGradient.shape
            tapped = defectHead.backward(FeatureMap(channels: 1, batch: shape[0], height: shape[2], width: shape[3],
                                                    data: defectMapGradient.data))
        }
        if let plan = plans.trainedOn {
            plans.trainedOn = nil
            plan.backward(embeddingGradient, tapGradient: tapped?.nchw, finalGradient: finalGradient)
            return
        }
        var d = average.backward(embeddingGradient)
        if let finalGradient {
            let extra = FeatureMap(nchw: finalGradient)
            precondition(extra.data.count == d.data.count, "the last stage's gradient has the wrong shape")
            for i in d.data.indices { d.data[i] += extra.data[i] }
        }
        for (s, stage) in stages.enumerated().reversed() {
            if s == ResNetConfiguration.defectHeadStage, let tapped {
                d.data.withUnsafeMutableBufferPointer { g in
                    tapped.data.withUnsafeBufferPointer { t in for i in g.indices { g[i] += t[i] } }
                }
            }
            for block in stage.reversed() { d = block.backward(d) }
        }
        d = pool.backward(d)
        d = relu.backward(d)
        d = bn1.backward(d)
        _ = conv1.backward(d)
    }

    /// The sum of the parameters' change counters: it moves whenever any weight or
    /// statistic changed, so folded inference weights are rebuilt exactly then.
    /// Read before every inference pass, so over a list made once (the layers are fixed at
    /// init) rather than by walking the tree and building its names each time.
    var parameterVersion: UInt64 { parameterList.reduce(0) { $0 &+ $1.version } }
    private lazy var parameterList: [Parameter] = namedParameters.map(\.1)

    /// The embeddings on oneDNN, with the tapped stage's features [N, C, h, w] when the
    /// network has a defect head, or nil (with one warning per process) when no plan could be
    /// made for this shape; the caller then uses the reference path.
    private func oneDNNEmbeddings(_ images: Tensor, training: Bool, precision: InferencePrecision) -> (Tensor, Tensor?)? {
        let shape = OneDNNPlans.Shape(batch: images.shape[0], height: images.shape[2], width: images.shape[3],
                                      precision: precision)
        if let threads = CoreShare.threadsForCurrentThread(), threads != DNNL.threadCount { DNNL.threadCount = threads }
        do {
            if training {
                let plan = try plans.training(for: shape, of: self)
                plans.trainedOn = plan
                let embedding = plan.forward(images)
                if computesClassMap { lastFinalFeatures = plan.finalFeatures() }
                return (embedding, computesDefectMap ? plan.tappedFeatures() : nil)
            }
            plans.trainedOn = nil
            let plan = try plans.inference(for: shape, of: self)
            return (plan.embeddings(images, modelVersion: parameterVersion), computesDefectMap ? plan.tappedFeatures() : nil)
        } catch {
            OneDNNPlans.warnOnce("\(error); using the OpenBLAS backend for this shape")
            plans.trainedOn = nil
            return nil
        }
    }

    /// oneDNN's implementation per primitive of the inference or training plan for `batch`
    /// images (for benchmark reports), or nil on the OpenBLAS backend.
    public func oneDNNImplementations(batch: Int, training: Bool,
                                      precision: InferencePrecision = .float32) -> [(layer: String, implementation: String)]? {
        guard backend == .oneDNN else { return nil }
        let shape = OneDNNPlans.Shape(batch: batch, height: configuration.inputSize, width: configuration.inputSize,
                                      precision: training ? .float32 : precision.effective(on: backend))
        if training { return try? plans.training(for: shape, of: self).context.implementations }
        return try? plans.inference(for: shape, of: self).context.implementations
    }

    /// Multiply-adds of one forward pass for one image, times two (FLOPs), convs and fc.
    public var forwardFlopsPerImage: Double {
        var flops = 0.0
        var size = configuration.inputSize
        func conv(_ c: Conv2d) {
            let out = (size + 2 * c.padding - c.kernel) / c.stride + 1
            flops += 2.0 * Double(c.outChannels * c.inChannels * c.kernel * c.kernel * out * out)
        }
        conv(conv1)
        size = (size + 6 - 7) / 2 + 1
        size = (size + 2 - 3) / 2 + 1
        for stage in stages {
            for block in stage {
                let input = size
                conv(block.conv1)
                size = (size + 2 - 3) / block.conv1.stride + 1
                conv(block.conv2)
                if let downsample = block.downsample {
                    let keep = size
                    size = input
                    conv(downsample.conv)
                    size = keep
                }
            }
        }
        return flops + 2.0 * Double(fc.inFeatures * fc.outFeatures)
    }
}
