/// Batch normalisation over each channel of a feature map.
///
/// Training: with μ, σ² the mean and (biased) variance of the channel over batch and space,
///     x̂ = (x − μ) / √(σ² + ε),   y = γ · x̂ + β,
/// and the running statistics move by `momentum`: r ← (1 − m) · r + m · stat, the running
/// variance taking the unbiased σ² · L / (L − 1) (L = N·H·W), as PyTorch does.
/// Inference uses the running statistics. Backward (per channel, sums over its L values):
///     ∂γ = Σ ∂y · x̂,   ∂β = Σ ∂y,   ∂x = γ / (L · √(σ² + ε)) · (L · ∂y − ∂β − x̂ · ∂γ).
public final class BatchNorm2d: Layer {
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let scale: Parameter        // γ ("weight")
    public let shift: Parameter        // β ("bias")
    public let runningMean: Parameter
    public let runningVariance: Parameter
    /// Training batches seen (PyTorch's num_batches_tracked), kept for checkpoints.
    public var batchesTracked: Int64 = 0
    public var isTraining = false
    public var localParameters: [(name: String, parameter: Parameter)] {
        [("weight", scale), ("bias", shift), ("running_mean", runningMean), ("running_var", runningVariance)]
    }

    private var normalised: [Float] = []
    private var inverseDeviation: [Float] = []
    private var output: [Float] = []
    private var inputGradient: [Float] = []

    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        scale = Parameter(shape: [channels], filledWith: 1)
        shift = Parameter(shape: [channels], filledWith: 0)
        runningMean = Parameter(shape: [channels], filledWith: 0, isTrainable: false)
        runningVariance = Parameter(shape: [channels], filledWith: 1, isTrainable: false)
    }

    public func callAsFunction(_ x: FeatureMap) -> FeatureMap { forward(x) }

    /// The inference transform as y = a·x + c per channel: a = γ / √(σ_run² + ε),
    /// c = β − μ_run · a.
    public func inferenceScaleShift() -> (scale: [Float], shift: [Float]) {
        var scales = [Float](repeating: 0, count: channels), shifts = scales
        for c in 0..<channels {
            let a = scale.value[c] / (runningVariance.value[c] + epsilon).squareRoot()
            scales[c] = a
            shifts[c] = shift.value[c] - runningMean.value[c] * a
        }
        return (scales, shifts)
    }

    /// Training mode: batch statistics (kept for `backward`), running statistics updated;
    /// otherwise the running statistics.
    public func forward(_ x: FeatureMap) -> FeatureMap {
        precondition(x.channels == channels, "batch norm expects \(channels) channels")
        var y = FeatureMap(channels: x.channels, batch: x.batch, height: x.height, width: x.width,
                           data: takeBuffer(&output, count: x.data.count))
        let length = x.channelStride
        if !isTraining {
            let (scales, shifts) = inferenceScaleShift()
            x.data.withUnsafeBufferPointer { input in
                y.data.withUnsafeMutableBufferPointer { out in
                    for c in 0..<channels {
                        let (a, b) = (scales[c], shifts[c])
                        let start = c * length
                        for i in start..<(start + length) { out[i] = input[i] * a + b }
                    }
                }
            }
            output = y.data
            return y
        }
        if normalised.count != x.data.count { normalised = [Float](repeating: 0, count: x.data.count) }
        if inverseDeviation.count != channels { inverseDeviation = [Float](repeating: 0, count: channels) }
        batchesTracked += 1
        x.data.withUnsafeBufferPointer { input in
            y.data.withUnsafeMutableBufferPointer { out in
                normalised.withUnsafeMutableBufferPointer { hat in
                    for c in 0..<channels {
                        let start = c * length
                        var sum: Double = 0
                        for i in start..<(start + length) { sum += Double(input[i]) }
                        let mean = Float(sum / Double(length))
                        var squares: Double = 0
                        for i in start..<(start + length) {
                            let d = input[i] - mean
                            squares += Double(d * d)
                        }
                        let variance = Float(squares / Double(length))
                        let inverse = 1 / (variance + epsilon).squareRoot()
                        inverseDeviation[c] = inverse
                        let g = scale.value[c], b = shift.value[c]
                        for i in start..<(start + length) {
                            let h = (input[i] - mean) * inverse
                            hat[i] = h
                            out[i] = g * h + b
                        }
                        runningMean.value[c] = (1 - momentum) * runningMean.value[c] + momentum * mean
                        let unbiased = length > 1 ? variance * Float(length) / Float(length - 1) : variance
                        runningVariance.value[c] = (1 - momentum) * runningVariance.value[c] + momentum * unbiased
                    }
                }
            }
        }
        output = y.data
        return y
    }

    public func backward(_ dy: FeatureMap) -> FeatureMap {
        let length = dy.channelStride
        precondition(normalised.count == dy.data.count, "batch norm backward without a training forward")
        var dx = FeatureMap(channels: dy.channels, batch: dy.batch, height: dy.height, width: dy.width,
                            data: takeBuffer(&inputGradient, count: dy.data.count))
        dy.data.withUnsafeBufferPointer { g in
            dx.data.withUnsafeMutableBufferPointer { out in
                normalised.withUnsafeBufferPointer { hat in
                    for c in 0..<channels {
                        let start = c * length
                        var dShift: Float = 0, dScale: Float = 0
                        for i in start..<(start + length) {
                            dShift += g[i]
                            dScale += g[i] * hat[i]
                        }
                        scale.gradient[c] += dScale
                        shift.gradient[c] += dShift
                        let factor = scale.value[c] * inverseDeviation[c] / Float(length)
                        let n = Float(length)
                        for i in start..<(start + length) {
                            out[i] = factor * (n * g[i] - dShift - hat[i] * dScale)
                        }
                    }
                }
            }
        }
        inputGradient = dx.data
        return dx
    }
}
