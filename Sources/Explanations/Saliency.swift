#if canImport(Glibc)
import Glibc
#endif
import Imaging

/// The class-probability function being explained: a batch of images (NCHW, values in
/// [0, 1], the model's input size) → probabilities [N, classes]. The model owner applies its
/// own normalisation inside.
public typealias ProbabilityFunction = (_ images: [Float], _ batch: Int) -> [Float]

/// How hidden pixels are filled in a masked image I ⊙ m + fill ⊙ (1 − m).
///
/// The fill decides what the map means. A defect classifier sees a black blob as a defect,
/// so with `zero` every masked copy stays NOK and the map is flat; the fills that stay in
/// distribution (`blur`, `mean`, and above all the normal-part fills) make InvRISE ask "how
/// much does making this region look normal lower the confidence?". Docs/Explanations.md
/// has the measured comparison that chose the default.
public enum MaskFill: String, Sendable, CaseIterable {
    /// 0, as in the paper.
    case zero
    /// The image's own mean per channel.
    case mean
    /// A blurred copy of the image (box blur, radius size/16): hides detail, keeps context.
    case blur
    /// The per-pixel median of the normal (OK) parts (`NormalParts.median`).
    case median
    /// The same pixels of the best aligned normal part (`NormalParts.nearest`).
    case normal

    /// Whether the fill needs normal parts; without them the explainer uses `blur`.
    public var needsNormalParts: Bool { self == .median || self == .normal }

    /// The fill the explainer uses unless told otherwise (chosen by measurement).
    public static let standard = MaskFill.normal
}

public enum SaliencyMethod: String, Sendable, CaseIterable {
    /// S(λ) = Σ_m f(I ⊙ m) · m(λ) / (k · p)
    case rise
    /// S(λ) = Σ_m (1 − f(I ⊙ m)) · m̄(λ) / (k · P̂(λ)),  m̄ = 1 − m,  P̂(λ) = (1/k) Σ_m m̄(λ);
    /// a pixel no mask ever hid (P̂ = 0, possible for small k) gets 0: no evidence.
    case invrise
}

/// How far a map stands above its own sampling noise.
///
/// The masks are split into two independent halves (even and odd mask numbers) and each
/// half gives its own map, A and B. Their half-difference D = (A − B) / 2 is pure sampling
/// noise with the same spread and the same blob-shaped spatial structure as the noise in the
/// full map S ≈ (A + B) / 2, so whatever a statistic shows on D, noise alone shows on S.
/// The statistic is the map's *peak*: the mean of its top 1 % of pixels above its median.
/// A defect lights up a small region, so the peak is what an inspector sees, and the
/// contrast is peak(S) / peak(D): about 1 for a map that is only noise, large for a map whose
/// hot region its masks measured well. (The spread of the whole map would not do: a defect
/// covering 2 % of the part barely moves it, however clear the map.) σ = RMS(D) is reported
/// as the noise.
public struct HeatmapNoise: Sendable, Equatable {
    /// σ, the noise of one pixel of the map, in the map's own units.
    public var noise: Float
    /// How far the map's top 1 % stands above its median, in the map's own units.
    public var peak: Float
    /// The same for the noise map D.
    public var noisePeak: Float
    /// peak / noisePeak (infinite for a noise-free map with a peak, 0 for one without).
    public var contrast: Float
    /// InvRISE only: how much hiding the map's hottest region lowered the confidence below the
    /// unmasked image's, max S − (1 − f(I)), on average over the masks that hid it. When no
    /// region's hiding lowers it (masked copies of a clean part that only ever look *more*
    /// defective), the map's shape is the shape of the perturbation's artefacts, not of the
    /// decision. nil for RISE.
    public var lowering: Float? = nil
    /// InvRISE only: the unmasked part's probability of the explained class, f(I). A part the
    /// model calls that class with near certainty moves little in probability however clear
    /// its evidence (0.999 → 0.996 is a large step in the model's own log-odds), so the
    /// smallest drop that counts is measured in log-odds there (`minimumDrop`). nil for RISE.
    public var confidence: Float? = nil

    /// Below this contrast a map is shown as flat: its hot region is not told apart from the
    /// hot spots that the noise of its masks alone makes (Docs/Explanations.md: the contrasts
    /// measured on OK and NOK parts).
    public static let flatBelow: Float = 2
    /// Below this peak (in probability, the map's unit) a map is flat whatever its contrast:
    /// a region that moves the confidence by less than half a percent decides nothing, however
    /// precisely that is measured.
    public static let minimumPeak: Float = 0.005
    /// The share of pixels whose mean is the peak.
    static let peakFraction = 0.01

    /// The log-odds step `minimumPeak` is at f(I) = ½: logit(½) − logit(½ − 0.005) ≈ 0.02.
    static let minimumLogOddsDrop: Float = 0.02

