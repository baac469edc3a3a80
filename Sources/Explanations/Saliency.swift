import Imaging

/// The class-probability function being explained: a batch of images (NCHW, values in
/// [0, 1], the model's input size) → probabilities [N, classes]. The model owner applies its
/// own normalisation inside.
public typealias ProbabilityFunction = (_ images: [Float], _ batch: Int) -> [Float]

/// How hidden pixels are filled in a masked image I ⊙ m + fill ⊙ (1 − m).
public enum MaskFill: String, Sendable, CaseIterable {
    /// 0, as in the paper.
    case zero
    /// The image's own mean per channel.
    case mean
    /// A blurred copy of the image (box blur, radius size/16): hides detail, keeps context.
    case blur
}

public enum SaliencyMethod: String, Sendable, CaseIterable {
    /// S(λ) = Σ_m f(I ⊙ m) · m(λ) / (k · p)
    case rise
    /// S(λ) = Σ_m (1 − f(I ⊙ m)) · m̄(λ) / (k · P̂(λ)),  m̄ = 1 − m,  P̂(λ) = (1/k) Σ_m m̄(λ);
    /// a pixel no mask ever hid (P̂ = 0, possible for small k) gets 0: no evidence.
    case invrise
}

/// What the explainer reports after each batch of masks.
public struct SaliencyProgress: Sendable {
    public var masksDone: Int
    public var masksTotal: Int
    /// The heatmap from the masks so far (absolute values, not stretched).
    public var heatmap: Image
    /// Largest change of any pixel since the previous batch.
    public var change: Float
}

public struct SaliencyResult: Sendable {
    /// Absolute saliency, one channel, the image's size. Display scaling is the caller's
    /// explicit choice (see `SaliencyDisplay`).
    public var heatmap: Image
    public var masksUsed: Int
    public var cancelled: Bool
    /// The class explained and its probability on the unmasked image.
    public var targetClass: Int
    public var targetProbability: Float
}

/// RISE and InvRISE (the main paper, sec. 3.3) over a probability function.
public struct SaliencyExplainer {
    public var method: SaliencyMethod = .invrise
    public var masks = RISEMasks()
    public var fill: MaskFill = .zero
    /// Masked images per forward batch.
    public var batchSize = 32
    /// Stop early once no pixel moves more than this between batches (nil: use all masks).
    public var convergenceTolerance: Float? = nil

    public init(method: SaliencyMethod = .invrise, masks: RISEMasks = RISEMasks(), fill: MaskFill = .zero) {
        self.method = method
        self.masks = masks
        self.fill = fill
    }

