/// "Right for the right reasons" on the classifier's own saliency: evidence for the explained
/// class (NOK) that a part shows outside its known defect region is penalised, so the
/// decision comes from the region a person marked.
///
/// The saliency is the class activation map of the network's last stage. With a global
/// average pool before `fc`, the logit gap splits exactly into a sum over cells:
///
///     cam(n, y, x) = Σ_c (W[t, c] − W[o, c]) · f(n, c, y, x)
///     z_t − z_o   = mean over cells of cam + b_t − b_o
///
/// (t the explained class, o the other, f the last stage's features). A cell counts as the
/// region where its mask share s > 0 (a cell of the last stage sees far more than its own
/// 32 × 32 pixels, so a partly covered cell is not blamed); outside, u = 1:
///
///     L  = Σₙ wₙ · Σ_cells u · relu(cam) / Σ_cells u   /  Σₙ wₙ
///     ∂L/∂cam = wₙ · u · [cam > 0] / (Σ_cells u · Σₙ wₙ)
///
/// Only images with a region take part (wₙ > 0 and some s > 0): a good part has none, and
/// its decision is the image loss's. Ross et al. (2017) penalise the input gradient instead;
/// that needs second derivatives, which the layers do not have — the class activation map is
/// the saliency whose gradient is first-order.
public enum RightReasonsLoss {
    /// The loss and ∂L/∂cam of class maps [N, 1, h, w] against mask shares of the same shape
    /// (`DefectMapLoss.cellShares`), one weight per image.
    public static func loss(classMaps cam: Tensor, shares: Tensor, weights: [Float]) -> (loss: Float, gradient: Tensor) {
        precondition(cam.shape == shares.shape && cam.shape.count == 4 && weights.count == cam.shape[0],
                     "class maps, shares and weights of one batch")
        let n = cam.shape[0], cells = cam.count / max(n, 1)
        var gradient = Tensor(zeros: cam.shape)
        var outside = [Float](repeating: 0, count: n)
        var total: Float = 0
        for image in 0..<n where weights[image] > 0 {
            let range = (image * cells)..<((image + 1) * cells)
            guard range.contains(where: { shares.data[$0] > 0 }) else { continue }
            outside[image] = Float(range.filter { shares.data[$0] == 0 }.count)
            if outside[image] > 0 { total += weights[image] }
        }
        guard total > 0 else { return (0, gradient) }
        var loss: Float = 0
        for image in 0..<n where outside[image] > 0 && weights[image] > 0 {
            let scale = weights[image] / (outside[image] * total)
            for i in (image * cells)..<((image + 1) * cells) where shares.data[i] == 0 && cam.data[i] > 0 {
                loss += scale * cam.data[i]
                gradient.data[i] = scale
            }
        }
        return (loss, gradient)
    }
}