    /// The smallest drop of the explained class's probability that decides something:
    /// `minimumPeak`, or — for a part predicted as that class (f(I) ≥ ½) — the drop that moves
    /// its log-odds by `minimumLogOddsDrop`, which at f(I) = 0.999 is 0.00002, since there
    /// the logit, not the probability, still says how strongly a region counts:
    /// f − σ(logit f − 0.02).
    public var minimumDrop: Float {
        guard let f = confidence, f >= 0.5 else { return Self.minimumPeak }
        let p = Double(min(max(f, 1e-7), 1 - 1e-7))
        let logit = log(p / (1 - p)) - Double(Self.minimumLogOddsDrop)
        return min(Self.minimumPeak, Float(p - 1 / (1 + exp(-logit))))
    }

    public var isFlat: Bool { contrast < Self.flatBelow || peak < minimumDrop || (lowering ?? 1) < minimumDrop }

    /// Before any pair of masks: nothing measured yet.
    public static let unmeasured = HeatmapNoise(noise: 0, peak: 0, noisePeak: 0)

    public init(noise: Float, peak: Float, noisePeak: Float) {
        self.noise = noise
        self.peak = peak
        self.noisePeak = noisePeak
        contrast = noisePeak > 0 ? peak / noisePeak : (peak > 0 ? .infinity : 0)
    }

    /// From the two half maps and the full map (same size).
    public init(halfA: [Float], halfB: [Float], full: [Float]) {
        let difference = zip(halfA, halfB).map { ($0 - $1) / 2 }
        let noise = (difference.reduce(0) { $0 + $1 * $1 } / Float(max(difference.count, 1))).squareRoot()
        self.init(noise: noise, peak: Self.peak(of: full), noisePeak: Self.peak(of: difference))
    }

    /// Mean of the top `peakFraction` of the values minus their median. By selection
    /// (quickselect), not sorting: the map is measured after every batch of masks.
    static func peak(of values: [Float]) -> Float {
        guard !values.isEmpty else { return 0 }
        var scratch = values
        let count = scratch.count
        let top = max(1, Int((Double(count) * peakFraction).rounded()))
        return scratch.withUnsafeMutableBufferPointer { v in
            // After selecting rank count − top, the top values are the slots above it;
            // the median (rank count / 2 ≤ count − top) is then selected below it.
            select(v, rank: count - top, in: 0..<count)
            var sum: Float = 0
            for i in (count - top)..<count { sum += v[i] }
            if count / 2 < count - top { select(v, rank: count / 2, in: 0..<(count - top)) }
            return sum / Float(top) - v[count / 2]
        }
    }

