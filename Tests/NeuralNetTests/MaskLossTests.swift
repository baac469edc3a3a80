@testable import NeuralNet
import SeededRandom
import Testing

/// Training with masks: the defect head learns where a defect is from the masks that come
/// with training images, the masks move with their pixels under augmentation, a good part
/// trains its map towards empty, and without the mask loss the head does not move.
@Suite struct MaskLossTests {
    static let tiny = DefectHeadTests.tiny

    @Test func cellTargetsAreTheShareOfEachCellTheMaskCovers() {
        // 8 × 8 pixels into 2 × 2 cells of 4 × 4: the top-left cell full, the top-right a
        // quarter (a 2 × 2 corner), the bottom ones empty; a second, empty mask.
        var mask = [Float](repeating: 0, count: 2 * 64)
        for y in 0..<4 { for x in 0..<4 { mask[y * 8 + x] = 1 } }
        for y in 0..<2 { for x in 6..<8 { mask[y * 8 + x] = 1 } }
        let shares = DefectMapLoss.cellShares(of: Tensor(shape: [2, 1, 8, 8], data: mask), height: 2, width: 2)
        #expect(shares.shape == [2, 1, 2, 2])
        #expect(shares.data == [1, 0.25, 0, 0, 0, 0, 0, 0])
    }

