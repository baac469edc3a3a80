/// max(0, x) — or max(0, x + r) with a residual r, the end of a residual block; backward
/// passes the gradient where the output was positive (to both summands).
public final class ReLU: Layer {
    public var isTraining = false
    private var output: [Float] = []
    private var inputGradient: [Float] = []

    public init() {}

    public func callAsFunction(_ x: FeatureMap) -> FeatureMap { forward(x) }

    public func forward(_ x: FeatureMap, adding residual: FeatureMap? = nil) -> FeatureMap {
        var y = FeatureMap(channels: x.channels, batch: x.batch, height: x.height, width: x.width,
                           data: takeBuffer(&output, count: x.data.count))
        x.data.withUnsafeBufferPointer { input in
            y.data.withUnsafeMutableBufferPointer { out in
                if let residual {
                    residual.data.withUnsafeBufferPointer { r in
                        for i in out.indices { out[i] = max(input[i] + r[i], 0) }
                    }
                } else {
                    for i in out.indices { out[i] = max(input[i], 0) }
                }
            }
        }
        output = y.data
        return y
    }

    /// Releases the kept output, so the next forward reuses its storage.
    public func backward(_ dy: FeatureMap) -> FeatureMap {
        var dx = FeatureMap(channels: dy.channels, batch: dy.batch, height: dy.height, width: dy.width,
                            data: takeBuffer(&inputGradient, count: dy.data.count))
        output.withUnsafeBufferPointer { y in
            dy.data.withUnsafeBufferPointer { g in
                dx.data.withUnsafeMutableBufferPointer { d in
                    for i in d.indices { d[i] = y[i] > 0 ? g[i] : 0 }
                }
            }
        }
        inputGradient = dx.data
        return dx
    }
}

/// Max pooling, square window, padding counts as −∞. Backward routes each output's gradient
/// to the input position that won.
public final class MaxPool2d: Layer {
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public var isTraining = false
    private var winners: [Int32] = []
    private var inputShape = (channels: 0, batch: 0, height: 0, width: 0)
    private var inferenceOutput: [Float] = []
    private var inputGradient: [Float] = []

    public init(kernel: Int, stride: Int, padding: Int) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    public func callAsFunction(_ x: FeatureMap) -> FeatureMap { forward(x) }

    /// In training mode the winners are kept for `backward`.
    public func forward(_ x: FeatureMap) -> FeatureMap {
        let training = isTraining
        let oh = (x.height + 2 * padding - kernel) / stride + 1
        let ow = (x.width + 2 * padding - kernel) / stride + 1
        let count = x.channels * x.batch * oh * ow
        var storage = training ? [] : inferenceOutput
        inferenceOutput = []
        if storage.count != count {
            storage = [Float](unsafeUninitializedCapacity: count) { _, initialised in initialised = count }
        }
        var y = FeatureMap(channels: x.channels, batch: x.batch, height: oh, width: ow, data: storage)
        storage = []
        if training {
            if winners.count != y.data.count { winners = [Int32](repeating: 0, count: y.data.count) }
            inputShape = (x.channels, x.batch, x.height, x.width)
        }
        let (h, w) = (x.height, x.width)
        x.data.withUnsafeBufferPointer { input in
            y.data.withUnsafeMutableBufferPointer { out in
                winners.withUnsafeMutableBufferPointer { win in
                    for plane in 0..<(x.channels * x.batch) {
                        let inBase = plane * h * w, outBase = plane * oh * ow
                        for i in 0..<oh {
                            let r0 = max(i * stride - padding, 0), r1 = min(i * stride - padding + kernel, h)
                            for j in 0..<ow {
                                let c0 = max(j * stride - padding, 0), c1 = min(j * stride - padding + kernel, w)
                                var best = -Float.infinity, at = inBase + r0 * w + c0
                                for r in r0..<r1 {
                                    for c in c0..<c1 where input[inBase + r * w + c] > best {
                                        best = input[inBase + r * w + c]
                                        at = inBase + r * w + c
                                    }
                                }
                                out[outBase + i * ow + j] = best
                                if training { win[outBase + i * ow + j] = Int32(at) }
                            }
                        }
                    }
                }
            }
        }
        if !training { inferenceOutput = y.data }
        return y
    }

    public func backward(_ dy: FeatureMap) -> FeatureMap {
        let count = inputShape.channels * inputShape.batch * inputShape.height * inputShape.width
        var dx = FeatureMap(channels: inputShape.channels, batch: inputShape.batch,
                            height: inputShape.height, width: inputShape.width,
                            data: takeBuffer(&inputGradient, count: count))
        dy.data.withUnsafeBufferPointer { g in
            dx.data.withUnsafeMutableBufferPointer { out in
                out.update(repeating: 0)
                winners.withUnsafeBufferPointer { win in
                    for i in g.indices { out[Int(win[i])] += g[i] }
                }
            }
        }
        inputGradient = dx.data
        return dx
    }
}

/// Mean over each channel's plane: CNHW feature map → [N, C] rows (the embedding).
public final class GlobalAveragePool: Layer {
    public var isTraining = false
    private var inputShape = (channels: 0, batch: 0, height: 0, width: 0)

    public init() {}

    public func forward(_ x: FeatureMap) -> Tensor {
        inputShape = (x.channels, x.batch, x.height, x.width)
        var out = [Float](repeating: 0, count: x.batch * x.channels)
        let plane = x.planeSize
        x.data.withUnsafeBufferPointer { input in
            for c in 0..<x.channels {
                for n in 0..<x.batch {
                    var sum: Float = 0
                    let base = (c * x.batch + n) * plane
                    for i in 0..<plane { sum += input[base + i] }
                    out[n * x.channels + c] = sum / Float(plane)
                }
            }
        }
        return Tensor(shape: [x.batch, x.channels], data: out)
    }

    public func backward(_ dy: Tensor) -> FeatureMap {
        let (channels, batch, height, width) = inputShape
        var dx = FeatureMap(channels: channels, batch: batch, height: height, width: width)
        let plane = height * width
        let share = 1 / Float(plane)
        dx.data.withUnsafeMutableBufferPointer { out in
            for c in 0..<channels {
                for n in 0..<batch {
                    let g = dy.data[n * channels + c] * share
                    let base = (c * batch + n) * plane
                    for i in 0..<plane { out[base + i] = g }
                }
            }
        }
        return dx
    }
}
