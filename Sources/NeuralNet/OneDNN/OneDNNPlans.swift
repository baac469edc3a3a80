import CDNNL

// The ResNet's passes as sequences of oneDNN primitives, built once per input shape.
//
// Activations stay in the layouts oneDNN's convolutions choose (`format_tag_any`: on
// AVX-512 typically channel blocks of 16, nChw16c); batch norm, ReLU, pooling and the
// residual add take whatever layout their input has. A reorder is inserted only where two
// primitives disagree, at the network's input, and where plain data leaves (embeddings,
// weight gradients). Each plan is a list of steps (closures over its memories), so running
// it is a loop without decisions.

/// Geometry of a convolution or pooling window over an NCHW input, in the terms oneDNN's
/// operation descriptors take (spatial axes only, as Int64).
private struct Window {
    let height: Int, width: Int
    let kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int

    /// A `kernel` × (`kernelWidth` ?? `kernel`) window over input dimensions `dims` (N, C, H, W).
    init(over dims: [Int], kernel: Int, kernelWidth: Int? = nil, stride: Int, padding: Int) {
        (height, width) = (dims[2], dims[3])
        (kernelHeight, self.kernelWidth) = (kernel, kernelWidth ?? kernel)
        (self.stride, self.padding) = (stride, padding)
    }

    var outputHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    var outputWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    var strides: [Int64] { [Int64(stride), Int64(stride)] }
    var kernels: [Int64] { [Int64(kernelHeight), Int64(kernelWidth)] }
    var left: [Int64] { [Int64(padding), Int64(padding)] }
    /// oneDNN wants the right padding that makes (input − kernel + left + right) / stride + 1
    /// equal the output size (PyTorch's floor rule can leave it smaller than the left).
    var right: [Int64] {
        [Int64((outputHeight - 1) * stride + kernelHeight - height - padding),
         Int64((outputWidth - 1) * stride + kernelWidth - width - padding)]
    }

    /// The output's dimensions for `channels` channels, layout left to the primitive.
    func output(channels: Int, batch: Int, _ dataType: dnnl_data_type_t = dnnl_f32) throws(DNNLError) -> MemoryDescriptor {
        try MemoryDescriptor([batch, channels, outputHeight, outputWidth], dnnl_format_tag_any, dataType)
    }
}

private func any4(_ n: Int, _ c: Int, _ h: Int, _ w: Int,
                  _ dataType: dnnl_data_type_t = dnnl_f32) throws(DNNLError) -> MemoryDescriptor {
    try MemoryDescriptor([n, c, h, w], dnnl_format_tag_any, dataType)
}

private func vector(_ count: Int) throws(DNNLError) -> MemoryDescriptor { try MemoryDescriptor([count], dnnl_a) }

/// What a plan shares between its steps: the stream, one scratchpad for every primitive
/// (they run one after another), and the implementations chosen, for reports.
final class PlanContext {
    let stream: DNNLStream
    private(set) var scratchpadBytes = 0
    private(set) var scratchpad: Memory?
    private(set) var implementations: [(layer: String, implementation: String)] = []

    init() throws(DNNLError) { stream = try DNNLStream() }

    /// Notes a primitive's scratchpad need and implementation.
    func adopt(_ primitive: Primitive, as layer: String) {
        scratchpadBytes = max(scratchpadBytes, primitive.scratchpadBytes)
        implementations.append((layer, primitive.implementation))
    }

    func allocateScratchpad() throws(DNNLError) {
        scratchpad = try Memory(MemoryDescriptor([max(scratchpadBytes / 4, 1)], dnnl_a))
    }

    func run(_ primitive: Primitive, _ arguments: [(Int32, Memory)]) {
        primitive.execute(stream, arguments, scratchpad: scratchpad)
    }

    /// A reorder step from `source` into a new memory of layout `target`; or `source` itself
    /// when the layouts already agree.
    func conform(_ source: Memory, to target: MemoryDescriptor, steps: inout [() -> Void]) throws(DNNLError) -> Memory {
        if source.descriptor == target { return source }
        let reorder = try Primitive(reorderFrom: source.descriptor, to: target)
        let result = try Memory(target)
        steps.append { [stream] in reorder.execute(stream, [(DNNL_ARG_FROM, source), (DNNL_ARG_TO, result)]) }
        return result
    }
}

/// A forward convolution as oneDNN describes it, for a plan of either kind: the window over
/// the input, and source, weights and output left to the primitive's choice of layout
/// (`format_tag_any`). The backward descriptions of the training plan start from the same
/// window and weights.
private struct ConvolutionDescription {
    let window: Window
    let anyWeights: dnnl_memory_desc_t
    let operation: dnnl_convolution_desc_t

    /// `conv` over an input of dimensions `dims`; with a bias (batch norm folded into it) or not.
    init(_ conv: Conv2d, over dims: [Int], _ propagation: dnnl_prop_kind_t, withBias: Bool,
         _ dataType: dnnl_data_type_t = dnnl_f32, name: String) throws(DNNLError) {
        window = Window(over: dims, kernel: conv.kernel, stride: conv.stride, padding: conv.padding)
        var source = try any4(dims[0], conv.inChannels, dims[2], dims[3], dataType).raw
        anyWeights = try any4(conv.outChannels, conv.inChannels, conv.kernel, conv.kernel, dataType).raw
        var weights = anyWeights
        var bias = try vector(conv.outChannels).raw
        var target = try window.output(channels: conv.outChannels, batch: dims[0], dataType).raw
        var operation = dnnl_convolution_desc_t()
        let (strides, left, right) = (window.strides, window.left, window.right)
        let status = withBias
            ? dnnl_convolution_forward_desc_init(&operation, propagation, dnnl_convolution_direct, &source, &weights, &bias,
                                                 &target, strides, left, right)
            : dnnl_convolution_forward_desc_init(&operation, propagation, dnnl_convolution_direct, &source, &weights, nil,
                                                 &target, strides, left, right)
        try dnnlCheck(status, "describing convolution \(name)")
        self.operation = operation
    }
}

