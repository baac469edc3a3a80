/// How samples outside the image are obtained when a transform reaches past its border.
public enum BorderMode: Equatable, Sendable {
    /// Every channel takes this value.
    case constant(Float)
    /// The nearest edge pixel is repeated.
    case edge
    /// Mirrored about the edge, without repeating the edge pixel (…c b | a b c | b a…).
    case reflect
}

extension Image {
    /// Bilinear resampling to `width` × `height`.
    ///
    /// Pixel centres are aligned (output pixel centre `x + ½` maps to source coordinate
    /// `(x + ½) · W_in / W_out`), the convention of PyTorch's `align_corners=False`, so a
    /// 2× upscale of a two-pixel row [a, b] gives [a, ¾a + ¼b, ¼a + ¾b, b]. Best for
    /// enlarging; shrinking by more than 2× skips pixels — use `areaResized` for that.
    public func resized(width newWidth: Int, height newHeight: Int) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "resize to an empty image")
        if newWidth == width && newHeight == height { return self }
        return bilinear(xTaps: Self.bilinearTaps(from: width, to: newWidth), yTaps: Self.bilinearTaps(from: height, to: newHeight))
    }

    /// Bilinear samples of a rectangle of this image — from (`x`, `y`), `width` × `height` in
    /// its pixel units, fractions allowed — at `outWidth` × `outHeight`, pixel centres aligned
    /// as in `resized` (so the whole image as the rectangle gives `resized`'s result), the edge
    /// pixel repeated past the border. What lays a model-sized heatmap over part of a photo.
    public func resampled(x: Double, y: Double, width regionWidth: Double, height regionHeight: Double,
                          toWidth outWidth: Int, toHeight outHeight: Int) -> Image {
        precondition(outWidth > 0 && outHeight > 0, "resample to an empty image")
        func taps(origin: Double, extent: Double, count: Int, size: Int) -> [(Int, Int, Float)] {
            (0..<count).map { index in
                let source = min(max(origin + (Double(index) + 0.5) * extent / Double(count) - 0.5, 0), Double(size - 1))
                let low = Int(source.rounded(.down))
                return (low, min(low + 1, size - 1), Float(source - Double(low)))
            }
        }
        return bilinear(xTaps: taps(origin: x, extent: regionWidth, count: outWidth, size: width),
                        yTaps: taps(origin: y, extent: regionHeight, count: outHeight, size: height))
    }

    /// The output pixel (ox, oy) mixes the source pixels its taps name: (x0, x1, weight of x1)
    /// across, (y0, y1, weight of y1) down.
    private func bilinear(xTaps: [(Int, Int, Float)], yTaps: [(Int, Int, Float)]) -> Image {
        let (newWidth, newHeight) = (xTaps.count, yTaps.count)
        var out = [Float](repeating: 0, count: newWidth * newHeight * channels)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for c in 0..<channels {
                    let inPlane = c * width * height, outPlane = c * newWidth * newHeight
                    for oy in 0..<newHeight {
                        let (y0, y1, wy) = yTaps[oy]
                        let row0 = inPlane + y0 * width, row1 = inPlane + y1 * width
                        for ox in 0..<newWidth {
                            let (x0, x1, wx) = xTaps[ox]
                            let top = source[row0 + x0] + (source[row0 + x1] - source[row0 + x0]) * wx
                            let bottom = source[row1 + x0] + (source[row1 + x1] - source[row1 + x0]) * wx
                            target[outPlane + oy * newWidth + ox] = top + (bottom - top) * wy
                        }
                    }
                }
            }
        }
        return Image(width: newWidth, height: newHeight, channels: channels, pixels: out)
    }

    /// Area-averaging (box filter) resampling: each output pixel is the mean of the source
    /// area it covers, with partly covered source pixels weighted by the covered fraction.
    /// The right filter for shrinking: every source pixel contributes, nothing aliases.
    public func areaResized(width newWidth: Int, height newHeight: Int) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "resize to an empty image")
        if newWidth == width && newHeight == height { return self }
        let xWeights = Self.areaWeights(from: width, to: newWidth)
        let yWeights = Self.areaWeights(from: height, to: newHeight)
        // Horizontal pass into (channels × height × newWidth), then vertical.
        var horizontal = [Float](repeating: 0, count: channels * height * newWidth)
        pixels.withUnsafeBufferPointer { source in
            horizontal.withUnsafeMutableBufferPointer { target in
                for row in 0..<(channels * height) {
                    let inRow = row * width, outRow = row * newWidth
                    for ox in 0..<newWidth {
                        var sum: Float = 0
                        for (index, weight) in xWeights[ox] { sum += source[inRow + index] * weight }
                        target[outRow + ox] = sum
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: channels * newHeight * newWidth)
        horizontal.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for c in 0..<channels {
                    let inPlane = c * height * newWidth, outPlane = c * newHeight * newWidth
                    for oy in 0..<newHeight {
                        for ox in 0..<newWidth {
                            var sum: Float = 0
                            for (index, weight) in yWeights[oy] { sum += source[inPlane + index * newWidth + ox] * weight }
                            target[outPlane + oy * newWidth + ox] = sum
                        }
                    }
                }
            }
        }
        return Image(width: newWidth, height: newHeight, channels: channels, pixels: out)
    }

    /// The image as a network sees it: `channels` colour channels (grey or RGB, alpha
    /// dropped) at `size` × `size`. The aspect ratio is not kept — parts are photographed
    /// square-on by a fixed camera, and padding would change what the network saw in
    /// training — and shrinking averages areas (see `resizedForInput`).
    public func modelInput(channels: Int, size: Int) -> Image {
        converted(toChannels: channels).resizedForInput(width: size, height: size)
    }

    /// Resized to fit `side` × `side` for a network input: area averaging when shrinking,
    /// bilinear when enlarging; aspect ratio is not kept (callers crop first if it matters).
    public func resizedForInput(width newWidth: Int, height newHeight: Int) -> Image {
        if newWidth <= width && newHeight <= height {
            return areaResized(width: newWidth, height: newHeight)
        }
        return resized(width: newWidth, height: newHeight)
    }

    /// Bilinear sample of channel `c` at continuous pixel-index coordinates (x, y), where
    /// integer coordinates are pixel centres. Outside the image the border mode applies.
    @inlinable
    public func sample(channel c: Int, x: Float, y: Float, border: BorderMode) -> Float {
        let fx = x.rounded(.down), fy = y.rounded(.down)
        let x0 = Int(fx), y0 = Int(fy)
        let wx = x - fx, wy = y - fy
        let a = value(channel: c, x: x0, y: y0, border: border)
        let b = value(channel: c, x: x0 + 1, y: y0, border: border)
        let d = value(channel: c, x: x0, y: y0 + 1, border: border)
        let e = value(channel: c, x: x0 + 1, y: y0 + 1, border: border)
        let top = a + (b - a) * wx
        let bottom = d + (e - d) * wx
        return top + (bottom - top) * wy
    }

    /// The sample at integer (x, y), with the border mode for positions outside.
    @inlinable
    public func value(channel c: Int, x: Int, y: Int, border: BorderMode) -> Float {
        if x >= 0 && x < width && y >= 0 && y < height { return self[c, y, x] }
        switch border {
        case .constant(let fill): return fill
        case .edge: return self[c, min(max(y, 0), height - 1), min(max(x, 0), width - 1)]
        case .reflect: return self[c, Self.reflectIndex(y, height), Self.reflectIndex(x, width)]
        }
    }

    @usableFromInline
    static func reflectIndex(_ i: Int, _ size: Int) -> Int {
        guard size > 1 else { return 0 }
        let period = 2 * (size - 1)
        var m = i % period
        if m < 0 { m += period }
        return m < size ? m : period - m
    }

    /// For each output index: the two source indices and the weight of the second.
    public static func bilinearTaps(from inSize: Int, to outSize: Int) -> [(Int, Int, Float)] {
        let scale = Float(inSize) / Float(outSize)
        return (0..<outSize).map { o in
            let s = max((Float(o) + 0.5) * scale - 0.5, 0)
            let i0 = min(Int(s), inSize - 1)
            let i1 = min(i0 + 1, inSize - 1)
            return (i0, i1, s - Float(i0))
        }
    }

    /// For each output index: the covered source indices with their normalised weights.
    static func areaWeights(from inSize: Int, to outSize: Int) -> [[(Int, Float)]] {
        let scale = Double(inSize) / Double(outSize)
        return (0..<outSize).map { o in
            let start = Double(o) * scale, end = Double(o + 1) * scale
            var taps: [(Int, Float)] = []
            var i = Int(start.rounded(.down))
            while Double(i) < end && i < inSize {
                let covered = min(end, Double(i + 1)) - max(start, Double(i))
                if covered > 1e-9 { taps.append((i, Float(covered / scale))) }
                i += 1
            }
            return taps
        }
    }
}
