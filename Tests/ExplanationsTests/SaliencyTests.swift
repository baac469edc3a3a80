import Explanations
import Imaging
import SeededRandom
import Testing

@Suite struct SaliencyTests {
    /// A two-class "model" whose NOK probability is the mean brightness of a known square
    /// (the defect): hiding the square lowers it.
    static func squareModel(size: Int, square: PixelRect) -> ProbabilityFunction {
        { images, batch in
            var out: [Float] = []
            for b in 0..<batch {
                var sum: Float = 0
                for y in square.y..<square.maxY {
                    for x in square.x..<square.maxX { sum += images[b * size * size + y * size + x] }
                }
                let nok = min(max(sum / Float(square.area), 0), 1)
                out += [1 - nok, nok]
            }
            return out
        }
    }

    static func defectImage(size: Int, square: PixelRect) -> Image {
        var image = Image(width: size, height: size, channels: 1, filledWith: 0.3)
        for y in square.y..<square.maxY { for x in square.x..<square.maxX { image[0, y, x] = 0.95 } }
        return image
    }

    /// A mask is the grid of kept cells, resized bilinearly to (grid + 1) cells and cropped
    /// at the mask's random offset: the definition, written out with Image.resized.
    @Test(arguments: [(128, 128, 8), (100, 60, 7), (33, 47, 4)])
    func masksAreTheResizedGridCropped(width: Int, height: Int, grid: Int) {
        let masks = RISEMasks(count: 20, grid: grid, keepProbability: 0.5, seed: 4)
        var kept = 0
        for index in 0..<20 {
            let mask = masks.mask(index, width: width, height: height)
            // Re-derive the grid and the offset from the same random stream.
            var random = SplitMix64(seed: SplitMix64.mix(4) ^ SplitMix64.mix(UInt64(index) &+ 0x5249_5345))
            var cells = Image(width: grid, height: grid, channels: 1)
            for i in 0..<(grid * grid) { cells.pixels[i] = random.unit() < 0.5 ? 1 : 0 }
            let cellWidth = (width + grid - 1) / grid, cellHeight = (height + grid - 1) / grid
            let offsetX = random.integer(0, cellWidth - 1), offsetY = random.integer(0, cellHeight - 1)
            let up = cells.resized(width: (grid + 1) * cellWidth, height: (grid + 1) * cellHeight)
            for y in 0..<height {
                for x in 0..<width {
                    #expect(mask.pixels[y * width + x] == up.pixels[(y + offsetY) * up.width + x + offsetX])
                }
            }
            kept += mask.pixels.filter { $0 > 0.5 }.count
        }
        #expect(kept > 0 && kept < 20 * width * height)
    }

    /// The peak by selection is the peak by sorting: the mean of the top 1 % minus the median.
    @Test func peakBySelectionIsPeakBySorting() {
        var random = SplitMix64(seed: 12)
        for count in [1, 2, 3, 99, 100, 101, 1000, 16384] {
            for ties in [false, true] {
                let values = (0..<count).map { _ in ties ? Float(random.integer(0, 5)) : random.normal() }
                let sorted = values.sorted()
                let top = max(1, Int((Double(count) * 0.01).rounded()))
                let expected = sorted[(count - top)...].reduce(0, +) / Float(top) - sorted[count / 2]
                let noise = HeatmapNoise(halfA: values, halfB: values, full: values)
                #expect(abs(noise.peak - expected) <= 1e-5 * max(1, abs(expected)), "count \(count), ties \(ties)")
            }
        }
    }

