/// A part of a network, called like a function. A layer declares its own parameters and
/// buffers under the names torchvision's state dict gives them, and its sub-layers under
/// theirs, once; every full name ("layer1.0.bn1.running_mean"), every checkpoint and every
/// optimiser's parameter list is derived from that by walking the tree. Whether the layer
/// trains (batch statistics, inputs kept for backward) is its state, set for a whole network
/// at once with `setTraining(_:)`, as in PyTorch's train()/eval().
///
/// How a forward and a backward are computed is not the layer's business alone: a network
/// runs either its layers' own (OpenBLAS reference) code or a oneDNN plan built from the same
/// layers and parameters (`Backend`).
public protocol Layer: AnyObject {
    /// This layer's own parameters and buffers, by their names relative to the layer
    /// ("weight", "bias", "running_mean").
    var localParameters: [(name: String, parameter: Parameter)] { get }
    /// The sub-layers, by their names relative to the layer ("conv1", "layer1.0", "downsample.0").
    var children: [(name: String, layer: any Layer)] { get }
    /// Training mode: true while training, false for inference.
    var isTraining: Bool { get set }
}

extension Layer {
    public var localParameters: [(name: String, parameter: Parameter)] { [] }
    public var children: [(name: String, layer: any Layer)] { [] }

    /// Every parameter and buffer of the layer and its sub-layers under their full names,
    /// in declaration order.
    public var namedParameters: [(String, Parameter)] {
        var list = localParameters.map { ($0.name, $0.parameter) }
        for (name, child) in children {
            list += child.namedParameters.map { ("\(name).\($0.0)", $0.1) }
        }
        return list
    }

    /// The learnable parameters (no buffers), for an optimiser.
    public var trainableParameters: [Parameter] { namedParameters.map(\.1).filter(\.isTrainable) }

    public func zeroGradients() { for p in trainableParameters { p.zeroGradient() } }

    /// Sets training mode on the layer and every sub-layer.
    public func setTraining(_ training: Bool) {
        isTraining = training
        for (_, child) in children { child.setTraining(training) }
    }

    /// Every sub-layer of one type, with its full name (e.g. each batch norm, whose
    /// num_batches_tracked checkpoints keep).
    public func layers<Kind: Layer>(of kind: Kind.Type) -> [(String, Kind)] {
        var found: [(String, Kind)] = []
        for (name, child) in children {
            if let match = child as? Kind { found.append((name, match)) }
            found += child.layers(of: kind).map { ("\(name).\($0.0)", $0.1) }
        }
        return found
    }
}

/// A whole classifier: images in, logits and the embedding out, and back. Checkpoints save and
/// restore any `Network` by its parameter names.
public protocol Network: Layer {
    /// The architecture's name, for checkpoints and messages (e.g. "resnet18-w4").
    var architectureName: String { get }
    /// The prefix of the classifier head's parameters ("fc."): what a backbone trained for
    /// other classes does not bring.
    var headPrefix: String { get }
    /// Logits [N, classes] and embeddings [N, features] of an NCHW batch, in the current mode.
    func forward(_ images: Tensor) -> (logits: Tensor, embedding: Tensor)
    /// Backpropagates ∂loss/∂logits of the last training forward, accumulating every gradient.
    func backward(_ dLogits: Tensor)
}
