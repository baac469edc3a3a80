import SeededRandom

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
        return list + [("fc", fc), ("relu", relu), ("maxpool", pool), ("avgpool", average)]
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
        if backend == .oneDNN, let embedding = oneDNNEmbeddings(images, training: training, precision: precision) {
            lastForwardBackend = .oneDNN
            return (fc(embedding), embedding)
        }
        lastForwardBackend = .openBLAS
        plans.trainedOn = nil
        var x = FeatureMap(nchw: images)
        if training {
            x = pool(relu(bn1(conv1(x))))
            for stage in stages {
                for block in stage { x = block.forward(x) }
            }
        } else {
            x = pool(conv1.inferenceForward(x, batchNorm: bn1, relu: true))
            for stage in stages {
                for block in stage { x = block.inferenceForward(x) }
            }
        }
        let embedding = average.forward(x)
        return (fc(embedding), embedding)
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

    /// Backpropagates ∂loss/∂embedding of the last training forward through the backbone
    /// (not `fc`), accumulating its gradients: for losses on the embedding itself, such as
    /// the contrastive loss of pretraining.
    public func backward(embeddingGradient: Tensor) {
        if let plan = plans.trainedOn {
            plans.trainedOn = nil
            plan.backward(embeddingGradient)
            return
        }
        var d = average.backward(embeddingGradient)
        for stage in stages.reversed() {
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

    /// The embeddings on oneDNN, or nil (with one warning per process) when no plan could be
    /// made for this shape; the caller then uses the reference path.
    private func oneDNNEmbeddings(_ images: Tensor, training: Bool, precision: InferencePrecision) -> Tensor? {
        let shape = OneDNNPlans.Shape(batch: images.shape[0], height: images.shape[2], width: images.shape[3],
                                      precision: precision)
        if let threads = CoreShare.threadsForCurrentThread(), threads != DNNL.threadCount { DNNL.threadCount = threads }
        do {
            if training {
                let plan = try plans.training(for: shape, of: self)
                plans.trainedOn = plan
                return plan.forward(images)
            }
            plans.trainedOn = nil
            return try plans.inference(for: shape, of: self).embeddings(images, modelVersion: parameterVersion)
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