    @Test(arguments: SaliencyMethod.allCases)
    func estimatorFollowsTheFormula(method: SaliencyMethod) {
        // A 4×4 image, k = 3 masks, f = the mean of the masked image (class 1).
        let image = Image(width: 4, height: 4, channels: 1, pixels: (0..<16).map { Float($0) / 15 })
        let masks = RISEMasks(count: 3, grid: 2, keepProbability: 0.5, seed: 9)
        let model: ProbabilityFunction = { images, batch in
            (0..<batch).flatMap { b -> [Float] in
                let mean = images[(b * 16)..<(b * 16 + 16)].reduce(0, +) / 16
                return [1 - mean, mean]
            }
        }
        var explainer = SaliencyExplainer(method: method, masks: masks, fill: .zero)
        explainer.batchSize = 2
        let result = explainer.explain(image, target: 1, classCount: 2, probabilities: model)
        // The same sums, written out from the definitions.
        let m = (0..<3).map { masks.mask($0, width: 4, height: 4).pixels }
        let f = m.map { mask in zip(image.pixels, mask).map { $0 * $1 }.reduce(0, +) / 16 }
        for pixel in 0..<16 {
            let expected: Float
            switch method {
            case .rise:
                expected = (0..<3).map { f[$0] * m[$0][pixel] }.reduce(0, +) / (3 * 0.5)
            case .invrise:
                let hidden = (0..<3).map { 1 - m[$0][pixel] }
                let estimate = hidden.reduce(0, +) / 3  // P̂(λ); 0 when every mask kept the pixel
                expected = estimate == 0 ? 0 : (0..<3).map { (1 - f[$0]) * hidden[$0] }.reduce(0, +) / (3 * estimate)
            }
            #expect(abs(result.heatmap.pixels[pixel] - expected) < 1e-5, "pixel \(pixel)")
        }
        #expect(result.masksUsed == 3 && !result.cancelled && result.targetClass == 1)
    }

    @Test func masksAreSoftSeededAndHaveTheKeptShare() {
        let masks = RISEMasks(count: 400, grid: 8, keepProbability: 0.5, seed: 3)
        var sum: Float = 0
        for i in 0..<400 {
            let mask = masks.mask(i, width: 40, height: 40)
            #expect(mask.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
            sum += mask.mean
        }
        #expect(abs(sum / 400 - 0.5) < 0.03)
        #expect(masks.mask(5, width: 40, height: 40) == masks.mask(5, width: 40, height: 40))
        #expect(masks.mask(5, width: 40, height: 40) != masks.mask(6, width: 40, height: 40))
        // Soft: bilinear upsampling leaves intermediate values.
        #expect(masks.mask(0, width: 40, height: 40).pixels.contains { $0 > 0.05 && $0 < 0.95 })
    }

    /// Two maps point alike when either's hottest pixel lies in the other's top 10 %, whatever
    /// their sizes and scales.
    @Test func mapsPointAlikeWhenEitherPeakIsInTheOthersTopRegion() {
        func map(_ side: Int, hot: (x: Int, y: Int, size: Int), scale: Float) -> Image {
            var map = Image(width: side, height: side, channels: 1, filledWith: 0.1 * scale)
            for y in hot.y..<(hot.y + hot.size) { for x in hot.x..<(hot.x + hot.size) { map[0, y, x] = scale } }
            return map
        }
        let explanation = map(32, hot: (4, 4, 8), scale: 0.3)
        #expect(SaliencyMetrics.pointAlike(explanation, map(8, hot: (1, 1, 2), scale: 0.9)))
        #expect(SaliencyMetrics.pointAlike(explanation, map(32, hot: (10, 10, 2), scale: 0.9)), "its peak inside the other's region")
        #expect(!SaliencyMetrics.pointAlike(explanation, map(8, hot: (5, 5, 2), scale: 0.9)))
        #expect(!SaliencyMetrics.pointAlike(map(8, hot: (5, 5, 2), scale: 0.9), explanation))
    }

    @Test func invriseFindsTheDefectSquare() {
        let size = 64, square = PixelRect(x: 36, y: 12, width: 20, height: 20)  // 9.8 % of the image
        let model = Self.squareModel(size: size, square: square)
        let explainer = SaliencyExplainer(method: .invrise, masks: RISEMasks(count: 600, seed: 2), fill: .zero)
        let result = explainer.explain(Self.defectImage(size: size, square: square), classCount: 2, probabilities: model)
        #expect(result.targetClass == 1)
        var truth = BinaryMask(width: size, height: size)
        for y in square.y..<square.maxY { for x in square.x..<square.maxX { truth[y, x] = true } }
        let top = SaliencyMetrics.topFraction(result.heatmap)
        #expect(SaliencyMetrics.dice(top, truth) >= 0.5, "dice \(SaliencyMetrics.dice(top, truth))")
        #expect(SaliencyMetrics.hit(result.heatmap, mask: truth))
        #expect((SaliencyMetrics.pixelAUROC(result.heatmap, mask: truth) ?? 0) > 0.9)
        // Faithfulness: deleting the salient pixels first drops NOK faster than inserting them raises it.
        let causal = SaliencyMetrics.deletionInsertionAUC(Self.defectImage(size: size, square: square), heatmap: result.heatmap,
                                                          target: 1, classCount: 2,
                                                          fill: [Float](repeating: 0, count: size * size), probabilities: model)
        #expect(causal.deletion < causal.insertion)
    }

