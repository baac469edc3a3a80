import SeededRandom
import Imaging
#if canImport(Glibc)
import Glibc
#endif

/// A MIG weld seam across a brushed aluminium plate, seen from above by a fixed camera.
///
/// The bead is a half-cylinder of half-width w along a gently tilted, slightly bent centre
/// line; its fish-scale texture is a ripple whose phase runs along the seam and bends back
/// towards the edges (crescent-shaped solidification fronts). Defects change the bead's
/// geometry (interruption, irregular scale, end crater, missing seam) or darken it
/// (pores, crack, black area); the mask is the same geometry tested at each pixel centre.
struct WeldSeamDrawing {
    let size: Int
    var random: SplitMix64
    /// Pixel lengths are given for a 128-pixel image and multiplied by this.
    let scale: Float

    init(size: Int, random: SplitMix64) {
        self.size = size
        self.random = random
        scale = Float(size) / 128
    }

    mutating func draw(defect: String) -> SyntheticPart {
        let s = Float(size)
        let mirrored = random.chance(0.5)
        let texture = ValueNoise(seed: random.next())
        let rippleNoise = ValueNoise(seed: random.next())
        // Plate and light.
        let plateGrey = random.uniform(0.55, 0.72)
        let lightX = random.uniform(-1, 1), lightY = random.uniform(-1, 1)
        let lightStrength = random.uniform(0.03, 0.12)
        let exposure = random.uniform(0.88, 1.1)
        let tint = (r: random.uniform(0.97, 1.0), b: random.uniform(1.0, 1.05))
        // Seam geometry.
        let centreY = s / 2 + random.uniform(-0.1, 0.1) * s
        let slope = random.uniform(-0.08, 0.08)
        let bend = random.uniform(-0.06, 0.06)
        let halfWidth = random.uniform(11, 16) * scale
        let ripplePeriod = random.uniform(4.5, 6.5) * scale
        let rippleCurve = random.uniform(0.6, 1.4)
        let rippleStrength = random.uniform(0.05, 0.1)
        let beadGrey = plateGrey * random.uniform(0.78, 0.95)
        let heatTint = random.uniform(0.0, 0.06)
        let heatZone = random.uniform(3, 7) * scale
        func centre(_ x: Float) -> Float {
            let t = (x - s / 2) / s
            return centreY + slope * (x - s / 2) + bend * t * t * s
        }

        // Defect parameters that change the bead itself.
        var seamStart: Float = -20, seamEnd = s + 20
        var gap: ClosedRange<Float>? = nil
        var irregular: ClosedRange<Float>? = nil
        var irregularStrength: Float = 0
        var crater: (x: Float, radius: Float, depth: Float)? = nil
        var seamPresent = true
        // A kink: over a short stretch the bead leaves its line sideways and comes back.
        var kink: (x: Float, length: Float, amount: Float)? = nil
        switch defect {
        case "kink":
            kink = (random.uniform(0.2, 0.8) * s, random.uniform(7, 16) * scale,
                    random.uniform(0.5, 1.0) * halfWidth * (random.chance(0.5) ? 1 : -1))
        case "no_seam":
            seamPresent = false
        case "interruption":
            let length = random.uniform(6, 22) * scale
            let start = random.uniform(0.15 * s, 0.85 * s - length)
            gap = start...(start + length)
        case "irregular_scale":
            let length = random.uniform(18, 48) * scale
            let start = random.uniform(0.05 * s, 0.95 * s - length)
            irregular = start...(start + length)
            irregularStrength = random.uniform(0.35, 1)
        case "end_crater":
            seamEnd = random.uniform(0.6, 0.88) * s
            crater = (seamEnd - halfWidth * 0.55, halfWidth * random.uniform(0.6, 0.85), random.uniform(0.3, 0.75))
        default: break
        }

        var image = Image(width: size, height: size, channels: 3)
        var mask = BinaryMask(width: size, height: size)
        for py in 0..<size {
            for px in 0..<size {
                let x = Float(px) + 0.5, y = Float(py) + 0.5
                // Brushed plate: noise stretched along x, plus a lighting gradient.
                let brushed = texture.fractal(x / (24 * scale), y / (1.2 * scale), octaves: 3) - 0.5
                let mottling = texture.fractal(x / (30 * scale) + 17, y / (30 * scale) + 5, octaves: 2) - 0.5
                let light = lightStrength * (lightX * (x / s - 0.5) + lightY * (y / s - 0.5)) * 2
                var grey = plateGrey + 0.07 * brushed + 0.05 * mottling + light
                var r: Float = 1, b: Float = 1

                // Signed distance across the seam; a kink moves the bead's line by `aside`.
                let aside = kink.map { k in k.amount * expf(-((x - k.x) / k.length) * ((x - k.x) / k.length)) } ?? 0
                let u = y - centre(x) - aside
                let reach = halfWidth + heatZone
                if abs(aside) >= 0.75 * scale, abs(u) < reach || abs(u + aside) < reach, x > seamStart, x < seamEnd {
                    // The stretch of seam that left its line: where the bead (with the tint
                    // beside it) is and where it should be.
                    mask[py, px] = true
                }
                if seamPresent {
                    // Bead half-width, wobbling where the scale is irregular.
                    var w = halfWidth * (1 + 0.03 * sinf(x / (9 * scale)))
                    var period = ripplePeriod
                    var curve = rippleCurve
                    var inIrregular = false
                    if let band = irregular, band.contains(x) {
                        inIrregular = true
                        let n = rippleNoise.fractal(x / (5 * scale), 3.3, octaves: 2) - 0.5
                        w *= 1 + irregularStrength * 0.55 * n
                        period *= 1 + irregularStrength * 1.2 * (rippleNoise.value(x / (7 * scale), 9.1) - 0.3)
                        curve *= 1 - irregularStrength * 1.6 * (rippleNoise.value(x / (6 * scale), 1.7))
                    }
                    // Heat-affected zone beside the bead: a faint straw tint.
                    let outside = abs(u) - w
                    if outside > 0 && outside < heatZone && x > seamStart && x < seamEnd {
                        let f = 1 - outside / heatZone
                        r += heatTint * f
                        b -= heatTint * 1.5 * f
                        grey -= 0.04 * f
                    }
                    // Bead coverage: inside |u| < w and between the seam's ends, outside gaps.
                    var beadDistance = abs(u) - w
                    beadDistance = max(beadDistance, seamStart - x, x - seamEnd)
                    if let gap {
                        let ragged = 1.5 * scale * (rippleNoise.value(u / (2 * scale), 40) - 0.5)
                        let intoGap = min(x - gap.lowerBound + ragged, gap.upperBound - x - ragged)
                        beadDistance = max(beadDistance, intoGap)
                        if intoGap > 0 && abs(u) < w { mask[py, px] = true }
                    }
                    let beadCoverage = coverage(signedDistance: beadDistance)
                    if beadCoverage > 0 {
                        let n = max(-1, min(1, u / w))
                        let height = (1 - n * n).squareRoot()
                        // Ripple: phase bends back towards the bead edges.
                        let phase = (x - curve * n * n * w) / period
                        let wave = 0.5 + 0.5 * cosf(2 * Float.pi * phase)
                        let crescent = wave * wave * wave
                        var bead = beadGrey + 0.12 * height - 0.06 * n * lightY
                        bead += rippleStrength * (crescent - 0.3) * (0.4 + height)
                        bead += 0.12 * expf(-(n + 0.25) * (n + 0.25) / 0.03)  // specular ridge
                        bead -= 0.14 * powf(abs(n), 6)  // soot at the bead edges
                        if inIrregular {
                            bead += irregularStrength * 0.06 * (rippleNoise.value(x / (3 * scale), n * 4) - 0.5)
                            if abs(u) < w { mask[py, px] = true }
                        }
                        grey += (bead - grey) * beadCoverage
                        r += (0.99 - r) * beadCoverage
                        b += (0.97 - b) * beadCoverage
                    }
                    if let crater {
                        let dx = x - crater.x, dy = u
                        let d = (dx * dx + dy * dy).squareRoot()
                        let c = coverage(signedDistance: d - crater.radius)
                        if c > 0 {
                            let bowl = 1 - min(d / crater.radius, 1)
                            grey *= 1 - c * crater.depth * (0.35 + 0.65 * bowl)
                            grey += c * 0.1 * crater.depth * (dx / crater.radius) * lightX
                        }
                        if d <= crater.radius { mask[py, px] = true }
                    }
                } else if abs(u) < halfWidth {
                    // No seam: the nominal seam band of the jig is what is missing.
                    mask[py, px] = true
                }
                grey *= exposure
                grey += 0.012 * (texture.grain(px, py) - 0.5)
                image[0, py, px] = grey * r * tint.r
                image[1, py, px] = grey
                image[2, py, px] = grey * b * tint.b
            }
        }

        switch defect {
        case "pores": drawPores(into: &image, mask: &mask, centre: centre, halfWidth: halfWidth)
        case "crack": drawCrack(into: &image, mask: &mask, centre: centre, halfWidth: halfWidth)
        case "black_area": drawBlackArea(into: &image, mask: &mask, centre: centre, halfWidth: halfWidth)
        case "spatter": drawSpatter(into: &image, mask: &mask, centre: centre, halfWidth: halfWidth)
        default: break
        }
        image = image.clamped()
        if mirrored {
            image = image.flippedHorizontally()
            mask = BinaryMask(thresholding: mask.image.flippedHorizontally())
        }
        return SyntheticPart(image: image, label: defect == "none" ? .ok : .nok, defect: defect, mask: mask)
    }

