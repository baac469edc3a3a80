import Explanations
import NeuralNet
import SeededRandom

/// "Masking is not evidence": training images of OK parts with random RISE-style regions
/// replaced by the same regions of another OK part — the perturbation the heatmap fill makes
/// — still labelled OK.
///
/// Without it a defect classifier may take the seams and edges that mixing two parts leaves
/// for a defect, and then every masked copy of a part stays NOK and the map is flat. NOK
/// parts are left alone: a region swapped from an OK part may be their defect, and their
/// label would then be wrong.
public struct OcclusionAugmentation: Sendable {
    /// Normalised OK training images (CHW each), the donors of the swapped regions.
    let donors: [[Float]]
    /// The share of OK images in a batch that get a swapped region.
    public var probability: Float = 0.5
    public var grid = RISEMasks.standardGrid
    static let okLabel = 0

    /// Whether training uses it unless told otherwise (chosen by measurement, Docs/Explanations.md).
    public static let standard = false

    /// `set`'s OK images become the donors; nil when it has fewer than two.
    public init?(okImagesOf set: LabelledImages) {
        let size = set.images.shape.dropFirst().reduce(1, *)
        let data = set.images.data
        donors = set.labels.indices.filter { set.labels[$0] == Self.okLabel }.map { Array(data[($0 * size)..<(($0 + 1) * size)]) }
        guard donors.count >= 2 else { return nil }
    }

    /// Swaps regions into the OK images of a normalised batch (NCHW).
    public func apply(to images: inout Tensor, labels: [Int], random: inout SplitMix64) {
        let (channels, height, width) = (images.shape[1], images.shape[2], images.shape[3])
        let plane = height * width, size = channels * plane
        var mask = [Float](repeating: 0, count: plane)
        for (index, label) in labels.enumerated() where label == Self.okLabel && random.chance(probability) {
            let donor = donors[random.integer(0, donors.count - 1)]
            RISEMasks(count: 1, grid: grid, seed: random.next()).write(mask: 0, width: width, height: height, into: &mask)
            images.data.withUnsafeMutableBufferPointer { data in
                for c in 0..<channels {
                    let base = index * size + c * plane
                    for i in 0..<plane { data[base + i] = donor[c * plane + i] + (data[base + i] - donor[c * plane + i]) * mask[i] }
                }
            }
        }
    }

    /// `options` with occlusion training on `set` installed when `enabled` (and `set` has
    /// OK donors), else `options` as they are.
    public static func options(_ options: TrainingOptions, on set: LabelledImages, enabled: Bool) -> TrainingOptions {
        guard enabled, let augmentation = OcclusionAugmentation(okImagesOf: set) else { return options }
        var options = options
        options.batchAugmentation = { images, labels, random in augmentation.apply(to: &images, labels: labels, random: &random) }
        return options
    }
}
