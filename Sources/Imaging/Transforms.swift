extension Image {
    /// The pixels inside `rect`, which must lie within the image.
    public func cropped(to rect: PixelRect) -> Image {
        precondition(rect.x >= 0 && rect.y >= 0 && rect.maxX <= width && rect.maxY <= height && !rect.isEmpty,
                     "crop \(rect) outside \(width)x\(height)")
        var out = [Float](repeating: 0, count: rect.area * channels)
        for c in 0..<channels {
            for row in 0..<rect.height {
                let from = (c * height + rect.y + row) * width + rect.x
                let to = (c * rect.height + row) * rect.width
                out[to..<(to + rect.width)] = pixels[from..<(from + rect.width)]
            }
        }
        return Image(width: rect.width, height: rect.height, channels: channels, pixels: out)
    }

    /// Grown by the given margins, new pixels taken from `border`.
    public func padded(top: Int, left: Int, bottom: Int, right: Int, border: BorderMode) -> Image {
        precondition(top >= 0 && left >= 0 && bottom >= 0 && right >= 0, "negative padding")
        let newWidth = width + left + right, newHeight = height + top + bottom
        var out = Image(width: newWidth, height: newHeight, channels: channels)
        for c in 0..<channels {
            for y in 0..<newHeight {
                for x in 0..<newWidth {
                    out[c, y, x] = value(channel: c, x: x - left, y: y - top, border: border)
                }
            }
        }
        return out
    }

    /// Mirrored left ↔ right.
    public func flippedHorizontally() -> Image {
        var out = self
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width { out[c, y, x] = self[c, y, width - 1 - x] }
            }
        }
        return out
    }

    /// Mirrored top ↔ bottom.
    public func flippedVertically() -> Image {
        var out = self
        for c in 0..<channels {
            for y in 0..<height {
                let from = (c * height + (height - 1 - y)) * width, to = (c * height + y) * width
                out.pixels[to..<(to + width)] = pixels[from..<(from + width)]
            }
        }
        return out
    }

    /// Rotated clockwise by `quarterTurns` × 90°; negative turns rotate anticlockwise.
    public func rotated(quarterTurns: Int) -> Image {
        let turns = ((quarterTurns % 4) + 4) % 4
        guard turns != 0 else { return self }
        if turns == 2 { return flippedHorizontally().flippedVertically() }
        // One clockwise turn: output (x', y') of size H × W shows source (x = y', y = H − 1 − x').
        var out = Image(width: height, height: width, channels: channels)
        for c in 0..<channels {
            for y in 0..<out.height {
                for x in 0..<out.width {
                    out[c, y, x] = turns == 1 ? self[c, height - 1 - x, y] : self[c, x, width - 1 - y]
                }
            }
        }
        return out
    }

    /// Zoomed by `scale` about the point (`centerX`, `centerY`) in continuous coordinates
    /// (pixel `i` covers [i, i + 1)); the output has the same size. The output pixel with
    /// centre p shows the source at c + (p − c) / scale: scale > 1 zooms in, scale < 1 zooms
    /// out and fills the uncovered margin from `border`.
    public func zoomed(by scale: Float, aboutX centerX: Float, y centerY: Float, border: BorderMode) -> Image {
        precondition(scale > 0, "zoom scale must be positive")
        var out = Image(width: width, height: height, channels: channels)
        let inverse = 1 / scale
        for y in 0..<height {
            let sy = centerY + (Float(y) + 0.5 - centerY) * inverse - 0.5
            for x in 0..<width {
                let sx = centerX + (Float(x) + 0.5 - centerX) * inverse - 0.5
                for c in 0..<channels { out[c, y, x] = sample(channel: c, x: sx, y: sy, border: border) }
            }
        }
        return out
    }

    /// Shifted by (dx, dy) pixels, uncovered pixels from `border`.
    public func shifted(dx: Int, dy: Int, border: BorderMode) -> Image {
        var out = Image(width: width, height: height, channels: channels)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width { out[c, y, x] = value(channel: c, x: x - dx, y: y - dy, border: border) }
            }
        }
        return out
    }

    /// Contrast and brightness: v' = clamp((v − ½) · contrast + ½ + brightness).
    public func adjusted(brightness: Float, contrast: Float) -> Image {
        var out = self
        for i in out.pixels.indices {
            out.pixels[i] = min(max((pixels[i] - 0.5) * contrast + 0.5 + brightness, 0), 1)
        }
        return out
    }

    /// `other` drawn over this image with its top-left corner at (x, y); parts outside are
    /// clipped. Channel counts must match.
    public mutating func paste(_ other: Image, atX left: Int, y top: Int) {
        precondition(other.channels == channels, "paste needs matching channel counts")
        guard let visible = PixelRect(x: left, y: top, width: other.width, height: other.height)
            .intersection(PixelRect(x: 0, y: 0, width: width, height: height)) else { return }
        for c in 0..<channels {
            for y in visible.y..<visible.maxY {
                let from = (c * other.height + y - top) * other.width + (visible.x - left)
                let to = (c * height + y) * width + visible.x
                pixels[to..<(to + visible.width)] = other.pixels[from..<(from + visible.width)]
            }
        }
    }

    /// A copy with `other` pasted at (x, y); see `paste(_:atX:y:)`.
    public func pasting(_ other: Image, atX left: Int, y top: Int) -> Image {
        var out = self
        out.paste(other, atX: left, y: top)
        return out
    }

    /// Per pixel blend: `weight` (a single-channel image of this size, in [0, 1]) chooses
    /// `other` where it is 1 and this image where it is 0.
    public func blended(with other: Image, weight: Image) -> Image {
        precondition(other.width == width && other.height == height && other.channels == channels, "blend shape")
        precondition(weight.width == width && weight.height == height && weight.channels == 1, "blend weight shape")
        var out = self
        for c in 0..<channels {
            for i in 0..<planeSize {
                let w = weight.pixels[i]
                out.pixels[c * planeSize + i] += (other.pixels[c * planeSize + i] - pixels[c * planeSize + i]) * w
            }
        }
        return out
    }
}