    /// 1–4 round pores on the bead, from faint dimples to deep holes with a bright rim.
    private mutating func drawPores(into image: inout Image, mask: inout BinaryMask,
                                    centre: (Float) -> Float, halfWidth: Float) {
        let count = random.integer(1, 4)
        for _ in 0..<count {
            let cx = random.uniform(0.08, 0.92) * Float(size)
            let cy = centre(cx) + random.uniform(-0.6, 0.6) * halfWidth
            let radius = random.uniform(1.1, 3.4) * scale
            let depth = random.uniform(0.3, 0.85)
            stamp(&image, mask: &mask, box: RegionBox(around: Point(x: cx, y: cy), reach: radius + 2)) { p in
                let d = ((p.x - cx) * (p.x - cx) + (p.y - cy) * (p.y - cy)).squareRoot()
                let inside = coverage(signedDistance: d - radius)
                let rim: Float = d > radius && d < radius + 1.2 * scale ? 0.07 * depth : 0
                return DefectShade(factor: 1 - depth * inside * (0.6 + 0.4 * (1 - min(d / radius, 1))),
                                   highlight: rim, inside: d <= radius)
            }
        }
    }

    /// Weld spatter: 6–16 tiny bright droplets of metal on the plate beside the bead, each a
    /// lit dome with a faint shadow ring.
    private mutating func drawSpatter(into image: inout Image, mask: inout BinaryMask,
                                      centre: (Float) -> Float, halfWidth: Float) {
        for _ in 0..<random.integer(6, 16) {
            let cx = random.uniform(0.05, 0.95) * Float(size)
            let cy = centre(cx) + random.uniform(1.15, 3.5) * halfWidth * (random.chance(0.5) ? 1 : -1)
            let radius = random.uniform(0.6, 1.5) * scale
            let brightness = random.uniform(0.2, 0.45)
            // A droplet smaller than a pixel still owns the pixel nearest to it (every point is
            // within 0.71 px of a pixel centre), so its mask is never empty.
            stamp(&image, mask: &mask, box: RegionBox(around: Point(x: cx, y: cy), reach: radius + 2)) { p in
                let d = ((p.x - cx) * (p.x - cx) + (p.y - cy) * (p.y - cy)).squareRoot()
                let inside = coverage(signedDistance: d - radius)
                let ring: Float = d > radius && d < radius + scale ? 0.12 : 0
                return DefectShade(factor: 1 - ring, highlight: brightness * inside * (0.6 + 0.4 * (1 - min(d / radius, 1))),
                                   inside: d <= max(radius, 0.71))
            }
        }
    }

