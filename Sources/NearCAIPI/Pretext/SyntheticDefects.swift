#if canImport(Glibc)
import Glibc
#endif
import Imaging
import SeededRandom

/// A part with synthetic defects drawn on it, and exactly the pixels they changed.
public struct SyntheticDefect: Sendable {
    public var image: Image
    /// The pixels whose value changed by more than `SyntheticDefects.changeThreshold` in some
    /// channel; every other pixel is the original's, bit for bit.
    public var mask: BinaryMask
    /// What was drawn, in order (empty when every attempt changed too few pixels).
    public var kinds: [SyntheticDefects.Kind]
}

/// Synthetic local defects made from a workspace's own parts, for the defect pretext
/// (`Docs/Pretraining.md`). Four kinds; the first three after the published pretexts that
/// work from scratch:
///
/// - **patch** (NSA, CutPaste): a region of another part — or of the same part elsewhere —
///   rescaled by 0.75–1.33, turned by up to ±20°, laid in with a feathered edge and its
///   brightness matched to the place it covers, so there is no seam to find: only structure
///   that does not belong there;
/// - **scar**: a thin curved line, 1–5 px wide, darker or lighter than the part;
/// - **blob** (DRAEM): an irregular region — smooth noise thresholded inside a round window —
///   filled with another part's texture, or with the part's own pixels under a brightness and
///   contrast change;
/// - **warp**: the part's own structure moved — a smooth displacement inside a round region,
///   I′(p) = I(p − D(p)), D(p) = a · b(|p − c| / r) · d(p) with the bump b(t) = (1 − t²)² for
///   t < 1 and d either one direction (an outline pushed in or out, a bead bent aside) or
///   away from / towards the centre (a bulge, a pinch). Nothing is added that the part did
///   not have: a dent, a kink or a bent edge is every pixel still looking like the part, only
///   in the wrong place — what the other kinds cannot teach. Always centred on an outline
///   (anywhere only on a part without one): a warp of plain texture changes pixels and shows
///   nothing.
///
/// The first three are = I · (1 − α) + F · α with a soft α; sizes run from a few pixels to about a
/// tenth of the image (log-uniform). The mask is not the shape that was drawn but what
/// changed: a pixel is in it when some channel moved by more than `changeThreshold`, and a
/// pixel that moved less is set back to the original, so the mask is exactly the changed
/// pixels and nothing a network could see lies outside it.
public struct SyntheticDefects: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case patch, scar, blob, warp }

    /// How often each kind is drawn.
    public var kindWeights: [(Kind, Float)]

    /// The standard mix draws patches, scars and blobs (0.4 / 0.25 / 0.35); `warps` adds
    /// warps as a fifth of the defects (0.3 / 0.2 / 0.3 / 0.2 — the mix that was measured).
    public init(warps: Bool = false) {
        kindWeights = warps ? [(.patch, 0.3), (.scar, 0.2), (.blob, 0.3), (.warp, 0.2)] : [(.patch, 0.4), (.scar, 0.25), (.blob, 0.35)]
    }

    /// The smallest change of a channel (values in [0, 1]) that counts: two levels of 8 bits.
    public static let changeThreshold: Float = 2 / 255
    /// A defect changing fewer pixels is drawn again (a change nobody could see teaches nothing).
    public var minimumPixels = 6
    /// The largest region, as a share of the image.
    public var maximumArea: Float = 0.1
    /// The smallest region, in pixels.
    public var minimumArea: Float = 12
    /// How many defects one image gets: one, two or three, with these weights.
    public var countWeights: [Float] = [0.7, 0.2, 0.1]

    /// `part` with one or more synthetic defects. `donors` are other parts of the same size and
    /// channels whose texture patches and blobs may take (empty: the part's own elsewhere).
    public func make(on part: Image, donors: [Image], random: inout SplitMix64) -> SyntheticDefect {
        let count = random.pick(weighted: countWeights.enumerated().map { ($0.offset + 1, $0.element) })
        var image = part
        var kinds: [Kind] = []
        for _ in 0..<count {
            // A few attempts: a patch of flat background on flat background may change nothing.
            for _ in 0..<8 {
                let kind = random.pick(weighted: kindWeights)
                let donor = donors.isEmpty || random.chance(0.25) ? part : donors[random.integer(0, donors.count - 1)]
                let drawn = draw(kind, on: image, donor: donor, random: &random)
                if Self.changedPixels(from: image, to: drawn) >= minimumPixels {
                    image = drawn
                    kinds.append(kind)
                    break
                }
            }
        }
        let mask = Self.settle(&image, against: part)
        return SyntheticDefect(image: image, mask: mask, kinds: mask.isEmpty ? [] : kinds)
    }

    /// Sets every pixel that changed by at most `changeThreshold` back to `original` and
    /// returns the pixels that changed by more.
    static func settle(_ image: inout Image, against original: Image) -> BinaryMask {
        let n = image.planeSize, channels = image.channels
        var bits = [Bool](repeating: false, count: n)
        for i in 0..<n {
            var largest: Float = 0
            for c in 0..<channels { largest = max(largest, abs(image.pixels[c * n + i] - original.pixels[c * n + i])) }
            if largest > changeThreshold {
                bits[i] = true
            } else {
                for c in 0..<channels { image.pixels[c * n + i] = original.pixels[c * n + i] }
            }
        }
        return BinaryMask(width: image.width, height: image.height, bits: bits)
    }

    static func changedPixels(from a: Image, to b: Image) -> Int {
        let n = a.planeSize
        var count = 0
        for i in 0..<n {
            for c in 0..<a.channels where abs(a.pixels[c * n + i] - b.pixels[c * n + i]) > changeThreshold {
                count += 1
                break
            }
        }
        return count
    }

    /// A region's size: an area drawn log-uniformly between the smallest and the largest, and
    /// an aspect of 1:2 to 2:1.
    func regionSize(in image: Image, random: inout SplitMix64) -> (width: Float, height: Float) {
        let largest = maximumArea * Float(image.planeSize)
        let area = expf(random.uniform(logf(minimumArea), logf(max(largest, minimumArea * 2))))
        let aspect = expf(random.uniform(logf(0.5), logf(2)))
        return ((area * aspect).squareRoot(), (area / aspect).squareRoot())
    }

    func draw(_ kind: Kind, on image: Image, donor: Image, random: inout SplitMix64) -> Image {
        switch kind {
        case .patch: return patch(on: image, donor: donor, random: &random)
        case .scar: return scar(on: image, random: &random)
        case .blob: return blob(on: image, donor: donor, random: &random)
        case .warp: return warp(on: image, random: &random)
        }
    }

    /// I · (1 − α) + F · α over the box where α may be non-zero, F clamped to [0, 1].
    /// `alpha(x, y)` and `fill(c, x, y)` are evaluated only inside `box`.
    static func composite(_ image: Image, box: PixelRect, alpha: (Int, Int) -> Float,
                          fill: (Int, Int, Int) -> Float) -> Image {
        var out = image
        guard let box = box.intersection(PixelRect(x: 0, y: 0, width: image.width, height: image.height)) else { return out }
        for y in box.y..<box.maxY {
            for x in box.x..<box.maxX {
                let a = alpha(x, y)
                guard a > 0 else { continue }
                for c in 0..<image.channels {
                    let f = min(max(fill(c, x, y), 0), 1)
                    out[c, y, x] = image[c, y, x] * (1 - a) + f * a
                }
            }
        }
        return out
    }

    /// A rounded shape with a feathered edge: α = clamp((1 − r) / feather, 0, 1) with r the
    /// superellipse radius (|u|^p + |v|^p)^(1/p) of the point in the region's own frame.
    static func feathered(u: Float, v: Float, power: Float, feather: Float) -> Float {
        let r = powf(powf(abs(u), power) + powf(abs(v), power), 1 / power)
        return min(max((1 - r) / feather, 0), 1)
    }

    func patch(on image: Image, donor: Image, random: inout SplitMix64) -> Image {
        let (w, h) = regionSize(in: image, random: &random)
        let (width, height) = (Float(image.width), Float(image.height))
        let cx = random.uniform(0, width), cy = random.uniform(0, height)
        let sx = random.uniform(w / 2, max(width - w / 2, w / 2 + 1)), sy = random.uniform(h / 2, max(height - h / 2, h / 2 + 1))
        let scale = expf(random.uniform(logf(0.75), logf(1.33))), angle = random.uniform(-0.35, 0.35)
        let power = random.uniform(2, 6), feather = random.uniform(0.15, 0.4)
        let (cosA, sinA) = (cosf(angle), sinf(angle))
        let half = max(w, h) / 2 + 1
        let box = PixelRect(x: Int((cx - half).rounded(.down)), y: Int((cy - half).rounded(.down)),
                            width: Int(2 * half) + 2, height: Int(2 * half) + 2)
        func alpha(_ x: Int, _ y: Int) -> Float {
            let dx = Float(x) - cx, dy = Float(y) - cy
            return Self.feathered(u: (dx * cosA + dy * sinA) / (w / 2), v: (-dx * sinA + dy * cosA) / (h / 2),
                                  power: power, feather: feather)
        }
        func source(_ c: Int, _ x: Int, _ y: Int) -> Float {
            let dx = Float(x) - cx, dy = Float(y) - cy
            return donor.sample(channel: c, x: sx + (dx * cosA + dy * sinA) / scale, y: sy + (-dx * sinA + dy * cosA) / scale,
                                border: .edge)
        }
        // Matched brightness: per channel, the patch's α-weighted mean is moved onto that of
        // the pixels it covers.
        let shift = Self.meanShift(image, box: box, alpha: alpha, source: source)
        return Self.composite(image, box: box, alpha: alpha) { c, x, y in source(c, x, y) + shift[c] }
    }

    /// Per channel: the α-weighted mean of `image` minus that of `source` over the box.
    static func meanShift(_ image: Image, box: PixelRect, alpha: (Int, Int) -> Float, source: (Int, Int, Int) -> Float) -> [Float] {
        guard let box = box.intersection(PixelRect(x: 0, y: 0, width: image.width, height: image.height)) else {
            return [Float](repeating: 0, count: image.channels)
        }
        var weight: Float = 0
        var under = [Float](repeating: 0, count: image.channels), patch = under
        for y in box.y..<box.maxY {
            for x in box.x..<box.maxX {
                let a = alpha(x, y)
                guard a > 0 else { continue }
                weight += a
                for c in 0..<image.channels {
                    under[c] += a * image[c, y, x]
                    patch[c] += a * source(c, x, y)
                }
            }
        }
        guard weight > 0 else { return under }
        return (0..<image.channels).map { (under[$0] - patch[$0]) / weight }
    }

    func scar(on image: Image, random: inout SplitMix64) -> Image {
        let side = Float(min(image.width, image.height))
        var x = random.uniform(0, Float(image.width)), y = random.uniform(0, Float(image.height))
        var heading = random.uniform(0, 2 * Float.pi)
        let bend = random.uniform(0, 0.12)
        let length = random.uniform(0.08, 0.4) * side
        let width = random.uniform(0.6, 2.5)
        var points: [(Float, Float)] = [(x, y)]
        for _ in 0..<Int(length) {
            heading += random.normal() * bend
            x += cosf(heading)
            y += sinf(heading)
            points.append((x, y))
        }
        let change = (random.chance(0.5) ? -1 : 1) * random.uniform(0.12, 0.45)
        let xs = points.map(\.0), ys = points.map(\.1)
        let margin = Int(width.rounded(.up)) + 2
        let box = PixelRect(x: Int(xs.min()!) - margin, y: Int(ys.min()!) - margin,
                            width: Int(xs.max()! - xs.min()!) + 2 * margin + 1, height: Int(ys.max()! - ys.min()!) + 2 * margin + 1)
        func alpha(_ px: Int, _ py: Int) -> Float {
            var nearest = Float.infinity
            for (qx, qy) in points {
                let d = (Float(px) - qx) * (Float(px) - qx) + (Float(py) - qy) * (Float(py) - qy)
                nearest = min(nearest, d)
            }
            // Full strength on the line's core, fading over a pixel at its sides.
            return min(max(width / 2 + 0.5 - nearest.squareRoot(), 0), 1)
        }
        return Self.composite(image, box: box, alpha: alpha) { c, px, py in image[c, py, px] + change }
    }

    func blob(on image: Image, donor: Image, random: inout SplitMix64) -> Image {
        let (w, h) = regionSize(in: image, random: &random)
        // The noise covers a square twice the region's size, so thresholding near its median
        // leaves a shape of about the drawn area inside the round window.
        let side = max(w, h) * 1.6
        let cx = random.uniform(0, Float(image.width)), cy = random.uniform(0, Float(image.height))
        let grid = random.integer(3, 6)
        var noise = [Float](repeating: 0, count: grid * grid)
        for i in noise.indices { noise[i] = random.unit() }
        let threshold = random.uniform(0.35, 0.55)
        let box = PixelRect(x: Int(cx - side / 2) - 1, y: Int(cy - side / 2) - 1, width: Int(side) + 3, height: Int(side) + 3)
        func alpha(_ x: Int, _ y: Int) -> Float {
            let u = (Float(x) - cx) / side + 0.5, v = (Float(y) - cy) / side + 0.5
            guard u >= 0, u <= 1, v >= 0, v <= 1 else { return 0 }
            let gx = u * Float(grid - 1), gy = v * Float(grid - 1)
            let x0 = min(Int(gx), grid - 2), y0 = min(Int(gy), grid - 2)
            let fx = gx - Float(x0), fy = gy - Float(y0)
            let top = noise[y0 * grid + x0] * (1 - fx) + noise[y0 * grid + x0 + 1] * fx
            let bottom = noise[(y0 + 1) * grid + x0] * (1 - fx) + noise[(y0 + 1) * grid + x0 + 1] * fx
            let value = top * (1 - fy) + bottom * fy
            // A window that falls to zero at the square's inscribed circle keeps the blob local.
            let r = ((u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5)).squareRoot() * 2
            let windowed = value * max(1 - r * r, 0)
            return min(max((windowed - threshold * 0.6) / 0.08, 0), 1)
        }
        if random.chance(0.5) {
            // Another part's texture, from elsewhere, brightness matched.
            let ox = random.uniform(-Float(image.width) / 2, Float(image.width) / 2)
            let oy = random.uniform(-Float(image.height) / 2, Float(image.height) / 2)
            func source(_ c: Int, _ x: Int, _ y: Int) -> Float {
                donor.sample(channel: c, x: Float(x) + ox, y: Float(y) + oy, border: .reflect)
            }
            let shift = Self.meanShift(image, box: box, alpha: alpha, source: source)
            return Self.composite(image, box: box, alpha: alpha) { c, x, y in source(c, x, y) + shift[c] }
        }
        // The part's own pixels, brighter or darker and with more or less contrast.
        let brightness = (random.chance(0.5) ? -1 : 1) * random.uniform(0.08, 0.35)
        let contrast = expf(random.uniform(logf(0.5), logf(1.8)))
        let mean = image.mean
        return Self.composite(image, box: box, alpha: alpha) { c, x, y in (image[c, y, x] - mean) * contrast + mean + brightness }
    }

    func warp(on image: Image, random: inout SplitMix64) -> Image {
        // A change of shape shows over a stretch of outline: radii from 6 % to 30 % of the
        // part's shorter side (log-uniform), wider than most local defects.
        let side = Float(min(image.width, image.height))
        let radius = expf(random.uniform(logf(0.06 * side), logf(0.3 * side)))
        let (cx, cy): (Float, Float)
        if let edge = Self.edgePoint(of: image, random: &random) {
            (cx, cy) = edge
        } else {
            (cx, cy) = (random.uniform(0, Float(image.width)), random.uniform(0, Float(image.height)))
        }
        // Up to 0.3 of the radius: more would fold the region over itself.
        let amplitude = random.uniform(1.5, max(1.6, radius * 0.3))
        let radial = random.chance(0.35)
        let sign: Float = random.chance(0.5) ? 1 : -1
        let heading = random.uniform(0, 2 * Float.pi)
        let (dx0, dy0) = (cosf(heading), sinf(heading))
        var out = image
        let x0 = max(Int((cx - radius).rounded(.down)), 0), x1 = min(Int((cx + radius).rounded(.up)), image.width - 1)
        let y0 = max(Int((cy - radius).rounded(.down)), 0), y1 = min(Int((cy + radius).rounded(.up)), image.height - 1)
        guard x0 <= x1, y0 <= y1 else { return out }
        for y in y0...y1 {
            for x in x0...x1 {
                let ux = Float(x) - cx, uy = Float(y) - cy
                let t2 = (ux * ux + uy * uy) / (radius * radius)
                guard t2 < 1 else { continue }
                let bump = (1 - t2) * (1 - t2) * amplitude
                let (ddx, ddy): (Float, Float)
                if radial {
                    // Scaled by t so the centre stays put: away from the centre (a bulge) or towards it.
                    let r = (ux * ux + uy * uy).squareRoot() / radius
                    let length = max(r * radius, 1e-6)
                    (ddx, ddy) = (sign * bump * r * ux / length, sign * bump * r * uy / length)
                } else {
                    (ddx, ddy) = (bump * dx0, bump * dy0)
                }
                for c in 0..<image.channels {
                    out[c, y, x] = image.sample(channel: c, x: Float(x) - ddx, y: Float(y) - ddy, border: .edge)
                }
            }
        }
        return out
    }

    /// A point on the part's outlines: drawn with probability proportional to the squared
    /// brightness gradient of the part blurred over 5 × 5 pixels (channels averaged), so that
    /// outlines — a rim, a hole, a bead's edge — are chosen and fine texture or sensor noise,
    /// whose gradient the blur removes, is not: a warp of noise is still noise, a change no one
    /// could see. Nil on a flat image.
    static func edgePoint(of image: Image, random: inout SplitMix64) -> (Float, Float)? {
        let (width, height, n) = (image.width, image.height, image.planeSize)
        guard width > 4, height > 4 else { return nil }
        // The channels' mean, then a 5 × 5 box blur through a summed-area table.
        var table = [Float](repeating: 0, count: (width + 1) * (height + 1))
        for y in 0..<height {
            var row: Float = 0
            for x in 0..<width {
                var value: Float = 0
                for c in 0..<image.channels { value += image.pixels[c * n + y * width + x] }
                row += value / Float(image.channels)
                table[(y + 1) * (width + 1) + x + 1] = table[y * (width + 1) + x + 1] + row
            }
        }
        func blurred(_ x: Int, _ y: Int) -> Float {
            let x0 = max(x - 2, 0), x1 = min(x + 3, width), y0 = max(y - 2, 0), y1 = min(y + 3, height)
            let sum = table[y1 * (width + 1) + x1] - table[y0 * (width + 1) + x1] - table[y1 * (width + 1) + x0] + table[y0 * (width + 1) + x0]
            return sum / Float((x1 - x0) * (y1 - y0))
        }
        var cumulative = [Float](repeating: 0, count: n)
        var total: Float = 0
        for y in 0..<height {
            for x in 0..<width {
                if x > 0, x < width - 1, y > 0, y < height - 1 {
                    let gx = blurred(x + 1, y) - blurred(x - 1, y), gy = blurred(x, y + 1) - blurred(x, y - 1)
                    total += gx * gx + gy * gy
                }
                cumulative[y * width + x] = total
            }
        }
        guard total > 1e-6 else { return nil }
        let target = random.unit() * total
        var low = 0, high = n - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return (Float(low % width), Float(low / width))
    }
}