/// A forward pooling window (max, or average over what is not padding) over `x`'s layout.
private struct PoolingDescription {
    let window: Window
    let algorithm: dnnl_alg_kind_t
    let operation: dnnl_pooling_desc_t

    init(over x: MemoryDescriptor, kernel: Int, kernelWidth: Int?, stride: Int, padding: Int, max: Bool,
         _ propagation: dnnl_prop_kind_t, name: String) throws(DNNLError) {
        let dims = x.dims
        window = Window(over: dims, kernel: kernel, kernelWidth: kernelWidth, stride: stride, padding: padding)
        algorithm = max ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding
        var source = x.raw
        var target = try window.output(channels: dims[1], batch: dims[0], x.dataType).raw
        var operation = dnnl_pooling_desc_t()
        try dnnlCheck(dnnl_pooling_forward_desc_init(&operation, propagation, algorithm, &source, &target, window.strides,
                                                     window.kernels, window.left, window.right),
                      "describing \(name)")
        self.operation = operation
    }
}

/// What a plan makes of each part of the network. The network is walked in one place
/// (`ResNet.build(_:)`), so the two plans cannot disagree on its structure; each says what a
/// part is in its own terms — folded convolutions with fused sums for inference; convolution,
/// batch norm, residual sum and their backward for training.
private protocol PlanBuilder: AnyObject {
    associatedtype Value
    /// conv1, bn1 and ReLU, then the 3 × 3 max pool of stride 2, on the plan's input.
    func stem(_ conv: Conv2d, _ bn: BatchNorm2d) throws(DNNLError) -> Value
    /// One residual block; `name` is its torchvision prefix ("layer2.0").
    func block(_ block: BasicBlock, _ x: Value, name: String) throws(DNNLError) -> Value
    /// The defect head's input: the output of stage `ResNetConfiguration.defectHeadStage`.
    func tapDefectHeadInput(_ x: Value) throws(DNNLError)
    /// The global average pool and the plain [N, C] embedding after it.
    func embedding(_ x: Value) throws(DNNLError)
}

extension ResNet {
    /// Walks the network in order for `builder`: the stem, every block of every stage, the
    /// defect head's tap when there is a head, the embedding.
    fileprivate func build<Builder: PlanBuilder>(_ builder: Builder) throws(DNNLError) {
        var x = try builder.stem(conv1, bn1)
        for (s, stage) in stages.enumerated() {
            for (b, block) in stage.enumerated() { x = try builder.block(block, x, name: "layer\(s + 1).\(b)") }
            if defectHead != nil, s == ResNetConfiguration.defectHeadStage { try builder.tapDefectHeadInput(x) }
        }
        try builder.embedding(x)
    }
}

/// Plain-layout copies of a layer's parameters moved in and out of oneDNN memories.
private func copy(_ values: [Float], into memory: Memory) {
    values.withUnsafeBufferPointer { memory.floats.update(from: $0.baseAddress!, count: $0.count) }
}

private func add(_ memory: Memory, into gradient: inout [Float]) {
    let source = memory.floats
    gradient.withUnsafeMutableBufferPointer { g in for i in g.indices { g[i] += source[i] } }
}

// MARK: - Inference

/// Inference for one batch shape. Batch norm is folded into the convolution weights and bias
/// (refolded whenever the model's parameters changed); ReLU and the residual sum run as
/// post-ops, the second convolution of a block writing onto its shortcut in place.
/// In bfloat16, the activations and weights are bf16 (the fold computes in float32 and the
/// weight reorder rounds), the biases f32, and the input and embedding are converted by the
/// reorders that already sit at the two ends.
final class OneDNNInferencePlan {
    let context: PlanContext
    private let input: Memory            // plain NCHW, bound to the caller's images per call
    private let embedding: Memory        // plain [N, C]
    /// The defect head's input, the tapped stage's output in plain NCHW float32 (a network
    /// with a defect head only).
    private let tapped: Memory?
    private let steps: [() -> Void]
    private let folds: [() -> Void]
    private var foldedVersion: UInt64 = .max
    let batch: Int
    let precision: InferencePrecision

    init(_ model: ResNet, batch: Int, height: Int, width: Int, precision: InferencePrecision) throws(DNNLError) {
        let context = try PlanContext()
        self.context = context
        self.batch = batch
        self.precision = precision
        let input = try Memory(unbound: MemoryDescriptor([batch, model.configuration.inputChannels, height, width],
                                                         dnnl_nchw))
        self.input = input
        let builder = Builder(context: context, input: input, dataType: precision == .bfloat16 ? dnnl_bf16 : dnnl_f32)
        try model.build(builder)
        tapped = builder.tapped
        embedding = builder.output!
        steps = builder.steps
        folds = builder.folds
        try context.allocateScratchpad()
    }

    /// The inference plan's parts: each convolution with its batch norm folded in, ReLU and
    /// the residual sum as post-ops.
    private final class Builder: PlanBuilder {
        let context: PlanContext
        let input: Memory
        let dataType: dnnl_data_type_t
        var steps: [() -> Void] = []
        var folds: [() -> Void] = []
        var tapped: Memory?
        var output: Memory?

