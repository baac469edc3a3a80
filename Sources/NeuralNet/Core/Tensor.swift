/// A dense Float32 array with a shape, row-major (the last index varies fastest).
/// Images enter the network as NCHW tensors: batch, channels, height, width.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(data.count == shape.reduce(1, *), "tensor data does not match shape \(shape)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
}

/// The network's internal activation layout: channels × batch × height × width (CNHW).
///
/// Channel-major so that every convolution over the whole batch is one GEMM,
/// Y[C_out, N·H·W] = W[C_out, K] · cols[K, N·H·W]; so that a 1×1 stride-1 convolution
/// needs no packing (the input already is its column matrix); and so that batch norm
/// reads each channel as one contiguous run of N·H·W values.
public struct FeatureMap: Sendable {
    public var channels: Int
    public var batch: Int
    public var height: Int
    public var width: Int
    public var data: [Float]

    public init(channels: Int, batch: Int, height: Int, width: Int, data: [Float]) {
        precondition(data.count == channels * batch * height * width, "feature map data does not match shape")
        self.channels = channels
        self.batch = batch
        self.height = height
        self.width = width
        self.data = data
    }

    public init(channels: Int, batch: Int, height: Int, width: Int) {
        self.init(channels: channels, batch: batch, height: height, width: width,
                  data: [Float](repeating: 0, count: channels * batch * height * width))
    }

    /// Values per channel: N·H·W.
    public var channelStride: Int { batch * height * width }
    public var planeSize: Int { height * width }

    /// From NCHW (how images arrive) to CNHW.
    public init(nchw tensor: Tensor) {
        precondition(tensor.shape.count == 4, "expected an NCHW tensor")
        let (n, c, h, w) = (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
        var data = [Float](repeating: 0, count: tensor.count)
        let plane = h * w
        tensor.data.withUnsafeBufferPointer { source in
            data.withUnsafeMutableBufferPointer { target in
                for image in 0..<n {
                    for channel in 0..<c {
                        let from = (image * c + channel) * plane, to = (channel * n + image) * plane
                        for i in 0..<plane { target[to + i] = source[from + i] }
                    }
                }
            }
        }
        self.init(channels: c, batch: n, height: h, width: w, data: data)
    }

    /// Back to NCHW.
    public var nchw: Tensor {
        var out = [Float](repeating: 0, count: data.count)
        let plane = planeSize
        data.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for channel in 0..<channels {
                    for image in 0..<batch {
                        let from = (channel * batch + image) * plane, to = (image * channels + channel) * plane
                        for i in 0..<plane { target[to + i] = source[from + i] }
                    }
                }
            }
        }
        return Tensor(shape: [batch, channels, height, width], data: out)
    }
}

/// A learnable tensor (or a buffer such as batch norm's running statistics) with its
/// gradient. Shared by reference between the layer that uses it and the optimiser.
public final class Parameter {
    public let shape: [Int]
    /// Every change counts in `version`, so a backend that keeps a transformed copy (oneDNN's
    /// folded, reordered inference weights) knows when to make it again.
    public var value: [Float] { didSet { version &+= 1 } }
    /// How many times `value` changed.
    public private(set) var version: UInt64 = 0
    public var gradient: [Float]
    /// False for buffers (running statistics): the optimiser leaves them alone.
    public let isTrainable: Bool

    public init(shape: [Int], value: [Float], isTrainable: Bool = true) {
        precondition(value.count == shape.reduce(1, *), "parameter value does not match shape")
        self.shape = shape
        self.value = value
        self.isTrainable = isTrainable
        gradient = isTrainable ? [Float](repeating: 0, count: value.count) : []
    }

    public convenience init(shape: [Int], filledWith fill: Float, isTrainable: Bool = true) {
        self.init(shape: shape, value: [Float](repeating: fill, count: shape.reduce(1, *)), isTrainable: isTrainable)
    }

    public var count: Int { value.count }

    public func zeroGradient() {
        guard isTrainable else { return }
        gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

/// Takes a layer's reusable buffer out of `stash` for `count` values. When the array handed
/// out last time has been released, this is the same storage, and nothing is allocated or
/// faulted in; otherwise copy-on-write keeps it correct. The contents are unspecified: the
/// caller overwrites every value.
@inline(__always)
func takeBuffer(_ stash: inout [Float], count: Int) -> [Float] {
    var buffer = stash
    stash = []
    if buffer.count != count {
        buffer = [Float](unsafeUninitializedCapacity: count) { _, initialised in initialised = count }
    }
    return buffer
}