    /// Rearranges `v[range]` so that `v[rank]` holds the value it would hold if the range
    /// were sorted, with no larger value before it and no smaller one after it.
    static func select(_ v: UnsafeMutableBufferPointer<Float>, rank: Int, in range: Range<Int>) {
        var low = range.lowerBound, high = range.upperBound - 1
        while low < high {
            // Median of three as the pivot.
            let middle = low + (high - low) / 2
            if v[middle] < v[low] { v.swapAt(middle, low) }
            if v[high] < v[low] { v.swapAt(high, low) }
            if v[high] < v[middle] { v.swapAt(high, middle) }
            let pivot = v[middle]
            var i = low, j = high
            while i <= j {
                while v[i] < pivot { i += 1 }
                while pivot < v[j] { j -= 1 }
                if i <= j {
                    v.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if rank <= j { high = j } else if rank >= i { low = i } else { return }
        }
    }
}

/// What the explainer reports after each batch of masks.
public struct SaliencyProgress: Sendable {
    public var masksDone: Int
    public var masksTotal: Int
    /// The heatmap from the masks so far (absolute values, not stretched).
    public var heatmap: Image
    /// The map's noise and contrast so far.
    public var noise: HeatmapNoise
}

public struct SaliencyResult: Sendable {
    /// Absolute saliency, one channel, the image's size. Display scaling is the caller's
    /// explicit choice (see `HeatmapDisplay`).
    public var heatmap: Image
    public var masksUsed: Int
    public var cancelled: Bool
    /// The class explained and its probability on the unmasked image.
    public var targetClass: Int
    public var targetProbability: Float
    /// Every class's probability on the unmasked image.
    public var probabilities: [Float]
    /// The fill actually used (a normal-part fill without normal parts falls back to blur).
    public var fill: MaskFill
    /// The map's sampling noise and contrast.
    public var noise: HeatmapNoise
}

/// When the explainer may stop before its last mask: once the map is measured well enough
/// that more masks would not change what an inspector sees.
public struct SaliencyConvergence: Sendable, Equatable {
    /// Never stop before this many masks (the noise estimate needs some).
    public var minimumMasks: Int
    /// Stop once the contrast reaches this: the map's structure stands this far above its noise.
    public var contrast: Float
    /// Or once the noise is below this (map units): a map this precise that is still flat is
    /// flat, and more masks will not make it otherwise.
    public var noise: Float

    public init(minimumMasks: Int = 250, contrast: Float = 8, noise: Float = 0.002) {
        self.minimumMasks = minimumMasks
        self.contrast = contrast
        self.noise = noise
    }

    func isReached(masks: Int, _ estimate: HeatmapNoise) -> Bool {
        masks >= minimumMasks && (estimate.contrast >= contrast || estimate.noise <= noise)
    }
}

/// RISE and InvRISE (the main paper, sec. 3.3) over a probability function.
public struct SaliencyExplainer: Sendable {
    public var method: SaliencyMethod = .invrise
    public var masks = RISEMasks()
    public var fill: MaskFill = .standard
    /// The OK parts the normal-part fills draw from.
    public var normalParts: NormalParts? = nil
    /// Masked images per forward batch.
    public var batchSize = 32
    /// Stop early once the map is measured well enough (nil: use all masks).
    public var convergence: SaliencyConvergence? = nil

    public init(method: SaliencyMethod = .invrise, masks: RISEMasks = RISEMasks(), fill: MaskFill = .standard,
                normalParts: NormalParts? = nil) {
        self.method = method
        self.masks = masks
        self.fill = fill
        self.normalParts = normalParts
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
        let (background, usedFill) = fillImage(for: image)

        // Two independent halves (even and odd masks) of the sums, for the noise estimate.
        var weighted = [[Float]](repeating: [Float](repeating: 0, count: plane), count: 2)  // Σ weight_i · mask term_i
        var normaliser = [[Float]](repeating: [Float](repeating: 0, count: plane), count: 2)  // Σ m̄ (InvRISE)
        var current = [Float](repeating: 0, count: plane)
        var halves = [[Float]](repeating: [Float](repeating: 0, count: plane), count: 2)
        var maskBatch = [Float](repeating: 0, count: batchSize * plane)
        var inputs = [Float](repeating: 0, count: batchSize * channels * plane)
        var done = 0
        var cancelled = false
        var heatmap = Image(width: width, height: height, channels: 1)
        var estimate = HeatmapNoise.unmeasured
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
                    let half = (done + b) % 2
                    let f = scores[b * classCount + targetClass]
                    let mask = m.baseAddress! + b * plane
                    weighted[half].withUnsafeMutableBufferPointer { sum in
                        switch method {
                        case .rise:
                            for i in 0..<plane { sum[i] += f * mask[i] }
                        case .invrise:
                            let w = 1 - f
                            normaliser[half].withUnsafeMutableBufferPointer { hiddenSum in
                                for i in 0..<plane {
                                    let hidden = 1 - mask[i]
                                    sum[i] += w * hidden
                                    hiddenSum[i] += hidden
                                }
                            }
                        }
                    }
                }
            }
            done += n
            // The running heatmap (the estimator over the masks so far) and its two halves.
            let counts = [Float((done + 1) / 2), Float(done / 2)]
            func estimator(_ sum: Float, _ hidden: Float, masks: Float) -> Float {
                switch method {
                case .rise: return masks > 0 ? sum / (masks * self.masks.keepProbability) : 0
                case .invrise: return hidden > 0 ? sum / hidden : 0
                }
            }
            for i in 0..<plane {
                let value = estimator(weighted[0][i] + weighted[1][i], normaliser[0][i] + normaliser[1][i], masks: Float(done))
                halves[0][i] = estimator(weighted[0][i], normaliser[0][i], masks: counts[0])
                halves[1][i] = estimator(weighted[1][i], normaliser[1][i], masks: counts[1])
                current[i] = value
            }
            heatmap = Image(width: width, height: height, channels: 1, pixels: current)
            estimate = done >= 2 ? HeatmapNoise(halfA: halves[0], halfB: halves[1], full: current) : .unmeasured
            if method == .invrise {
                estimate.lowering = (current.max() ?? 0) - (1 - unmasked[targetClass])
                estimate.confidence = unmasked[targetClass]
            }
            if !progress(SaliencyProgress(masksDone: done, masksTotal: masks.count, heatmap: heatmap, noise: estimate)) {
                cancelled = true
                break
            }
            if let convergence, convergence.isReached(masks: done, estimate) { break }
        }
        return SaliencyResult(heatmap: heatmap, masksUsed: done, cancelled: cancelled,
                              targetClass: targetClass, targetProbability: unmasked[targetClass], probabilities: unmasked,
                              fill: usedFill, noise: estimate)
    }

    /// The per-pixel fill values (channels × plane) and the fill they are: a normal-part fill
    /// without normal parts of the image's shape falls back to blur.
    public func fillImage(for image: Image) -> ([Float], MaskFill) {
        let blurred = { (boxBlur(image, radius: max(1, max(image.width, image.height) / 16)).pixels, MaskFill.blur) }
        switch fill {
        case .zero:
            return ([Float](repeating: 0, count: image.pixels.count), .zero)
        case .mean:
            var out = image.pixels
            for c in 0..<image.channels {
                let mean = image.plane(c).mean
                for i in 0..<image.planeSize { out[c * image.planeSize + i] = mean }
            }
            return (out, .mean)
        case .median, .normal:
            if let normalParts, normalParts.median.width == image.width, normalParts.median.height == image.height,
               normalParts.median.channels == image.channels {
                return fill == .median ? (normalParts.median.pixels, .median)
                    : (normalParts.nearest(to: image).pixels, .normal)
            }
            return blurred()
        case .blur:
            return blurred()
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