        init(context: PlanContext, input: Memory, dataType: dnnl_data_type_t) {
            (self.context, self.input, self.dataType) = (context, input, dataType)
        }

        // The caller's images are read in place (the reorder into conv1's layout, or conv1
        // itself); the steps all run while `embeddings` holds the buffer.
        func stem(_ conv: Conv2d, _ bn: BatchNorm2d) throws(DNNLError) -> Memory {
            let x = try convolution(conv, bn, input, relu: true, name: "conv1")
            return try pooling(x, kernel: 3, stride: 2, padding: 1, max: true, name: "maxpool")
        }

        func block(_ block: BasicBlock, _ x: Memory, name: String) throws(DNNLError) -> Memory {
            let hidden = try convolution(block.conv1, block.bn1, x, relu: true, name: "\(name).conv1")
            var shortcut = x
            if let downsample = block.downsample {
                shortcut = try convolution(downsample.conv, downsample.bn, x, relu: false, name: "\(name).downsample")
            }
            return try convolution(block.conv2, block.bn2, hidden, relu: true, onto: shortcut, name: "\(name).conv2")
        }

        func tapDefectHeadInput(_ x: Memory) throws(DNNLError) {
            // Copied out now: the next stage's in-place sums never write this memory, but
            // the copy keeps that an implementation detail.
            var out = try context.conform(x, to: MemoryDescriptor(x.descriptor.dims, dnnl_nchw), steps: &steps)
            if out === x {
                let copy = try Memory(x.descriptor), source = x
                steps.append { copy.floats.update(from: source.floats, count: copy.floatCount) }
                out = copy
            }
            tapped = out
        }

        func embedding(_ x: Memory) throws(DNNLError) {
            let dims = x.descriptor.dims
            let pooled = try pooling(x, kernel: dims[2], kernelWidth: dims[3], stride: 1, padding: 0, max: false,
                                     name: "avgpool")
            let embedding = try Memory(MemoryDescriptor([dims[0], dims[1], 1, 1], dnnl_nchw))
            if pooled.descriptor == embedding.descriptor {
                steps.append { embedding.floats.update(from: pooled.floats, count: embedding.floatCount) }
            } else {
                let reorder = try Primitive(reorderFrom: pooled.descriptor, to: embedding.descriptor)
                let context = context
                steps.append { reorder.execute(context.stream, [(DNNL_ARG_FROM, pooled), (DNNL_ARG_TO, embedding)]) }
            }
            output = embedding
        }

        /// One convolution with folded batch norm; `onto` is the shortcut the output is summed
        /// onto (the output then lives in the shortcut's memory).
        private func convolution(_ conv: Conv2d, _ bn: BatchNorm2d, _ x: Memory, relu: Bool, onto shortcut: Memory? = nil,
                                 name: String) throws(DNNLError) -> Memory {
            let operation = try ConvolutionDescription(conv, over: x.descriptor.dims, dnnl_forward_inference, withBias: true,
                                                       dataType, name: name).operation
            var postOps = PostOps()
            if shortcut != nil { postOps.steps.append(.sum) }
            if relu { postOps.steps.append(.relu) }
            let primitive = try Primitive(operation, postOps: postOps, what: "convolution \(name)")
            context.adopt(primitive, as: name)
            let src = try context.conform(x, to: primitive.memory(dnnl_query_src_md), steps: &steps)
            let weightMemory = try Memory(primitive.memory(dnnl_query_weights_md))
            let biasMemory = try Memory(primitive.memory(dnnl_query_weights_md, 1))
            let dst: Memory
            if let shortcut, shortcut.descriptor == primitive.memory(dnnl_query_dst_md) {
                dst = shortcut
            } else if let shortcut {
                // The chosen layout differs from the shortcut's: sum onto a reordered copy.
                dst = try context.conform(shortcut, to: primitive.memory(dnnl_query_dst_md), steps: &steps)
            } else {
                dst = try Memory(primitive.memory(dnnl_query_dst_md))
            }
            let context = context
            steps.append {
                context.run(primitive, [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, weightMemory),
                                        (DNNL_ARG_BIAS, biasMemory), (DNNL_ARG_DST, dst)])
            }
            // Folding: W'[o] = W[o] · γ/√(σ²+ε), b' = β − μ · γ/√(σ²+ε), reordered once per
            // model version into the layout the primitive chose.
            let plain = try Memory(MemoryDescriptor([conv.outChannels, conv.inChannels, conv.kernel, conv.kernel], dnnl_oihw))
            let reorder = try Primitive(reorderFrom: plain.descriptor, to: weightMemory.descriptor)
            folds.append {
                let (scale, shift) = bn.inferenceScaleShift()
                let perOutput = conv.inChannels * conv.kernel * conv.kernel
                let target = plain.floats
                conv.weight.value.withUnsafeBufferPointer { w in
                    for o in 0..<conv.outChannels {
                        let a = scale[o]
                        for i in (o * perOutput)..<((o + 1) * perOutput) { target[i] = w[i] * a }
                    }
                }
                let b = biasMemory.floats
                for o in 0..<conv.outChannels { b[o] = shift[o] + (conv.bias?.value[o] ?? 0) * scale[o] }
                reorder.execute(context.stream, [(DNNL_ARG_FROM, plain), (DNNL_ARG_TO, weightMemory)])
            }
            return dst
        }

