import Imaging
import SeededRandom

/// The random masks of RISE (Petsiuk et al.), as the main paper's InvRISE uses them.
///
/// Mask i: an l × l grid whose cells are kept (1) with probability p, else 0; upsampled
/// bilinearly to (l + 1)·cell, cell = ⌈size / l⌉ per axis; then cropped to the image size at
/// a random offset in [0, cell) on each axis. The result is a soft mask in [0, 1] whose
/// blobs are not aligned to a fixed grid. Mask i depends only on (seed, i), so masks can be
/// made in batches of any size, in any order, and the same seed gives the same heatmap.
public struct RISEMasks: Sendable, Equatable {
    public var count: Int
    public var grid: Int
    public var keepProbability: Float
    public var seed: UInt64

    /// The grid used unless told otherwise (chosen by measurement, Docs/Explanations.md).
    public static let standardGrid = 8

    public init(count: Int = 1000, grid: Int = standardGrid, keepProbability: Float = 0.5, seed: UInt64 = 1) {
        self.count = count
        self.grid = grid
        self.keepProbability = keepProbability
        self.seed = seed
    }

    /// Mask `index` at `width` × `height`, written row-major into `target`.
    public func write(mask index: Int, width: Int, height: Int, into target: UnsafeMutablePointer<Float>) {
        var random = SplitMix64(seed: SplitMix64.mix(seed) ^ SplitMix64.mix(UInt64(index) &+ 0x5249_5345))
        var cells = Image(width: grid, height: grid, channels: 1)
        for i in 0..<(grid * grid) { cells.pixels[i] = random.unit() < keepProbability ? 1 : 0 }
        let cellWidth = (width + grid - 1) / grid, cellHeight = (height + grid - 1) / grid
        let offsetX = random.integer(0, cellWidth - 1), offsetY = random.integer(0, cellHeight - 1)
        let up = cells.resized(width: (grid + 1) * cellWidth, height: (grid + 1) * cellHeight)
        up.pixels.withUnsafeBufferPointer { source in
            for y in 0..<height {
                let row = (y + offsetY) * up.width + offsetX
                (target + y * width).update(from: source.baseAddress! + row, count: width)
            }
        }
    }

    /// Mask `index` as a one-channel image.
    public func mask(_ index: Int, width: Int, height: Int) -> Image {
        var pixels = [Float](repeating: 0, count: width * height)
        pixels.withUnsafeMutableBufferPointer { write(mask: index, width: width, height: height, into: $0.baseAddress!) }
        return Image(width: width, height: height, channels: 1, pixels: pixels)
    }
}
