/// A raster image: `channels` planes of `height` × `width` Float32 samples in [0, 1].
///
/// Planes are stored one after another (CHW), the layout a convolutional network consumes,
/// so feeding an image to the network is a copy, not a transpose. The sample of channel
/// `c` at row `y`, column `x` is `pixels[(c · height + y) · width + x]`.
///
/// Channel meaning follows the count: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
public struct Image: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(width > 0 && height > 0 && (1...4).contains(channels), "bad image shape")
        precondition(pixels.count == width * height * channels, "pixel count does not match shape")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image with every sample set to `value`.
    public init(width: Int, height: Int, channels: Int, filledWith value: Float = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [Float](repeating: value, count: width * height * channels))
    }

    public var planeSize: Int { width * height }
    public var hasAlpha: Bool { channels == 2 || channels == 4 }
    /// The number of colour channels, alpha excluded: 1 (grey) or 3 (RGB).
    public var colorChannels: Int { hasAlpha ? channels - 1 : channels }

    @inlinable
    public subscript(channel: Int, y: Int, x: Int) -> Float {
        get { pixels[(channel * height + y) * width + x] }
        set { pixels[(channel * height + y) * width + x] = newValue }
    }

    /// The image without its alpha plane (alpha in inspection photos carries no meaning, and
    /// blending against a background would invent pixels).
    public func removingAlpha() -> Image {
        guard hasAlpha else { return self }
        let kept = colorChannels
        return Image(width: width, height: height, channels: kept,
                     pixels: Array(pixels[0..<(kept * planeSize)]))
    }

    /// Luma (ITU-R BT.601 weights 0.299, 0.587, 0.114) for colour images, alpha dropped.
    public func greyscale() -> Image {
        let colour = removingAlpha()
        guard colour.channels == 3 else { return colour }
        let n = planeSize
        var grey = [Float](repeating: 0, count: n)
        colour.pixels.withUnsafeBufferPointer { p in
            for i in 0..<n { grey[i] = 0.299 * p[i] + 0.587 * p[n + i] + 0.114 * p[2 * n + i] }
        }
        return Image(width: width, height: height, channels: 1, pixels: grey)
    }

    /// Three colour planes, alpha dropped; grey is repeated into R, G and B.
    public func rgb() -> Image {
        let colour = removingAlpha()
        guard colour.channels == 1 else { return colour }
        return Image(width: width, height: height, channels: 3,
                     pixels: colour.pixels + colour.pixels + colour.pixels)
    }

    /// The same image with `channels` channels: 1 → greyscale, 3 → RGB.
    public func converted(toChannels count: Int) -> Image {
        precondition(count == 1 || count == 3, "convert to 1 or 3 channels")
        return count == 1 ? greyscale() : rgb()
    }

    /// One channel as a single-channel image.
    public func plane(_ channel: Int) -> Image {
        let start = channel * planeSize
        return Image(width: width, height: height, channels: 1,
                     pixels: Array(pixels[start..<(start + planeSize)]))
    }

    /// Every sample clamped into [0, 1].
    public func clamped() -> Image {
        var copy = self
        for i in copy.pixels.indices { copy.pixels[i] = min(max(copy.pixels[i], 0), 1) }
        return copy
    }

    /// Mean of every sample of every channel.
    public var mean: Float {
        var sum: Double = 0
        for value in pixels { sum += Double(value) }
        return Float(sum / Double(pixels.count))
    }
}

/// A rectangle of whole pixels: columns `x ..< x + width`, rows `y ..< y + height`.
public struct PixelRect: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var area: Int { width * height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public var center: (x: Float, y: Float) { (Float(x) + Float(width) / 2, Float(y) + Float(height) / 2) }

    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }

    /// The part of this rectangle inside `other`, or nil when they do not overlap.
    public func intersection(_ other: PixelRect) -> PixelRect? {
        let left = max(x, other.x), top = max(y, other.y)
        let right = min(maxX, other.maxX), bottom = min(maxY, other.maxY)
        guard right > left && bottom > top else { return nil }
        return PixelRect(x: left, y: top, width: right - left, height: bottom - top)
    }

    /// Grown by `margin` pixels on every side.
    public func insetBy(_ margin: Int) -> PixelRect {
        PixelRect(x: x + margin, y: y + margin, width: width - 2 * margin, height: height - 2 * margin)
    }

    public var description: String { "\(width)x\(height)+\(x)+\(y)" }
}