        /// Forward pooling for inference (max, or average over the whole plane).
        private func pooling(_ x: Memory, kernel: Int, kernelWidth: Int? = nil, stride: Int, padding: Int, max: Bool,
                             name: String) throws(DNNLError) -> Memory {
            let description = try PoolingDescription(over: x.descriptor, kernel: kernel, kernelWidth: kernelWidth,
                                                     stride: stride, padding: padding, max: max, dnnl_forward_inference,
                                                     name: name)
            let primitive = try Primitive(description.operation, what: name)
            context.adopt(primitive, as: name)
            let dst = try Memory(primitive.memory(dnnl_query_dst_md))
            let context = context
            steps.append { context.run(primitive, [(DNNL_ARG_SRC, x), (DNNL_ARG_DST, dst)]) }
            return dst
        }
    }

    /// Embeddings [N, C] of an NCHW batch; refolds batch norm first if the weights changed.
    func embeddings(_ images: Tensor, modelVersion: UInt64) -> Tensor {
        if modelVersion != foldedVersion {
            for fold in folds { fold() }
            foldedVersion = modelVersion
        }
        images.data.withUnsafeBufferPointer { pixels in
            input.bind(pixels.baseAddress!)
            for step in steps { step() }
        }
        let count = embedding.floatCount
        return Tensor(shape: [batch, count / batch], data: Array(UnsafeBufferPointer(start: embedding.floats, count: count)))
    }

    /// The defect head's input features [N, C, h, w] of the last `embeddings` call; nil
    /// without a defect head.
    func tappedFeatures() -> Tensor? { tapped.map(Tensor.init(plain:)) }
}

extension Tensor {
    /// A copy of a plain (NCHW or [N, C]) float32 memory.
    fileprivate init(plain memory: Memory) {
        let count = memory.floatCount
        self.init(shape: memory.descriptor.dims, data: Array(UnsafeBufferPointer(start: memory.floats, count: count)))
    }
}

// MARK: - Training

/// A value of the training graph and the memory its gradient is written into (same layout).
/// The gradient memory may be replaced by another node's when the two are equal by
/// construction (a projection shortcut's gradient is the residual sum's).
private final class Node {
    let value: Memory
    var gradient: Memory

    init(_ value: Memory) throws(DNNLError) {
        self.value = value
        gradient = try Memory(value.descriptor)
    }
}

/// Where a convolution's input gradient goes.
private enum InputGradient {
    /// Not needed (the network's input).
    case none
    /// Written into the input node's gradient.
    case write
    /// Into a memory of its own, in the input's layout, for the caller to add.
    case separate
}

/// One training forward and backward for one batch shape, batch norm on batch statistics.
/// Weights are reordered into the convolutions' layouts at every forward (they change at
/// every step); weight gradients come back to the plain torchvision layout and are added
/// to `Parameter.gradient`, as the reference layers do.
final class OneDNNTrainingPlan {
    let context: PlanContext
    private let input: Memory            // plain NCHW, bound to the caller's images per call
    private let embedding: Memory        // plain [N, C, 1, 1]
    private let embeddingGradient: Memory
    /// The defect head's input (the tapped stage's output) and its gradient from the head,
    /// plain NCHW; a network with a defect head only.
    private let tapped: Memory?
    private let tappedGradient: Memory?
    /// Whether the backward under way adds `tappedGradient` (a step without a map loss does not).
    private let addsTappedGradient = Toggle()
    /// The last stage's output (the average pool's input) and a gradient added to the pool's,
    /// plain NCHW: for the class activation map and its loss.
    private let finalOutput: Memory
    private let finalGradient: Memory
    /// Whether the backward under way adds `finalGradient`.
    private let addsFinalGradient = Toggle()

    /// A flag the plan's steps read at run time (the steps are closures made once).
    private final class Toggle { var isOn = false }
    private let forwardSteps: [() -> Void]
    private let backwardSteps: [() -> Void]
    let batch: Int

    init(_ model: ResNet, batch: Int, height: Int, width: Int) throws(DNNLError) {
        let context = try PlanContext()
        self.context = context
        self.batch = batch
        let inputMemory = try Memory(unbound: MemoryDescriptor([batch, model.configuration.inputChannels, height, width],
                                                               dnnl_nchw))
        input = inputMemory
        let builder = Builder(context: context, input: inputMemory, addsTappedGradient: addsTappedGradient,
                              addsFinalGradient: addsFinalGradient)
        try model.build(builder)
        (embedding, embeddingGradient) = (builder.embeddingMemory!, builder.embeddingGradientMemory!)
        (finalOutput, finalGradient) = (builder.finalOutput!, builder.finalGradient!)
        (tapped, tappedGradient) = (builder.tapped, builder.tappedGradient)
        forwardSteps = builder.forward
        backwardSteps = builder.backward.reversed().flatMap { $0 }
        try context.allocateScratchpad()
    }

    /// The training plan's parts: convolution, batch norm (ReLU fused), pooling and the
    /// residual sum, each with its backward. Backward steps are kept in groups in forward
    /// order and run last to first.
    private final class Builder: PlanBuilder {
        let context: PlanContext
        let input: Memory
        let addsTappedGradient: Toggle
        let addsFinalGradient: Toggle
        var forward: [() -> Void] = []
        var backward: [[() -> Void]] = []
        var tapped: Memory?
        var tappedGradient: Memory?
        var finalOutput: Memory?
        var finalGradient: Memory?
        var embeddingMemory: Memory?
        var embeddingGradientMemory: Memory?

