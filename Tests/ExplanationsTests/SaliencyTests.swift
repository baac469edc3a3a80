import Explanations
import Imaging
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
        explainer.convergenceTolerance = 10  // any change is below it: stop after the second batch
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