    /// A thin dark crack wandering along or across the bead.
    private mutating func drawCrack(into image: inout Image, mask: inout BinaryMask,
                                    centre: (Float) -> Float, halfWidth: Float) {
        let along = random.chance(0.6)
        let sx = random.uniform(0.15, 0.85) * Float(size)
        let start = Point(x: sx, y: centre(sx) + random.uniform(-0.5, 0.5) * halfWidth)
        let angle: Float = along ? random.uniform(-0.3, 0.3) + (random.chance(0.5) ? 0 : Float.pi)
                                 : Float.pi / 2 + random.uniform(-0.4, 0.4)
        let steps = along ? random.integer(4, 12) : random.integer(3, 6)
        let path = randomWalk(start: start, angle: angle, steps: steps, stepLength: 3 * scale,
                              wander: 0.5, using: &random)
        let halfStroke = random.uniform(0.45, 0.85) * scale
        let depth = random.uniform(0.3, 0.75)
        stamp(&image, mask: &mask, box: RegionBox(around: path, margin: 2)) { p in
            let d = distance(from: p, toPolyline: path)
            return DefectShade(factor: 1 - depth * coverage(signedDistance: d - halfStroke), highlight: 0,
                               inside: d <= max(halfStroke, 0.5))
        }
    }

    /// A sooty black patch with a ragged outline on or beside the bead.
    private mutating func drawBlackArea(into image: inout Image, mask: inout BinaryMask,
                                        centre: (Float) -> Float, halfWidth: Float) {
        let cx = random.uniform(0.12, 0.88) * Float(size)
        let cy = centre(cx) + random.uniform(-0.7, 0.7) * halfWidth
        let rx = random.uniform(4, 13) * scale, ry = random.uniform(3, 9) * scale
        let darkness = random.uniform(0.3, 0.8)
        let outline = ValueNoise(seed: random.next())
        let radius = max(rx, ry)
        stamp(&image, mask: &mask, box: RegionBox(around: Point(x: cx, y: cy), reach: radius * 1.5 + 2)) { p in
            let dx = (p.x - cx) / rx, dy = (p.y - cy) / ry
            let f = dx * dx + dy * dy + 0.6 * (outline.fractal(p.x / (3 * scale), p.y / (3 * scale)) - 0.5)
            // Soft edge about one pixel wide in f units.
            let edge = (1 - f) * min(rx, ry) / 2
            let c = coverage(signedDistance: -edge)
            return DefectShade(factor: 1 - darkness * c * (0.7 + 0.3 * min(max(1 - f, 0), 1)), highlight: 0,
                               inside: f <= 1)
        }
    }
}