    @Test func sameSeedSameHeatmap() {
        let size = 32, square = PixelRect(x: 4, y: 4, width: 8, height: 8)
        let model = Self.squareModel(size: size, square: square)
        let image = Self.defectImage(size: size, square: square)
        let a = SaliencyExplainer(masks: RISEMasks(count: 120, seed: 7)).explain(image, classCount: 2, probabilities: model)
        var batched = SaliencyExplainer(masks: RISEMasks(count: 120, seed: 7))
        batched.batchSize = 7  // another batch size: the masks, and so the map, are the same
        let b = batched.explain(image, classCount: 2, probabilities: model)
        let c = SaliencyExplainer(masks: RISEMasks(count: 120, seed: 8)).explain(image, classCount: 2, probabilities: model)
        #expect(zip(a.heatmap.pixels, b.heatmap.pixels).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(a.heatmap != c.heatmap)
    }

    @Test func progressCancellationAndConvergence() {
        let size = 32, square = PixelRect(x: 4, y: 4, width: 8, height: 8)
        let model = Self.squareModel(size: size, square: square)
        let image = Self.defectImage(size: size, square: square)
        var seen: [Int] = []
        var explainer = SaliencyExplainer(masks: RISEMasks(count: 200, seed: 1))
        explainer.batchSize = 40
        let cancelled = explainer.explain(image, classCount: 2, probabilities: model) { progress in
            seen.append(progress.masksDone)
            #expect(progress.heatmap.width == size && progress.masksTotal == 200)
            return progress.masksDone < 80
        }
        #expect(seen == [40, 80] && cancelled.cancelled && cancelled.masksUsed == 80)
        explainer.convergence = SaliencyConvergence(minimumMasks: 80, contrast: 0, noise: 0)  // reached at once: stop at the minimum
        let converged = explainer.explain(image, classCount: 2, probabilities: model)
        #expect(converged.masksUsed == 80 && !converged.cancelled)
    }

    @Test(arguments: MaskFill.allCases)
    func fillsKeepTheImageSize(fill: MaskFill) {
        let image = Self.defectImage(size: 16, square: PixelRect(x: 2, y: 2, width: 4, height: 4))
        let model = Self.squareModel(size: 16, square: PixelRect(x: 2, y: 2, width: 4, height: 4))
        let result = SaliencyExplainer(method: .rise, masks: RISEMasks(count: 20), fill: fill)
            .explain(image, classCount: 2, probabilities: model)
        #expect(result.heatmap.width == 16 && result.heatmap.pixels.allSatisfy { $0.isFinite })
    }
}

@Suite struct MetricTests {
    func mask(_ bits: [Bool]) -> BinaryMask { BinaryMask(width: bits.count, height: 1, bits: bits) }

    @Test func diceAndJaccard() {
        let a = mask([true, true, true, false]), b = mask([false, true, true, true])
        #expect(abs(SaliencyMetrics.dice(a, b) - 0.6666667) < 1e-6 && SaliencyMetrics.jaccard(a, b) == 0.5)
        #expect(SaliencyMetrics.dice(mask([false]), mask([false])) == 1)
    }

    @Test func aurocWithTies() {
        // Pairs (positive, negative): (0.4, 0.1) 1, (0.4, 0.4) ½, (0.8, 0.1) 1, (0.8, 0.4) 1 → 3.5 / 4.
        let heat = Image(width: 4, height: 1, channels: 1, pixels: [0.1, 0.4, 0.4, 0.8])
        #expect(SaliencyMetrics.pixelAUROC(heat, mask: mask([false, true, false, true])) == 0.875)
        #expect(SaliencyMetrics.pixelAUROC(heat, mask: mask([false, false, false, false])) == nil)
        let flat = Image(width: 3, height: 1, channels: 1, pixels: [0.5, 0.5, 0.5])
        #expect(SaliencyMetrics.pixelAUROC(flat, mask: mask([true, false, false])) == 0.5)
    }