        init(context: PlanContext, input: Memory, addsTappedGradient: Toggle, addsFinalGradient: Toggle) {
            (self.context, self.input, self.addsTappedGradient, self.addsFinalGradient) = (context, input, addsTappedGradient, addsFinalGradient)
        }

        // A copy of the images (kept for conv1's weight gradient), conv1, bn1 + ReLU, max pool.
        func stem(_ conv: Conv2d, _ bn: BatchNorm2d) throws(DNNLError) -> Node {
            let images = try Node(Memory(input.descriptor))
            let input = input
            forward.append { images.value.floats.update(from: input.floats, count: images.value.floatCount) }
            var x = try convolution(conv, images, name: "conv1", inputGradient: .none).output
            x = try batchNorm(bn, x, relu: true, name: "bn1")
            return try pooling(x, kernel: 3, stride: 2, padding: 1, max: true, name: "maxpool")
        }

        func block(_ block: BasicBlock, _ blockInput: Node, name: String) throws(DNNLError) -> Node {
            // The block input has two consumers: conv1 writes its gradient, and the
            // shortcut's share is added after (this slot runs after conv1's backward).
            let slot = backward.count
            backward.append([])
            var main = try convolution(block.conv1, blockInput, name: "\(name).conv1", inputGradient: .write).output
            main = try batchNorm(block.bn1, main, relu: true, name: "\(name).bn1")
            main = try convolution(block.conv2, main, name: "\(name).conv2", inputGradient: .write).output
            main = try batchNorm(block.bn2, main, relu: false, name: "\(name).bn2")
            if let downsample = block.downsample {
                let (projection, projectionGradient) = try convolution(downsample.conv, blockInput, name: "\(name).downsample",
                                                                       inputGradient: .separate)
                let shortcut = try batchNorm(downsample.bn, projection, relu: false, name: "\(name).downsample.bn")
                let x = try residual(main, shortcut, identity: false, name: name)
                backward[slot] = [try accumulate(projectionGradient!, into: blockInput, name: name)]
                return x
            }
            let x = try residual(main, blockInput, identity: true, name: name)
            var steps: [() -> Void] = []
            let share = try context.conform(main.gradient, to: blockInput.value.descriptor, steps: &steps)
            steps.append(try accumulate(share, into: blockInput, name: name))
            backward[slot] = steps
            return x
        }

        func tapDefectHeadInput(_ x: Node) throws(DNNLError) {
            (tapped, tappedGradient) = try tap(x, adds: addsTappedGradient, name: "defect head")
        }

        // Out to plain NCHW; a gradient back in, added to the value's gradient after every
        // later consumer wrote theirs (this slot, appended before theirs, runs after them),
        // when `adds` is on.
        private func tap(_ x: Node, adds: Toggle, name: String) throws(DNNLError) -> (Memory, Memory) {
            let plain = try MemoryDescriptor(x.value.descriptor.dims, dnnl_nchw)
            let out = try Memory(plain), back = try Memory(plain)
            let toPlain = try Primitive(reorderFrom: x.value.descriptor, to: plain)
            let context = context
            forward.append { toPlain.execute(context.stream, [(DNNL_ARG_FROM, x.value), (DNNL_ARG_TO, out)]) }
            var steps: [() -> Void] = []
            let inLayout = try context.conform(back, to: x.value.descriptor, steps: &steps)
            steps.append(try accumulate(inLayout, into: x, name: name))
            backward.append([{ if adds.isOn { for step in steps { step() } } }])
            return (out, back)
        }

        // The last stage's output tapped (for the class activation map), the global average
        // pool, then out to the plain [N, C] embedding; its gradient comes back the same way.
        func embedding(_ x: Node) throws(DNNLError) {
            (finalOutput, finalGradient) = try tap(x, adds: addsFinalGradient, name: "class map")
            let dims = x.value.descriptor.dims
            let pooled = try pooling(x, kernel: dims[2], kernelWidth: dims[3], stride: 1, padding: 0, max: false, name: "avgpool")
            let plain = try MemoryDescriptor([dims[0], dims[1], 1, 1], dnnl_nchw)
            let embedding = try Memory(plain), embeddingGradient = try Memory(plain)
            let toPlain = try Primitive(reorderFrom: pooled.value.descriptor, to: plain)
            let fromPlain = try Primitive(reorderFrom: plain, to: pooled.value.descriptor)
            let context = context
            forward.append { toPlain.execute(context.stream, [(DNNL_ARG_FROM, pooled.value), (DNNL_ARG_TO, embedding)]) }
            backward.append([{
                fromPlain.execute(context.stream, [(DNNL_ARG_FROM, embeddingGradient), (DNNL_ARG_TO, pooled.gradient)])
            }])
            (embeddingMemory, embeddingGradientMemory) = (embedding, embeddingGradient)
        }

