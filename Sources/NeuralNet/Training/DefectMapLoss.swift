#if canImport(Glibc)
import Glibc
#endif

/// The defect head's loss: binary cross-entropy of each cell's logit z against the share t
/// of the cell that is defect (0 … 1), with the defect cells weighted up so that a defect
/// covering a few percent of a part counts as much as the rest of it:
///
///     ℓ(z, t) = −[ α · t · log σ(z) + (1 − t) · log(1 − σ(z)) ]
///     L = Σₙ wₙ Σ_cells ℓ / Σₙ wₙ · cells
///     ∂L/∂z = wₙ · [ (1 − t) · σ(z) − α · t · (1 − σ(z)) ] / (Σₙ wₙ · cells)
///
/// α = Σ(1 − t) / Σ t over the weighted cells of the batch, held between 1 and 50 (a
/// constant of the step: no gradient flows through it); wₙ ≥ 0 weighs image n (0 leaves it
/// out: the caller does not know its map).
public enum DefectMapLoss {
    public static let maximumPositiveWeight: Float = 50

    /// The loss and ∂L/∂z of logits and targets [N, 1, h, w] with one weight per image.
    public static func loss(logits: Tensor, targets: Tensor, weights: [Float]) -> (loss: Float, gradient: Tensor) {
        precondition(logits.shape == targets.shape && logits.shape.count == 4 && weights.count == logits.shape[0],
                     "logits, targets and weights of one batch")
        let n = logits.shape[0], cells = logits.count / max(n, 1)
        var positive: Float = 0, negative: Float = 0, total: Float = 0
        for image in 0..<n where weights[image] > 0 {
            for i in (image * cells)..<((image + 1) * cells) {
                positive += weights[image] * targets.data[i]
                negative += weights[image] * (1 - targets.data[i])
            }
            total += weights[image] * Float(cells)
        }
        var gradient = Tensor(zeros: logits.shape)
        guard total > 0 else { return (0, gradient) }
        let alpha = positive > 0 ? min(max(negative / positive, 1), maximumPositiveWeight) : 1
        var loss: Float = 0
        for image in 0..<n where weights[image] > 0 {
            let w = weights[image] / total
            for i in (image * cells)..<((image + 1) * cells) {
                let z = logits.data[i], t = targets.data[i]
                // log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z), both stable.
                loss += w * (alpha * t * softplus(-z) + (1 - t) * softplus(z))
                let p = 1 / (1 + expf(-z))
                gradient.data[i] = w * ((1 - t) * p - alpha * t * (1 - p))
            }
        }
        return (loss, gradient)
    }

    /// The share of each of h × w cells that the masks [N, 1, H, W] cover — cell (y, x) spans
    /// rows ⌊y·H/h⌋ ..< ⌊(y+1)·H/h⌋ and the columns alike — as targets [N, 1, h, w]: the mean
    /// of the mask over the cell (a mask's values are 0 or 1, so the mean is the covered share).
    public static func cellShares(of masks: Tensor, height h: Int, width w: Int) -> Tensor {
        precondition(masks.shape.count == 4 && masks.shape[1] == 1, "masks of one channel")
        let (n, mh, mw) = (masks.shape[0], masks.shape[2], masks.shape[3])
        var shares = [Float](repeating: 0, count: n * h * w)
        for image in 0..<n {
            let plane = image * mh * mw
            for cy in 0..<h {
                let rows = (cy * mh / h)..<max((cy + 1) * mh / h, cy * mh / h + 1)
                for cx in 0..<w {
                    let columns = (cx * mw / w)..<max((cx + 1) * mw / w, cx * mw / w + 1)
                    var covered: Float = 0
                    for y in rows { for x in columns { covered += masks.data[plane + y * mw + x] } }
                    shares[(image * h + cy) * w + cx] = covered / Float(rows.count * columns.count)
                }
            }
        }
        return Tensor(shape: [n, 1, h, w], data: shares)
    }

    /// log(1 + eᶻ) without overflow.
    static func softplus(_ z: Float) -> Float { z > 0 ? z + log1pf(expf(-z)) : log1pf(expf(z)) }
}