    @Test func topTenPercentAndHit() {
        let heat = Image(width: 10, height: 2, channels: 1, pixels: (0..<20).map { Float($0 % 7) })
        let top = SaliencyMetrics.topFraction(heat)
        #expect(top.area == 2)
        #expect(top.bits[6] && top.bits[13])  // the two 6s, earliest first
        #expect(SaliencyMetrics.hit(heat, mask: top))
        #expect(!SaliencyMetrics.hit(heat, mask: BinaryMask(width: 10, height: 2)))
    }
}

/// What a person relies on in a heatmap: that it points at the defect, that noise is not
/// drawn as structure, and that the raw file keeps the map.
@Suite struct HeatmapMeaningTests {
    static let size = 48
    static let defect = PixelRect(x: 28, y: 10, width: 8, height: 8)

    /// A textured normal part (seeded, so parts differ), in register like a fixed camera's.
    static func normalPart(_ seed: Int) -> Image {
        var image = Image(width: size, height: size, channels: 1)
        for y in 0..<size { for x in 0..<size {
            let grain = Float((x * 37 + y * 91 + seed * 53) % 17) / 17
            image[0, y, x] = 0.35 + 0.2 * Float(y) / Float(size) + 0.05 * grain
        } }
        return image
    }

    static func defective(_ base: Image, at square: PixelRect) -> Image {
        var image = base
        for y in square.y..<square.maxY { for x in square.x..<square.maxX { image[0, y, x] = 0.95 } }
        return image
    }

    /// An anomaly detector: P(NOK) grows with the largest deviation of any pixel from the
    /// normal appearance — so a black blob (the zero fill) is as much a defect as a real one.
    static func anomalyModel(normal: Image) -> ProbabilityFunction {
        { images, batch in
            (0..<batch).flatMap { b -> [Float] in
                var deviation: Float = 0
                for i in 0..<(size * size) { deviation = max(deviation, abs(images[b * size * size + i] - normal.pixels[i])) }
                let nok = min(max((deviation - 0.1) * 4, 0), 1)
                return [1 - nok, nok]
            }
        }
    }

    static func truth(_ square: PixelRect) -> BinaryMask {
        var mask = BinaryMask(width: size, height: size)
        for y in square.y..<square.maxY { for x in square.x..<square.maxX { mask[y, x] = true } }
        return mask
    }

    @Test func theNormalFillFindsTheDefectWhereTheZeroFillSeesOnlyItsOwnBlobs() {
        let parts = (0..<8).map(Self.normalPart)
        let normal = NormalParts(parts: parts)!
        let model = Self.anomalyModel(normal: normal.median)
        let image = Self.defective(Self.normalPart(3), at: Self.defect)
        let masks = RISEMasks(count: 400, grid: 8, seed: 5)

        let zero = SaliencyExplainer(method: .invrise, masks: masks, fill: .zero).explain(image, classCount: 2, probabilities: model)
        // Every masked copy is still NOK: the map is flat and must be shown so.
        #expect(HeatmapDisplay(zero).isFlat, "zero fill: \(HeatmapDisplay(zero).caption)")

        let filled = SaliencyExplainer(method: .invrise, masks: masks, fill: .normal, normalParts: normal)
            .explain(image, classCount: 2, probabilities: model)
        #expect(filled.fill == .normal)
        #expect(!HeatmapDisplay(filled).isFlat, "normal fill: \(HeatmapDisplay(filled).caption)")
        let top = SaliencyMetrics.topFraction(filled.heatmap)
        #expect(SaliencyMetrics.hit(filled.heatmap, mask: Self.truth(Self.defect)))
        #expect(top.intersectionArea(with: Self.truth(Self.defect)) >= Self.defect.area / 2)
    }