        private func convolution(_ conv: Conv2d, _ x: Node, name: String,
                                 inputGradient: InputGradient) throws(DNNLError) -> (output: Node, inputGradient: Memory?) {
            let context = context
            let description = try ConvolutionDescription(conv, over: x.value.descriptor.dims, dnnl_forward_training,
                                                         withBias: false, name: name)
            let window = description.window, anyWeights = description.anyWeights
            let (strides, left, right) = (window.strides, window.left, window.right)
            let forwardPrimitive = try Primitive(description.operation, what: "convolution \(name)")
            context.adopt(forwardPrimitive, as: name)
            let src = try context.conform(x.value, to: forwardPrimitive.memory(dnnl_query_src_md), steps: &forward)
            let output = try Node(Memory(forwardPrimitive.memory(dnnl_query_dst_md)))
            let plainDescriptor = try MemoryDescriptor([conv.outChannels, conv.inChannels, conv.kernel, conv.kernel], dnnl_oihw)
            let plainWeights = try Memory(plainDescriptor)
            let weightMemory = try Memory(forwardPrimitive.memory(dnnl_query_weights_md))
            let toWeights = try Primitive(reorderFrom: plainDescriptor, to: weightMemory.descriptor)
            forward.append {
                copy(conv.weight.value, into: plainWeights)
                toWeights.execute(context.stream, [(DNNL_ARG_FROM, plainWeights), (DNNL_ARG_TO, weightMemory)])
                context.run(forwardPrimitive, [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, weightMemory),
                                               (DNNL_ARG_DST, output.value)])
            }

            var steps: [() -> Void] = []
            var diffSource = src.descriptor.raw
            var diffTarget = output.value.descriptor.raw
            // ∂W = Σ ∂y ⋆ x, back to oihw and added to the parameter's gradient.
            var diffWeights = anyWeights
            var weightsOperation = dnnl_convolution_desc_t()
            try dnnlCheck(dnnl_convolution_backward_weights_desc_init(&weightsOperation, dnnl_convolution_direct,
                                                                      &diffSource, &diffWeights, nil, &diffTarget,
                                                                      strides, left, right),
                          "describing backward weights of \(name)")
            let weightsPrimitive = try Primitive(weightsOperation, hint: forwardPrimitive, what: "backward weights of \(name)")
            context.adopt(weightsPrimitive, as: "\(name) ∂W")
            let weightGradient = try Memory(weightsPrimitive.memory(dnnl_query_diff_weights_md))
            let toPlain = try Primitive(reorderFrom: weightGradient.descriptor, to: plainDescriptor)
            let plainGradient = try Memory(plainDescriptor)
            steps.append {
                context.run(weightsPrimitive, [(DNNL_ARG_SRC, src), (DNNL_ARG_DIFF_DST, output.gradient),
                                               (DNNL_ARG_DIFF_WEIGHTS, weightGradient)])
                toPlain.execute(context.stream, [(DNNL_ARG_FROM, weightGradient), (DNNL_ARG_TO, plainGradient)])
                add(plainGradient, into: &conv.weight.gradient)
            }
            // ∂x = ∂y ⋆ Wᵀ (transposed convolution), in the layout x has.
            var separate: Memory? = nil
            if inputGradient != .none {
                var dataWeights = anyWeights
                var dataOperation = dnnl_convolution_desc_t()
                try dnnlCheck(dnnl_convolution_backward_data_desc_init(&dataOperation, dnnl_convolution_direct,
                                                                       &diffSource, &dataWeights, &diffTarget,
                                                                       strides, left, right),
                              "describing backward data of \(name)")
                let dataPrimitive = try Primitive(dataOperation, hint: forwardPrimitive, what: "backward data of \(name)")
                context.adopt(dataPrimitive, as: "\(name) ∂x")
                var weightsForData = weightMemory
                if dataPrimitive.memory(dnnl_query_weights_md) != weightMemory.descriptor {
                    let other = try Memory(dataPrimitive.memory(dnnl_query_weights_md))
                    let reorder = try Primitive(reorderFrom: plainDescriptor, to: other.descriptor)
                    steps.append { reorder.execute(context.stream, [(DNNL_ARG_FROM, plainWeights), (DNNL_ARG_TO, other)]) }
                    weightsForData = other
                }
                let chosen = dataPrimitive.memory(dnnl_query_diff_src_md)
                let direct = inputGradient == .write && chosen == x.value.descriptor
                let gradient = direct ? nil : try Memory(chosen)
                let weightsUsed = weightsForData
                steps.append {
                    context.run(dataPrimitive, [(DNNL_ARG_DIFF_DST, output.gradient), (DNNL_ARG_WEIGHTS, weightsUsed),
                                                (DNNL_ARG_DIFF_SRC, gradient ?? x.gradient)])
                }
                if let gradient {
                    if inputGradient == .write {
                        let reorder = try Primitive(reorderFrom: chosen, to: x.value.descriptor)
                        steps.append { reorder.execute(context.stream, [(DNNL_ARG_FROM, gradient), (DNNL_ARG_TO, x.gradient)]) }
                    } else {
                        separate = try context.conform(gradient, to: x.value.descriptor, steps: &steps)
                    }
                }
            }
            backward.append(steps)
            return (output, separate)
        }

