import SeededRandom

/// ResNet's basic residual block:
///     y = relu( bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x) )
/// conv1 is 3×3 with the block's stride, conv2 3×3 stride 1; the shortcut is the identity,
/// or a 1×1 convolution with the stride plus batch norm ("downsample") when the shape
/// changes.
public final class BasicBlock: Layer {
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let relu1 = ReLU()
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    public let downsample: (conv: Conv2d, bn: BatchNorm2d)?
    public let relu2 = ReLU()
    public var isTraining = false
    /// torchvision's names: the shortcut's convolution and batch norm are "downsample.0" and ".1".
    public var children: [(name: String, layer: any Layer)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)]
            + (downsample.map { [("downsample.0", $0.conv), ("downsample.1", $0.bn)] } ?? [])
    }

    public init(inChannels: Int, outChannels: Int, stride: Int, random: inout SplitMix64) {
        conv1 = Conv2d(inChannels: inChannels, outChannels: outChannels, kernel: 3, stride: stride, padding: 1, random: &random)
        bn1 = BatchNorm2d(channels: outChannels)
        conv2 = Conv2d(inChannels: outChannels, outChannels: outChannels, kernel: 3, stride: 1, padding: 1, random: &random)
        bn2 = BatchNorm2d(channels: outChannels)
        if stride != 1 || inChannels != outChannels {
            downsample = (Conv2d(inChannels: inChannels, outChannels: outChannels, kernel: 1, stride: stride,
                                 padding: 0, random: &random), BatchNorm2d(channels: outChannels))
        } else {
            downsample = nil
        }
    }

    /// The training forward (each layer keeps what its backward needs).
    public func forward(_ x: FeatureMap) -> FeatureMap {
        var main = conv1(x)
        main = bn1(main)
        main = relu1(main)
        main = conv2(main)
        main = bn2(main)
        var shortcut = x
        if let downsample { shortcut = downsample.bn(downsample.conv(x)) }
        return relu2.forward(main, adding: shortcut)
    }

    /// Inference: every batch norm, the residual add and the ReLUs run in the epilogues of
    /// the convolutions.
    public func inferenceForward(_ x: FeatureMap) -> FeatureMap {
        let hidden = conv1.inferenceForward(x, batchNorm: bn1, relu: true)
        let shortcut = downsample.map { $0.conv.inferenceForward(x, batchNorm: $0.bn, relu: false) } ?? x
        return conv2.inferenceForward(hidden, batchNorm: bn2, residual: shortcut, relu: true)
    }

    public func backward(_ dy: FeatureMap) -> FeatureMap {
        let d = relu2.backward(dy)
        var dMain = bn2.backward(d)
        dMain = conv2.backward(dMain)
        dMain = relu1.backward(dMain)
        dMain = bn1.backward(dMain)
        let dShortcut = downsample.map { $0.conv.backward($0.bn.backward(d)) } ?? d
        return conv1.backward(dMain, adding: dShortcut)
    }
}
