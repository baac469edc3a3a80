import SeededRandom

/// Fully connected layer on rows: Y[N, out] = X[N, in] · Wᵀ + b, with W stored [out, in]
/// (PyTorch's layout). Backward: ∂W += ∂Yᵀ · X, ∂b += Σ_rows ∂Y, ∂X = ∂Y · W.
public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter
    public var isTraining = false
    public var localParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }
    private var input: Tensor?

    public init(inFeatures: Int, outFeatures: Int, random: inout SplitMix64) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        // U(−1/√in, 1/√in), PyTorch's default for nn.Linear.
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(shape: [outFeatures, inFeatures],
                           value: (0..<(outFeatures * inFeatures)).map { _ in random.uniform(-bound, bound) })
        bias = Parameter(shape: [outFeatures], value: (0..<outFeatures).map { _ in random.uniform(-bound, bound) })
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { forward(x) }

    /// In training mode the input is kept for `backward`.
    public func forward(_ x: Tensor) -> Tensor {
        let rows = x.shape[0]
        precondition(x.shape[1] == inFeatures, "linear expects \(inFeatures) features")
        var y = Tensor(zeros: [rows, outFeatures])
        for r in 0..<rows { for o in 0..<outFeatures { y.data[r * outFeatures + o] = bias.value[o] } }
        x.data.withUnsafeBufferPointer { a in
            weight.value.withUnsafeBufferPointer { w in
                y.data.withUnsafeMutableBufferPointer { out in
                    BLAS.sgemm(.none, .transposed, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                               a: a.baseAddress!, lda: inFeatures, b: w.baseAddress!, ldb: inFeatures,
                               beta: 1, c: out.baseAddress!, ldc: outFeatures)
                }
            }
        }
        input = isTraining ? x : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("linear backward without a training forward") }
        input = nil
        let rows = x.shape[0]
        for r in 0..<rows { for o in 0..<outFeatures { bias.gradient[o] += dy.data[r * outFeatures + o] } }
        var dx = Tensor(zeros: [rows, inFeatures])
        dy.data.withUnsafeBufferPointer { g in
            x.data.withUnsafeBufferPointer { a in
                weight.gradient.withUnsafeMutableBufferPointer { dw in
                    BLAS.sgemm(.transposed, .none, m: outFeatures, n: inFeatures, k: rows, alpha: 1,
                               a: g.baseAddress!, lda: outFeatures, b: a.baseAddress!, ldb: inFeatures,
                               beta: 1, c: dw.baseAddress!, ldc: inFeatures)
                }
            }
            weight.value.withUnsafeBufferPointer { w in
                dx.data.withUnsafeMutableBufferPointer { d in
                    BLAS.sgemm(.none, .none, m: rows, n: inFeatures, k: outFeatures, alpha: 1,
                               a: g.baseAddress!, lda: outFeatures, b: w.baseAddress!, ldb: inFeatures,
                               beta: 0, c: d.baseAddress!, ldc: inFeatures)
                }
            }
        }
        return dx
    }
}

/// Softmax over each row of logits.
public func softmax(_ logits: Tensor) -> Tensor {
    var out = logits
    let classes = logits.shape[1]
    for r in 0..<logits.shape[0] {
        let row = r * classes
        var top = -Float.infinity
        for c in 0..<classes { top = max(top, logits.data[row + c]) }
        var sum: Float = 0
        for c in 0..<classes {
            let e = expf(logits.data[row + c] - top)
            out.data[row + c] = e
            sum += e
        }
        for c in 0..<classes { out.data[row + c] /= sum }
    }
    return out
}

/// Softmax cross-entropy with optional class weights, averaged as PyTorch does:
///     L = Σ_i w[y_i] · (−log p_i[y_i]) / Σ_i w[y_i],
///     ∂L/∂z_i = w[y_i] · (p_i − onehot(y_i)) / Σ_i w[y_i].
public func softmaxCrossEntropy(logits: Tensor, labels: [Int], classWeights: [Float]? = nil)
    -> (loss: Float, gradient: Tensor) {
    let rows = logits.shape[0], classes = logits.shape[1]
    precondition(labels.count == rows, "one label per row")
    let probabilities = softmax(logits)
    var gradient = probabilities
    var total: Float = 0, weightSum: Float = 0
    for r in 0..<rows {
        let w = classWeights?[labels[r]] ?? 1
        weightSum += w
        total += -w * logf(max(probabilities.data[r * classes + labels[r]], 1e-30))
    }
    let norm = weightSum > 0 ? 1 / weightSum : 0
    for r in 0..<rows {
        let w = (classWeights?[labels[r]] ?? 1) * norm
        for c in 0..<classes { gradient.data[r * classes + c] *= w }
        gradient.data[r * classes + labels[r]] -= w
    }
    return (total * norm, gradient)
}

#if canImport(Glibc)
import Glibc
#endif