    @Test func augmentationMovesEachMaskWithItsImage() {
        // One-channel images whose pixels are their masks: after the flips, shifts and the
        // brightness / contrast change, a pixel is bright exactly where its mask still is.
        var random = SplitMix64(seed: 8)
        let (n, side) = (6, 32)
        var masks = [Float](repeating: 0, count: n * side * side)
        for image in 0..<n {
            let (top, left) = (random.integer(0, side - 8), random.integer(0, side - 6))
            for y in top..<(top + 8) { for x in left..<(left + 6) { masks[image * side * side + y * side + x] = 1 } }
        }
        var images = Tensor(shape: [n, 1, side, side], data: masks)
        var moved: (masks: Tensor, weights: [Float])? = (Tensor(shape: [n, 1, side, side], data: masks), [Float](repeating: 1, count: n))
        var augmenting = SplitMix64(seed: 9)
        Augmentation.apply(to: &images, masks: &moved, random: &augmenting)
        let after = moved!.masks.data
        #expect(after != masks, "flips and shifts moved some mask")
        #expect(Set(after) == [0, 1], "a moved mask keeps its values")
        for i in after.indices { #expect((images.data[i] > 0.5) == (after[i] == 1), "pixel \(i)") }
        // The same generator state gives the same images with masks as without.
        var plain = Tensor(shape: [n, 1, side, side], data: masks)
        var again = SplitMix64(seed: 9)
        Augmentation.apply(to: &plain, random: &again)
        #expect(plain.data == images.data)
    }

    /// Images of noise with a bright square on the defective ones, their masks, and the labels.
    static func squares(count: Int, seed: UInt64) -> LabelledImages {
        var random = SplitMix64(seed: seed)
        let side = tiny.inputSize, plane = side * side
        var images = [Float](repeating: 0, count: count * 2 * plane), masks = [Float](repeating: 0, count: count * plane)
        var labels: [Int] = []
        for n in 0..<count {
            for i in 0..<(2 * plane) { images[n * 2 * plane + i] = random.uniform(-0.5, 0.5) }
            let defective = n % 2 == 1
            labels.append(defective ? 1 : 0)
            guard defective else { continue }
            let (top, left) = (random.integer(0, side - 16), random.integer(0, side - 16))
            for y in top..<(top + 16) {
                for x in left..<(left + 16) {
                    masks[n * plane + y * side + x] = 1
                    for c in 0..<2 { images[(n * 2 + c) * plane + y * side + x] += 2 }
                }
            }
        }
        return LabelledImages(images: Tensor(shape: [count, 2, side, side], data: images), labels: labels,
                              masks: Tensor(shape: [count, 1, side, side], data: masks), maskWeights: [Float](repeating: 1, count: count))
    }

    static func options(maskLoss: Float) -> TrainingOptions {
        var options = TrainingOptions()
        options.method = .adam(learningRate: 0.01)
        options.epochs = 30
        options.batchSize = 8
        options.maskLossWeight = maskLoss
        options.seed = 4
        return options
    }

    /// The mean of σ(z) over the cells a defect covers at least half of, and over the rest.
    static func meanInsideAndOutside(_ model: ResNet, _ data: LabelledImages) -> (inside: Float, outside: Float) {
        let maps = model.defectMaps(data.images)!
        let (h, w) = (maps.shape[2], maps.shape[3])
        let shares = DefectMapLoss.cellShares(of: data.masks!, height: h, width: w)
        var inside: [Float] = [], outside: [Float] = []
        for i in maps.data.indices {
            if shares.data[i] >= 0.5 { inside.append(maps.data[i]) } else if shares.data[i] == 0 { outside.append(maps.data[i]) }
        }
        return (inside.reduce(0, +) / Float(inside.count), outside.reduce(0, +) / Float(outside.count))
    }

    @Test func theHeadLearnsWhereFromMasks() {
        let model = ResNet(Self.tiny, seed: 5)
        let before = Self.meanInsideAndOutside(model, Self.squares(count: 16, seed: 31))
        Trainer.train(model, on: Self.squares(count: 32, seed: 30), options: Self.options(maskLoss: 1))
        // Parts it never saw: the map is high on their squares and low elsewhere.
        let after = Self.meanInsideAndOutside(model, Self.squares(count: 16, seed: 31))
        #expect(after.inside > 0.5 && after.outside < 0.3, "inside \(after.inside), outside \(after.outside)")
        #expect(after.inside - after.outside > 2 * abs(before.inside - before.outside))
    }

    @Test func goodPartsTrainTheMapTowardsEmpty() {
        var good = Self.squares(count: 16, seed: 32)
        let kept = good.labels.indices.filter { good.labels[$0] == 0 }
        let (images, labels) = good.batch(kept[...])
        good = LabelledImages(images: images, labels: labels, masks: Tensor(zeros: [kept.count, 1, Self.tiny.inputSize, Self.tiny.inputSize]),
                              maskWeights: [Float](repeating: 1, count: kept.count))
        let model = ResNet(Self.tiny, seed: 6)
        let mean = { (model: ResNet) -> Float in model.defectMaps(good.images)!.data.reduce(0, +) / Float(model.defectMaps(good.images)!.count) }
        let before = mean(model)
        // 40 steps: enough for batch normalisation's running statistics, which the map in
        // inference mode uses, to follow the batches.
        var options = Self.options(maskLoss: 1)
        options.epochs = 40
        options.augment = false
        Trainer.train(model, on: good, options: options)
        #expect(mean(model) < min(before, 0.2), "before \(before), after \(mean(model))")
    }

    @Test func withoutTheMaskLossTheHeadIsLeftAsItWas() {
        let model = ResNet(Self.tiny, seed: 7)
        let head = model.defectHead!.namedParameters.map(\.1.value)
        var options = Self.options(maskLoss: 0)
        options.epochs = 2
        Trainer.train(model, on: Self.squares(count: 16, seed: 33), options: options)
        #expect(model.defectHead!.namedParameters.map(\.1.value) == head)
        #expect(model.fc.namedParameters.map(\.1.value) != ResNet(Self.tiny, seed: 7).fc.namedParameters.map(\.1.value))
    }

    @Test func addingAHeadKeepsTheNetwork() {
        let plain = ResNet(Self.tiny.withDefectHead(false), seed: 8)
        Trainer.train(plain, on: Self.squares(count: 8, seed: 34), options: { var o = Self.options(maskLoss: 0); o.epochs = 1; return o }())
        let headed = plain.addingDefectHead(seed: 2)
        #expect(headed.defectHead != nil && headed.configuration == Self.tiny)
        let images = Self.squares(count: 4, seed: 35).images
        #expect(headed(images).probabilities.data == plain(images).probabilities.data)
        #expect(headed.addingDefectHead(seed: 3) === headed)
    }
}