        /// Batch norm on batch statistics, optionally with the ReLU fused (its mask kept in
        /// the workspace); the running statistics follow PyTorch's momentum rule.
        private func batchNorm(_ bn: BatchNorm2d, _ x: Node, relu: Bool, name: String) throws(DNNLError) -> Node {
            let context = context
            var data = x.value.descriptor.raw
            let flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue | (relu ? dnnl_fuse_norm_relu.rawValue : 0)
            var operation = dnnl_batch_normalization_desc_t()
            try dnnlCheck(dnnl_batch_normalization_forward_desc_init(&operation, dnnl_forward_training, &data,
                                                                     bn.epsilon, flags),
                          "describing batch norm \(name)")
            let forwardPrimitive = try Primitive(operation, what: "batch norm \(name)")
            context.adopt(forwardPrimitive, as: name)
            let output = try Node(Memory(x.value.descriptor))
            let channels = bn.channels
            let (scale, shift) = try (Memory(vector(channels)), Memory(vector(channels)))
            let (mean, variance) = try (Memory(vector(channels)), Memory(vector(channels)))
            let workspaceDescriptor = forwardPrimitive.memory(dnnl_query_workspace_md)
            let workspace = workspaceDescriptor.isZero ? nil : try Memory(workspaceDescriptor)
            let dims = x.value.descriptor.dims
            let length = Float(dims[0] * dims[2] * dims[3])
            forward.append {
                copy(bn.scale.value, into: scale)
                copy(bn.shift.value, into: shift)
                var arguments = [(DNNL_ARG_SRC, x.value), (DNNL_ARG_DST, output.value), (DNNL_ARG_SCALE, scale),
                                 (DNNL_ARG_SHIFT, shift), (DNNL_ARG_MEAN, mean), (DNNL_ARG_VARIANCE, variance)]
                if let workspace { arguments.append((DNNL_ARG_WORKSPACE, workspace)) }
                context.run(forwardPrimitive, arguments)
                // r ← (1 − m)·r + m·stat, the variance unbiased (σ² · L / (L − 1)).
                let m = bn.momentum, unbias = length > 1 ? length / (length - 1) : 1
                let (mu, sigma2) = (mean.floats, variance.floats)
                for c in 0..<channels {
                    bn.runningMean.value[c] = (1 - m) * bn.runningMean.value[c] + m * mu[c]
                    bn.runningVariance.value[c] = (1 - m) * bn.runningVariance.value[c] + m * sigma2[c] * unbias
                }
                bn.batchesTracked += 1
            }
            var diffData = data
            var backwardOperation = dnnl_batch_normalization_desc_t()
            try dnnlCheck(dnnl_batch_normalization_backward_desc_init(&backwardOperation, dnnl_backward, &diffData, &data,
                                                                      bn.epsilon, flags),
                          "describing backward batch norm \(name)")
            let backwardPrimitive = try Primitive(backwardOperation, hint: forwardPrimitive, what: "backward batch norm \(name)")
            context.adopt(backwardPrimitive, as: "\(name) ∂")
            let (scaleGradient, shiftGradient) = try (Memory(vector(channels)), Memory(vector(channels)))
            backward.append([{
                var arguments = [(DNNL_ARG_SRC, x.value), (DNNL_ARG_MEAN, mean), (DNNL_ARG_VARIANCE, variance),
                                 (DNNL_ARG_DIFF_DST, output.gradient), (DNNL_ARG_SCALE, scale), (DNNL_ARG_SHIFT, shift),
                                 (DNNL_ARG_DIFF_SRC, x.gradient), (DNNL_ARG_DIFF_SCALE, scaleGradient),
                                 (DNNL_ARG_DIFF_SHIFT, shiftGradient)]
                if let workspace { arguments.append((DNNL_ARG_WORKSPACE, workspace)) }
                context.run(backwardPrimitive, arguments)
                add(scaleGradient, into: &bn.scale.gradient)
                add(shiftGradient, into: &bn.shift.gradient)
            }])
            return output
        }

        private func pooling(_ x: Node, kernel: Int, kernelWidth: Int? = nil, stride: Int, padding: Int, max: Bool,
                             name: String) throws(DNNLError) -> Node {
            let context = context
            let description = try PoolingDescription(over: x.value.descriptor, kernel: kernel, kernelWidth: kernelWidth,
                                                     stride: stride, padding: padding, max: max, dnnl_forward_training,
                                                     name: name)
            let window = description.window
            let (strides, kernels, left, right) = (window.strides, window.kernels, window.left, window.right)
            let forwardPrimitive = try Primitive(description.operation, what: name)
            context.adopt(forwardPrimitive, as: name)
            let output = try Node(Memory(forwardPrimitive.memory(dnnl_query_dst_md)))
            let workspaceDescriptor = forwardPrimitive.memory(dnnl_query_workspace_md)
            let workspace = workspaceDescriptor.isZero ? nil : try Memory(workspaceDescriptor)
            forward.append {
                var arguments = [(DNNL_ARG_SRC, x.value), (DNNL_ARG_DST, output.value)]
                if let workspace { arguments.append((DNNL_ARG_WORKSPACE, workspace)) }
                context.run(forwardPrimitive, arguments)
            }
            var diffSource = x.value.descriptor.raw
            var diffTarget = output.value.descriptor.raw
            var backwardOperation = dnnl_pooling_desc_t()
            try dnnlCheck(dnnl_pooling_backward_desc_init(&backwardOperation, description.algorithm, &diffSource, &diffTarget,
                                                          strides, kernels, left, right), "describing backward \(name)")
            let backwardPrimitive = try Primitive(backwardOperation, hint: forwardPrimitive, what: "backward \(name)")
            context.adopt(backwardPrimitive, as: "\(name) ∂")
            backward.append([{
                var arguments = [(DNNL_ARG_DIFF_DST, output.gradient), (DNNL_ARG_DIFF_SRC, x.gradient)]
                if let workspace { arguments.append((DNNL_ARG_WORKSPACE, workspace)) }
                context.run(backwardPrimitive, arguments)
            }])
            return output
        }

