/// A binary pixel mask (defect region, top-k saliency, painted correction).
public struct BinaryMask: Equatable, Hashable, Sendable {
    public let width: Int
    public let height: Int
    /// Row-major, `true` = inside the region.
    public var bits: [Bool]

    public init(width: Int, height: Int, bits: [Bool]) {
        precondition(width > 0 && height > 0 && bits.count == width * height, "bad mask shape")
        self.width = width
        self.height = height
        self.bits = bits
    }

    public init(width: Int, height: Int) {
        self.init(width: width, height: height, bits: [Bool](repeating: false, count: width * height))
    }

    /// Pixels whose value reaches `threshold` (default ½: masks drawn with soft, anti-aliased
    /// edges count where they are at least half covered). For several channels the largest
    /// colour value decides; alpha is ignored.
    public init(thresholding image: Image, at threshold: Float = 0.5) {
        let colour = image.removingAlpha()
        let n = colour.planeSize
        var bits = [Bool](repeating: false, count: n)
        for i in 0..<n {
            var value = colour.pixels[i]
            for c in 1..<max(colour.channels, 1) { value = max(value, colour.pixels[c * n + i]) }
            bits[i] = value >= threshold
        }
        self.init(width: image.width, height: image.height, bits: bits)
    }

    @inlinable
    public subscript(y: Int, x: Int) -> Bool {
        get { bits[y * width + x] }
        set { bits[y * width + x] = newValue }
    }

    /// Number of set pixels.
    public var area: Int { bits.reduce(0) { $0 + ($1 ? 1 : 0) } }
    public var isEmpty: Bool { !bits.contains(true) }
    /// Set pixels as a fraction of all pixels.
    public var coverage: Float { Float(area) / Float(bits.count) }

    /// The smallest rectangle holding every set pixel, or nil for an empty mask.
    public var boundingBox: PixelRect? {
        var minX = width, minY = height, maxX = -1, maxY = -1
        for y in 0..<height {
            for x in 0..<width where bits[y * width + x] {
                minX = min(minX, x); maxX = max(maxX, x)
                minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        guard maxX >= 0 else { return nil }
        return PixelRect(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
    }

    /// Grown by a disc of `radius` pixels (Euclidean): a pixel is set when a set pixel lies
    /// within `radius` of it.
    public func dilated(radius: Int) -> BinaryMask {
        guard radius > 0 else { return self }
        var offsets: [(Int, Int)] = []
        for dy in -radius...radius {
            for dx in -radius...radius where dx * dx + dy * dy <= radius * radius { offsets.append((dx, dy)) }
        }
        var out = BinaryMask(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width where bits[y * width + x] {
                for (dx, dy) in offsets {
                    let nx = x + dx, ny = y + dy
                    if nx >= 0 && nx < width && ny >= 0 && ny < height { out.bits[ny * width + nx] = true }
                }
            }
        }
        return out
    }

    public func union(_ other: BinaryMask) -> BinaryMask {
        precondition(other.width == width && other.height == height, "mask shapes differ")
        return BinaryMask(width: width, height: height, bits: zip(bits, other.bits).map { $0 || $1 })
    }

    public func intersectionArea(with other: BinaryMask) -> Int {
        precondition(other.width == width && other.height == height, "mask shapes differ")
        var count = 0
        for i in bits.indices where bits[i] && other.bits[i] { count += 1 }
        return count
    }

    /// As a one-channel image: 1 inside, 0 outside.
    public var image: Image {
        Image(width: width, height: height, channels: 1, pixels: bits.map { $0 ? 1 : 0 })
    }

    /// Resampled to another size; a pixel is set when at least half of it is covered.
    public func resized(width newWidth: Int, height newHeight: Int) -> BinaryMask {
        if newWidth == width && newHeight == height { return self }
        let soft = image.resizedForInput(width: newWidth, height: newHeight)
        return BinaryMask(thresholding: soft, at: 0.5)
    }
}