    @Test func twoDefectsInDifferentPlacesGiveDifferentMaps() {
        let normal = NormalParts(parts: (0..<8).map(Self.normalPart))!
        let model = Self.anomalyModel(normal: normal.median)
        let explainer = SaliencyExplainer(method: .invrise, masks: RISEMasks(count: 300, seed: 2), fill: .median, normalParts: normal)
        let other = PixelRect(x: 6, y: 32, width: 8, height: 8)
        let a = explainer.explain(Self.defective(Self.normalPart(1), at: Self.defect), classCount: 2, probabilities: model)
        let b = explainer.explain(Self.defective(Self.normalPart(1), at: other), classCount: 2, probabilities: model)
        #expect(SaliencyMetrics.hit(a.heatmap, mask: Self.truth(Self.defect)))
        #expect(SaliencyMetrics.hit(b.heatmap, mask: Self.truth(other)))
        #expect(spearman(a.heatmap.pixels, b.heatmap.pixels) < 0.5)
    }

    @Test func noiseIsMeasuredAndAMapOfNoiseIsFlat() {
        // A model that ignores the image but for a coin toss per call: pure sampling noise.
        var state: UInt64 = 7
        let noisy: ProbabilityFunction = { _, batch in
            (0..<batch).flatMap { _ -> [Float] in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let p = Float(state >> 40) / Float(1 << 24) * 0.5 + 0.25
                return [1 - p, p]
            }
        }
        let image = Self.normalPart(0)
        let result = SaliencyExplainer(method: .invrise, masks: RISEMasks(count: 200, seed: 1), fill: .blur)
            .explain(image, target: 1, classCount: 2, probabilities: noisy)
        #expect(result.noise.noise > 0)
        #expect(result.noise.contrast < HeatmapNoise.flatBelow, "contrast \(result.noise.contrast)")
        #expect(HeatmapDisplay(result).caption.hasPrefix("flat: the decision does not hinge on one region"))
        // Shown flat: one neutral grey over the image, not stretched noise.
        let overlay = HeatmapDisplay(result).overlay(on: image, heatmap: result.heatmap)
        let expected = image.overlaid(with: Image(width: Self.size, height: Self.size, channels: 1, filledWith: 0.5), colorMap: .grey, range: 0...1)
        #expect(overlay == expected)
    }

    /// A flat map says why it is flat: a map where every hiding raised P(NOK) (the masking
    /// itself looked defective) says that, whatever its contrast — not "lowers by -0.262".
    @Test func aFlatMapSaysWhyItIsFlat() {
        let map = Image(width: 8, height: 8, channels: 1, filledWith: 0.2)
        var raised = HeatmapNoise(noise: 0.01, peak: 0.3, noisePeak: 0.05)
        raised.lowering = -0.262
        let caption = HeatmapDisplay(heatmap: map, noise: raised).caption
        #expect(HeatmapDisplay(heatmap: map, noise: raised).isFlat && raised.contrast >= HeatmapNoise.flatBelow)
        #expect(caption.hasPrefix("flat: hiding no region lowers P(NOK); hiding any raised it by ≥ 0.262"), "\(caption)")
        #expect(!caption.contains("-0.262"))
        var barely = raised
        barely.lowering = 0.002
        #expect(HeatmapDisplay(heatmap: map, noise: barely).caption.hasPrefix("flat: hiding a region lowers P(NOK) by at most 0.002"))
        var clear = raised
        clear.lowering = 0.3
        #expect(HeatmapDisplay(heatmap: map, noise: clear).caption.hasPrefix("hiding red lowers P(NOK) by 0.3"))
        // A confident NOK (0.999) whose defect region lowers P(NOK) by 0.003 was drawn flat
        // though its map lay on the defect: in the model's log-odds that drop is large (6.9 →
        // 5.5), so it counts; the same drop on a part at 0.5, or one the model calls OK, does not.
        var confident = HeatmapNoise(noise: 0.0002, peak: 0.003, noisePeak: 0.001)
        confident.lowering = 0.003
        confident.confidence = 0.999
        #expect(!confident.isFlat && confident.minimumDrop < 0.0001)
        var unsure = confident
        unsure.confidence = 0.5
        #expect(unsure.isFlat && abs(unsure.minimumDrop - 0.005) < 0.0002)
        unsure.confidence = 0.2
        #expect(unsure.isFlat && unsure.minimumDrop == HeatmapNoise.minimumPeak)
        // The terse form keeps every figure and fits an 80-column line with the mask count.
        for noise in [raised, barely, clear] {
            let display = HeatmapDisplay(heatmap: map, noise: noise)
            let terse = display.terseCaption
            #expect(terse.count <= 62 && terse.contains("contrast") && terse.contains(String(format: "%.3g", abs(noise.lowering!))), "\(terse)")
            #expect(terse.hasPrefix("flat") == display.isFlat)
        }
    }