    /// Explains `image` (already at the model's input size and channel count, values in
    /// [0, 1]) for class `target` (nil: the predicted class). `progress` is called after
    /// every batch; returning false cancels and returns the heatmap so far.
    public func explain(_ image: Image, target: Int? = nil, classCount: Int,
                        probabilities: ProbabilityFunction,
                        progress: (SaliencyProgress) -> Bool = { _ in true }) -> SaliencyResult {
        let (width, height, channels) = (image.width, image.height, image.channels)
        let plane = width * height
        let unmasked = probabilities(image.pixels, 1)
        let targetClass = target ?? (0..<classCount).max { unmasked[$0] < unmasked[$1] }!
        let background = fillImage(for: image)

        var weighted = [Float](repeating: 0, count: plane)   // Σ weight_i · mask term_i
        var normaliser = [Float](repeating: 0, count: plane)  // Σ m̄ (InvRISE)
        var previous = [Float](repeating: 0, count: plane)
        var maskBatch = [Float](repeating: 0, count: batchSize * plane)
        var inputs = [Float](repeating: 0, count: batchSize * channels * plane)
        var done = 0
        var cancelled = false
        var heatmap = Image(width: width, height: height, channels: 1)
        while done < masks.count {
            let n = min(batchSize, masks.count - done)
            maskBatch.withUnsafeMutableBufferPointer { m in
                for b in 0..<n { masks.write(mask: done + b, width: width, height: height, into: m.baseAddress! + b * plane) }
            }
            // I ⊙ m + fill ⊙ (1 − m)
            image.pixels.withUnsafeBufferPointer { source in
                background.withUnsafeBufferPointer { back in
                    maskBatch.withUnsafeBufferPointer { m in
                        inputs.withUnsafeMutableBufferPointer { out in
                            for b in 0..<n {
                                for c in 0..<channels {
                                    let base = (b * channels + c) * plane
                                    for i in 0..<plane {
                                        let keep = m[b * plane + i]
                                        out[base + i] = back[c * plane + i] + (source[c * plane + i] - back[c * plane + i]) * keep
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let scores = probabilities(n == batchSize ? inputs : Array(inputs[0..<(n * channels * plane)]), n)
            maskBatch.withUnsafeBufferPointer { m in
                for b in 0..<n {
                    let f = scores[b * classCount + targetClass]
                    let mask = m.baseAddress! + b * plane
                    switch method {
                    case .rise:
                        for i in 0..<plane { weighted[i] += f * mask[i] }
                    case .invrise:
                        let w = 1 - f
                        for i in 0..<plane {
                            let hidden = 1 - mask[i]
                            weighted[i] += w * hidden
                            normaliser[i] += hidden
                        }
                    }
                }
            }
            done += n
            // The running heatmap: the estimator with the k masks used so far.
            var change: Float = 0
            for i in 0..<plane {
                let value: Float
                switch method {
                case .rise: value = weighted[i] / (Float(done) * masks.keepProbability)
                case .invrise: value = normaliser[i] > 0 ? weighted[i] / normaliser[i] : 0
                }
                change = max(change, abs(value - previous[i]))
                previous[i] = value
            }
            heatmap = Image(width: width, height: height, channels: 1, pixels: previous)
            if !progress(SaliencyProgress(masksDone: done, masksTotal: masks.count, heatmap: heatmap, change: change)) {
                cancelled = true
                break
            }
            if let tolerance = convergenceTolerance, done > n, change < tolerance { break }
        }
        return SaliencyResult(heatmap: heatmap, masksUsed: done, cancelled: cancelled,
                              targetClass: targetClass, targetProbability: unmasked[targetClass])
    }

    /// The per-pixel fill values (channels × plane).
    func fillImage(for image: Image) -> [Float] {
        switch fill {
        case .zero:
            return [Float](repeating: 0, count: image.pixels.count)
        case .mean:
            var out = image.pixels
            for c in 0..<image.channels {
                let mean = image.plane(c).mean
                for i in 0..<image.planeSize { out[c * image.planeSize + i] = mean }
            }
            return out
        case .blur:
            return boxBlur(image, radius: max(1, max(image.width, image.height) / 16)).pixels
        }
    }
}

/// Box blur with edge pixels repeated, separable (two passes).
func boxBlur(_ image: Image, radius: Int) -> Image {
    var out = image
    let (w, h) = (image.width, image.height)
    let span = Float(2 * radius + 1)
    for c in 0..<image.channels {
        var temporary = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w {
                var sum: Float = 0
                for d in -radius...radius { sum += image[c, y, min(max(x + d, 0), w - 1)] }
                temporary[y * w + x] = sum / span
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                var sum: Float = 0
                for d in -radius...radius { sum += temporary[min(max(y + d, 0), h - 1) * w + x] }
                out[c, y, x] = sum / span
            }
        }
    }
    return out
}

/// How a heatmap's absolute values map to colours for display.
public enum SaliencyDisplay: Sendable, Equatable {
    /// A fixed range, the same for every image (a normal image's flat map stays calm).
    case fixed(ClosedRange<Float>)
    /// This image's own minimum to maximum (shows structure, exaggerates flat maps).
    case imageMinMax

    public func range(for heatmap: Image) -> ClosedRange<Float> {
        switch self {
        case .fixed(let range): return range
        case .imageMinMax:
            let low = heatmap.pixels.min() ?? 0, high = heatmap.pixels.max() ?? 1
            return low < high ? low...high : low...(low + 1e-6)
        }
    }
}