        /// y = relu(main + shortcut). Backward: ∂(main + shortcut) = ∂y where y > 0, written
        /// as main's gradient; a projection shortcut gets the same gradient (aliased when
        /// the layouts agree). An identity shortcut's share is added by the block.
        private func residual(_ main: Node, _ shortcut: Node, identity: Bool, name: String) throws(DNNLError) -> Node {
            let context = context
            let aligned = try context.conform(shortcut.value, to: main.value.descriptor, steps: &forward)
            var first = main.value.descriptor.raw, second = aligned.descriptor.raw, target = main.value.descriptor.raw
            var operation = dnnl_binary_desc_t()
            try dnnlCheck(dnnl_binary_desc_init(&operation, dnnl_binary_add, &first, &second, &target), "describing \(name) sum")
            let sum = try Primitive(operation, postOps: PostOps(steps: [.relu]), what: "\(name) sum")
            context.adopt(sum, as: "\(name) sum")
            let output = try Node(Memory(main.value.descriptor))
            forward.append {
                context.run(sum, [(DNNL_ARG_SRC_0, main.value), (DNNL_ARG_SRC_1, aligned), (DNNL_ARG_DST, output.value)])
            }
            var data = main.value.descriptor.raw
            var hintOperation = dnnl_eltwise_desc_t()
            try dnnlCheck(dnnl_eltwise_forward_desc_init(&hintOperation, dnnl_forward_training,
                                                         dnnl_eltwise_relu_use_dst_for_bwd, &data, 0, 0),
                          "describing \(name) ReLU")
            let hint = try Primitive(hintOperation, what: "\(name) ReLU")
            var diffData = data
            var backwardOperation = dnnl_eltwise_desc_t()
            try dnnlCheck(dnnl_eltwise_backward_desc_init(&backwardOperation, dnnl_eltwise_relu_use_dst_for_bwd, &diffData,
                                                          &data, 0, 0), "describing backward \(name) ReLU")
            let backwardPrimitive = try Primitive(backwardOperation, hint: hint, what: "backward \(name) ReLU")
            context.adopt(backwardPrimitive, as: "\(name) ReLU ∂")
            var steps: [() -> Void] = [{
                context.run(backwardPrimitive, [(DNNL_ARG_DST, output.value), (DNNL_ARG_DIFF_DST, output.gradient),
                                                (DNNL_ARG_DIFF_SRC, main.gradient)])
            }]
            if !identity {
                if shortcut.value.descriptor == main.value.descriptor {
                    shortcut.gradient = main.gradient
                } else {
                    let reorder = try Primitive(reorderFrom: main.value.descriptor, to: shortcut.value.descriptor)
                    steps.append {
                        reorder.execute(context.stream, [(DNNL_ARG_FROM, main.gradient), (DNNL_ARG_TO, shortcut.gradient)])
                    }
                }
            }
            backward.append(steps)
            return output
        }

        /// x.gradient += other (other in x's layout), in place.
        private func accumulate(_ other: Memory, into x: Node, name: String) throws(DNNLError) -> () -> Void {
            let context = context
            var first = x.value.descriptor.raw, second = other.descriptor.raw, target = x.value.descriptor.raw
            var operation = dnnl_binary_desc_t()
            try dnnlCheck(dnnl_binary_desc_init(&operation, dnnl_binary_add, &first, &second, &target),
                          "describing \(name) gradient sum")
            let sum = try Primitive(operation, what: "\(name) gradient sum")
            context.adopt(sum, as: "\(name) ∂ sum")
            return { context.run(sum, [(DNNL_ARG_SRC_0, x.gradient), (DNNL_ARG_SRC_1, other), (DNNL_ARG_DST, x.gradient)]) }
        }
    }

    /// The training forward: embeddings [N, C]; keeps what backward needs.
    func forward(_ images: Tensor) -> Tensor {
        images.data.withUnsafeBufferPointer { pixels in
            input.bind(pixels.baseAddress!)
            // The first step copies the images; nothing reads the caller's buffer after it.
            for step in forwardSteps { step() }
        }
        let count = embedding.floatCount
        return Tensor(shape: [batch, count / batch], data: Array(UnsafeBufferPointer(start: embedding.floats, count: count)))
    }

    /// The defect head's input features [N, C, h, w] of the last forward; nil without a head.
    func tappedFeatures() -> Tensor? { tapped.map(Tensor.init(plain:)) }

    /// The last stage's output [N, C, h, w] of the last forward.
    func finalFeatures() -> Tensor { Tensor(plain: finalOutput) }

    /// Backpropagates ∂loss/∂embedding [N, C], the defect head's ∂loss/∂features
    /// [N, C, h, w] and ∂loss/∂(last stage's output) [N, C, h, w] when given, adding every
    /// parameter's gradient.
    func backward(_ dEmbedding: Tensor, tapGradient: Tensor? = nil, finalGradient dFinal: Tensor? = nil) {
        dEmbedding.data.withUnsafeBufferPointer {
            embeddingGradient.floats.update(from: $0.baseAddress!, count: embeddingGradient.floatCount)
        }
        addsTappedGradient.isOn = false
        if let tapGradient, let tappedGradient {
            precondition(tapGradient.data.count == tappedGradient.floatCount, "the defect head's gradient has the wrong shape")
            tapGradient.data.withUnsafeBufferPointer { tappedGradient.floats.update(from: $0.baseAddress!, count: $0.count) }
            addsTappedGradient.isOn = true
        }
        addsFinalGradient.isOn = false
        if let dFinal {
            precondition(dFinal.data.count == finalGradient.floatCount, "the last stage's gradient has the wrong shape")
            dFinal.data.withUnsafeBufferPointer { finalGradient.floats.update(from: $0.baseAddress!, count: $0.count) }
            addsFinalGradient.isOn = true
        }
        for step in backwardSteps { step() }
    }
}
