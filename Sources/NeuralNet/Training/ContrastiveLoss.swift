import SeededRandom
#if canImport(Glibc)
import Glibc
#endif

/// NT-Xent, SimCLR's normalised temperature-scaled cross-entropy, on 2N projections where rows
/// i and i + N are two views of one image (the positive pair); the other 2N − 2 rows of the
/// batch are the negatives of both:
///
///     uᵢ = zᵢ / ‖zᵢ‖,   sᵢₖ = uᵢ · uₖ / τ
///     ℓᵢ = −sᵢ,ₚ₍ᵢ₎ + log Σₖ≠ᵢ exp(sᵢₖ),   L = (1 / 2N) Σᵢ ℓᵢ
///
/// Gradient: with Gᵢₖ = ∂L/∂sᵢₖ = (Pᵢₖ − [k = p(i)]) / 2N for k ≠ i (P the row-wise softmax
/// over k ≠ i), ∂L/∂u = (G + Gᵀ) u / τ, and through the normalisation
/// ∂L/∂zᵢ = (∂L/∂uᵢ − uᵢ (uᵢ · ∂L/∂uᵢ)) / ‖zᵢ‖.
public enum NTXent {
    /// The loss and ∂L/∂z of projections `z` [2N, D].
    public static func loss(_ z: Tensor, temperature: Float) -> (loss: Float, gradient: Tensor) {
        precondition(z.shape.count == 2 && z.shape[0] % 2 == 0 && z.shape[0] >= 4, "NT-Xent needs 2N ≥ 4 rows of two views")
        let rows = z.shape[0], width = z.shape[1], half = rows / 2
        // Normalised rows (a zero row stays zero: it has no direction to pull).
        var u = z.data, norms = [Float](repeating: 0, count: rows)
        for i in 0..<rows {
            var sum: Float = 0
            for d in 0..<width { sum += z.data[i * width + d] * z.data[i * width + d] }
            norms[i] = max(sum.squareRoot(), 1e-12)
            for d in 0..<width { u[i * width + d] /= norms[i] }
        }
        var similarity = [Float](repeating: 0, count: rows * rows)
        for i in 0..<rows {
            for k in i..<rows {
                var dot: Float = 0
                for d in 0..<width { dot += u[i * width + d] * u[k * width + d] }
                similarity[i * rows + k] = dot / temperature
                similarity[k * rows + i] = dot / temperature
            }
        }
        // G = ∂L/∂s, row by row, with the log-sum-exp shifted by the row's maximum.
        var g = [Float](repeating: 0, count: rows * rows)
        var total: Double = 0
        let scale = 1 / Float(rows)
        for i in 0..<rows {
            let positive = (i + half) % rows
            var top = -Float.infinity
            for k in 0..<rows where k != i { top = max(top, similarity[i * rows + k]) }
            var sum: Float = 0
            for k in 0..<rows where k != i { sum += expf(similarity[i * rows + k] - top) }
            total += Double(-similarity[i * rows + positive] + top + logf(sum))
            for k in 0..<rows where k != i {
                let p = expf(similarity[i * rows + k] - top) / sum
                g[i * rows + k] = scale * (p - (k == positive ? 1 : 0))
            }
        }
        // ∂L/∂u = (G + Gᵀ) u / τ, then through the normalisation.
        var gradient = Tensor(zeros: [rows, width])
        for j in 0..<rows {
            var du = [Float](repeating: 0, count: width)
            for k in 0..<rows {
                let weight = (g[j * rows + k] + g[k * rows + j]) / temperature
                if weight == 0 { continue }
                for d in 0..<width { du[d] += weight * u[k * width + d] }
            }
            var along: Float = 0
            for d in 0..<width { along += u[j * width + d] * du[d] }
            for d in 0..<width { gradient.data[j * width + d] = (du[d] - u[j * width + d] * along) / norms[j] }
        }
        return (Float(total / Double(rows)), gradient)
    }
}

/// SimSiam's symmetric negative cosine on 2N predictions p and projections z, where rows i
/// and i + N are two views of one image: each view's prediction is pulled towards the other
/// view's projection, which is held fixed (stop-gradient), so no negatives are needed:
///
///     L = −(1 / 2N) Σᵢ cos(pᵢ, sg(z_{p(i)})),   p(i) = (i + N) mod 2N
///
/// Gradient (to p only): ∂L/∂pᵢ = −(1 / 2N) (ẑ − p̂ (p̂ · ẑ)) / ‖pᵢ‖, with ẑ = z_{p(i)} / ‖z_{p(i)}‖.
public enum NegativeCosine {
    /// The loss and ∂L/∂p of predictions `p` [2N, D] against projections `z` [2N, D].
    public static func loss(predictions p: Tensor, targets z: Tensor) -> (loss: Float, gradient: Tensor) {
        precondition(p.shape == z.shape && p.shape.count == 2 && p.shape[0] % 2 == 0 && p.shape[0] >= 2,
                     "the negative cosine needs 2N rows of two views, predictions and projections alike")
        let rows = p.shape[0], width = p.shape[1], half = rows / 2
        var gradient = Tensor(zeros: [rows, width])
        var total: Double = 0
        for i in 0..<rows {
            let partner = (i + half) % rows
            var pp: Float = 0, zz: Float = 0, pz: Float = 0
            for d in 0..<width {
                let a = p.data[i * width + d], b = z.data[partner * width + d]
                pp += a * a; zz += b * b; pz += a * b
            }
            let pNorm = max(pp.squareRoot(), 1e-12), zNorm = max(zz.squareRoot(), 1e-12)
            let cosine = pz / (pNorm * zNorm)
            total += Double(cosine)
            let scale = -1 / (Float(rows) * pNorm)
            for d in 0..<width {
                let pHat = p.data[i * width + d] / pNorm, zHat = z.data[partner * width + d] / zNorm
                gradient.data[i * width + d] = scale * (zHat - pHat * cosine)
            }
        }
        return (Float(-total / Double(rows)), gradient)
    }
}

/// SimCLR's projection head on the backbone's embedding, used only while pretraining and
/// dropped after: g(h) = W₂ · relu(W₁ h + b₁) + b₂. The contrastive loss is computed on g(h),
/// so the embedding h keeps information the loss would discard (SimCLR, §4.2).
public final class ProjectionHead: Layer {
    public let first: Linear
    public let second: Linear
    public var isTraining = false
    private var active: [Bool] = []
    public var children: [(name: String, layer: any Layer)] { [("0", first), ("2", second)] }

    public init(inFeatures: Int, hidden: Int, outFeatures: Int, random: inout SplitMix64) {
        first = Linear(inFeatures: inFeatures, outFeatures: hidden, random: &random)
        second = Linear(inFeatures: hidden, outFeatures: outFeatures, random: &random)
    }

    public func callAsFunction(_ h: Tensor) -> Tensor { forward(h) }

    public func forward(_ h: Tensor) -> Tensor {
        var hidden = first(h)
        active = hidden.data.map { $0 > 0 }
        for i in hidden.data.indices where !active[i] { hidden.data[i] = 0 }
        return second(hidden)
    }

    /// ∂L/∂h from ∂L/∂g(h), accumulating the head's gradients.
    public func backward(_ dz: Tensor) -> Tensor {
        var dHidden = second.backward(dz)
        for i in dHidden.data.indices where !active[i] { dHidden.data[i] = 0 }
        return first.backward(dHidden)
    }
}
