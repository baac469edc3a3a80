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
    ///
    /// The same values as resizing the grid with `Image.resized` and cropping, computed for
    /// the cropped window only and separably: each grid row is interpolated along x once,
    /// then each output row is the same lerp between two of those rows that the 2-D resize
    /// makes (the same float operations, so the same bits), without the 2-D upsampled copy.
    public func write(mask index: Int, width: Int, height: Int, into target: UnsafeMutablePointer<Float>) {
        var random = SplitMix64(seed: SplitMix64.mix(seed) ^ SplitMix64.mix(UInt64(index) &+ 0x5249_5345))
        var cells = [Float](repeating: 0, count: grid * grid)
        for i in 0..<(grid * grid) { cells[i] = random.unit() < keepProbability ? 1 : 0 }
        let cellWidth = (width + grid - 1) / grid, cellHeight = (height + grid - 1) / grid
        let offsetX = random.integer(0, cellWidth - 1), offsetY = random.integer(0, cellHeight - 1)
        let xTaps = Image.bilinearTaps(from: grid, to: (grid + 1) * cellWidth)
        let yTaps = Image.bilinearTaps(from: grid, to: (grid + 1) * cellHeight)
        // Each grid row along x, over the window's columns.
        var rows = [Float](repeating: 0, count: grid * width)
        cells.withUnsafeBufferPointer { source in
            rows.withUnsafeMutableBufferPointer { out in
                for r in 0..<grid {
                    let row = r * grid
                    for x in 0..<width {
                        let (x0, x1, wx) = xTaps[x + offsetX]
                        out[r * width + x] = source[row + x0] + (source[row + x1] - source[row + x0]) * wx
                    }
                }
            }
        }
        rows.withUnsafeBufferPointer { rows in
            for y in 0..<height {
                let (y0, y1, wy) = yTaps[y + offsetY]
                let top = rows.baseAddress! + y0 * width, bottom = rows.baseAddress! + y1 * width
                let out = target + y * width
                for x in 0..<width { out[x] = top[x] + (bottom[x] - top[x]) * wy }
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