    @Test func convergenceStopsOnceTheMapIsMeasured() {
        let normal = NormalParts(parts: (0..<8).map(Self.normalPart))!
        // NOK as bright as the defect square: hiding any part of it lowers the confidence.
        let model = SaliencyTests.squareModel(size: Self.size, square: Self.defect)
        var explainer = SaliencyExplainer(method: .invrise, masks: RISEMasks(count: 2000, seed: 4), fill: .median, normalParts: normal)
        explainer.convergence = SaliencyConvergence(minimumMasks: 200, contrast: 4, noise: 0)
        let result = explainer.explain(Self.defective(Self.normalPart(2), at: Self.defect), classCount: 2, probabilities: model)
        #expect(result.masksUsed >= 200 && result.masksUsed < 2000 && result.noise.contrast >= 4, "\(result.masksUsed) masks, \(result.noise)")
    }

    @Test func aNormalFillWithoutNormalPartsFallsBackToBlurAndSaysSo() {
        let image = Self.normalPart(0)
        let result = SaliencyExplainer(masks: RISEMasks(count: 8), fill: .normal)
            .explain(image, classCount: 2, probabilities: Self.anomalyModel(normal: image))
        #expect(result.fill == .blur)
    }

    @Test func theNearestNormalPartIsNeverTheQueryItself() {
        let parts = (0..<4).map(Self.normalPart)
        let normal = NormalParts(parts: parts)!
        #expect(normal.nearest(to: parts[2]) != parts[2])
    }

    @Test func theRawHeatmapFileKeepsTheMapWithinOne65535thOfItsRange() throws {
        var map = Image(width: 40, height: 30, channels: 1)
        for i in map.pixels.indices { map.pixels[i] = 6.9e-5 + 3.0e-4 * Float((i * 7919) % 1200) / 1200 }
        let bytes = try HeatmapFile.encode(map, noise: HeatmapNoise(noise: 1e-6, peak: 8e-5, noisePeak: 2e-6))
        let back = try HeatmapFile.decode(bytes, name: "map.png")
        let range = (map.pixels.max()! - map.pixels.min()!)
        #expect(back.width == 40 && back.height == 30)
        for i in map.pixels.indices { #expect(abs(back.pixels[i] - map.pixels[i]) <= range / 65535 + 1e-9) }
        // Distinct levels survive: the old fixed 0…1 file held about 20 for such a map.
        #expect(Set(back.pixels).count > 1000)
        let text = PNGText.entries(of: bytes)
        #expect(text["heatmap-noise"] != nil && text["heatmap-contrast"] != nil)
    }

    @Test func aDamagedTextChunkIsIgnoredNotTrusted() throws {
        let map = Image(width: 4, height: 4, channels: 1, pixels: (0..<16).map { Float($0) })
        var bytes = try HeatmapFile.encode(map)
        // Flip a byte inside the first text chunk's data: its CRC no longer matches.
        bytes[8 + 25 + 8 + 2] ^= 0x20
        #expect(PNGText.entries(of: bytes)["heatmap-min"] == nil)
    }
}

/// Spearman's rank correlation (average ranks for ties).
func spearman(_ a: [Float], _ b: [Float]) -> Float {
    func ranks(_ values: [Float]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var result = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            for k in start...end { result[order[k]] = Double(start + end) / 2 }
            start = end + 1
        }
        return result
    }
    let ra = ranks(a), rb = ranks(b)
    let n = Double(a.count)
    let ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
    var covariance = 0.0, va = 0.0, vb = 0.0
    for i in 0..<a.count {
        covariance += (ra[i] - ma) * (rb[i] - mb)
        va += (ra[i] - ma) * (ra[i] - ma)
        vb += (rb[i] - mb) * (rb[i] - mb)
    }
    return va > 0 && vb > 0 ? Float(covariance / (va * vb).squareRoot()) : 0
}
