import SeededRandom
import Imaging
#if canImport(Glibc)
import Glibc
#endif

/// A cast disc (a pump impeller seen from above) with a centre hole, on a sandy background,
/// in grey — the look of the casting data set the paper used.
///
/// The disc has a bevelled outer rim and a raised hub ring, both shaded by one light
/// direction, and a fine sand-cast surface texture. Defects: scratches (thin bright or dark
/// arcs), blowholes (small dark pits) and chipped edges (a bite out of the rim).
struct CastDiscDrawing {
    let size: Int
    var random: SplitMix64
    let scale: Float

    init(size: Int, random: SplitMix64) {
        self.size = size
        self.random = random
        scale = Float(size) / 128
    }

    mutating func draw(defect: String) -> SyntheticPart {
        let s = Float(size)
        let sand = ValueNoise(seed: random.next())
        let background = random.uniform(0.14, 0.3)
        let surface = random.uniform(0.46, 0.62)
        let cx = s / 2 + random.uniform(-5, 5) * scale, cy = s / 2 + random.uniform(-5, 5) * scale
        let radius = random.uniform(0.36, 0.42) * s
        let holeRadius = random.uniform(0.11, 0.15) * s
        let hubRadius = radius * random.uniform(0.55, 0.64)
        let bevel = random.uniform(3, 5) * scale
        let lightAngle = random.uniform(0, 2 * Float.pi)
        let lightStrength = random.uniform(0.04, 0.1)
        let exposure = random.uniform(0.88, 1.12)
        let texture = random.uniform(0.05, 0.1)

        // A chipped edge is a bite out of the outer rim.
        var bite: (x: Float, y: Float, radius: Float)? = nil
        if defect == "chipped_edge" {
            let angle = random.uniform(0, 2 * Float.pi)
            let biteRadius = random.uniform(5, 11) * scale
            let reach = radius + biteRadius * random.uniform(-0.1, 0.45)
            bite = (cx + reach * cosf(angle), cy + reach * sinf(angle), biteRadius)
        }

        // A dent: over an arc the rim is pushed in, smoothly, by up to `depth`.
        var dent: (angle: Float, halfArc: Float, depth: Float)? = nil
        if defect == "dent" {
            dent = (random.uniform(0, 2 * Float.pi), random.uniform(0.3, 0.7), random.uniform(2.5, 6) * scale)
        }
        func rim(_ dx: Float, _ dy: Float) -> Float {
            guard let dent else { return radius }
            // The angle between this pixel's direction and the dent's, in [0, π].
            var a = fmodf(abs(atan2f(dy, dx) - dent.angle), 2 * Float.pi)
            if a > Float.pi { a = 2 * Float.pi - a }
            return a < dent.halfArc ? radius - dent.depth * 0.5 * (1 + cosf(Float.pi * a / dent.halfArc)) : radius
        }

        var image = Image(width: size, height: size, channels: 1)
        var mask = BinaryMask(width: size, height: size)
        for py in 0..<size {
            for px in 0..<size {
                let x = Float(px) + 0.5, y = Float(py) + 0.5
                let dx = x - cx, dy = y - cy
                let r = (dx * dx + dy * dy).squareRoot()
                // Cosine between the surface's outward direction and the light.
                let facing = r > 0 ? (dx * cosf(lightAngle) + dy * sinf(lightAngle)) / r : 0
                let sandy = sand.fractal(x / (1.6 * scale), y / (1.6 * scale), octaves: 2) - 0.5
                var grey = background + 0.1 * (sand.fractal(x / (5 * scale) + 50, y / (5 * scale), octaves: 3) - 0.5)

                let rimRadius = rim(dx, dy)
                var disc = coverage(signedDistance: r - rimRadius)
                if radius - rimRadius >= 0.75 * scale, r > rimRadius - bevel, r <= radius { mask[py, px] = true }
                if let bite {
                    let bx = x - bite.x, by = y - bite.y
                    let d = (bx * bx + by * by).squareRoot()
                    disc = min(disc, 1 - coverage(signedDistance: d - bite.radius))
                    if d <= bite.radius && r <= radius && r > holeRadius { mask[py, px] = true }
                }
                if disc > 0 {
                    var face = surface + texture * sandy
                    face += lightStrength * (dx * cosf(lightAngle) + dy * sinf(lightAngle)) / radius
                    if r > rimRadius - bevel { face += 0.16 * facing * (r - rimRadius + bevel) / bevel }
                    let hubEdge = abs(r - hubRadius)
                    if hubEdge < 1.6 * scale { face += 0.1 * facing * (1 - hubEdge / (1.6 * scale)) }
                    if r < hubRadius { face += 0.03 }
                    // The hole: a dark well with a lit inner wall.
                    let wall = 3 * scale
                    if r < holeRadius + wall {
                        let into = clamp01((holeRadius + wall - r) / wall)
                        face += -0.12 * facing * into
                    }
                    let hole = coverage(signedDistance: holeRadius - r)
                    face += (0.06 - face) * (1 - hole)
                    grey += (face - grey) * disc
                }
                image[0, py, px] = grey
            }
        }

        let onSurface = { (p: Point) -> Bool in
            let r = ((p.x - cx) * (p.x - cx) + (p.y - cy) * (p.y - cy)).squareRoot()
            return r > holeRadius + 1 && r < radius - 1
        }
        switch defect {
        case "scratch":
            for _ in 0..<random.integer(1, 3) { drawScratch(into: &image, mask: &mask, onSurface: onSurface,
                                                           cx: cx, cy: cy, inner: holeRadius + 4 * scale,
                                                           outer: radius - bevel) }
        case "blowhole":
            for _ in 0..<random.integer(1, 5) { drawBlowhole(into: &image, mask: &mask, cx: cx, cy: cy,
                                                            inner: holeRadius + 4 * scale, outer: radius - bevel) }
        case "inclusions":
            drawInclusions(into: &image, mask: &mask, onSurface: onSurface, cx: cx, cy: cy,
                           inner: holeRadius + 6 * scale, outer: radius - bevel - 4 * scale)
        default: break
        }
        for py in 0..<size {
            for px in 0..<size {
                image[0, py, px] = image[0, py, px] * exposure + 0.014 * (sand.grain(px, py) - 0.5)
            }
        }
        return SyntheticPart(image: image.clamped(), label: defect == "none" ? .ok : .nok, defect: defect, mask: mask)
    }

    /// A thin scratch, straight or gently curved, brighter or darker than the surface.
    private mutating func drawScratch(into image: inout Image, mask: inout BinaryMask, onSurface: (Point) -> Bool,
                                      cx: Float, cy: Float, inner: Float, outer: Float) {
        let angle = random.uniform(0, 2 * Float.pi)
        let at = random.uniform(inner, outer)
        let start = Point(x: cx + at * cosf(angle), y: cy + at * sinf(angle))
        let heading = random.uniform(0, 2 * Float.pi)
        let path = randomWalk(start: start, angle: heading, steps: random.integer(5, 14),
                              stepLength: 3 * scale, wander: 0.12, using: &random)
        let halfStroke = random.uniform(0.5, 1.1) * scale
        let contrast = random.uniform(0.1, 0.35) * (random.chance(0.6) ? 1 : -1)
        stamp(&image, mask: &mask, box: RegionBox(around: path, margin: 2)) { p in
            guard onSurface(p) else { return DefectShade(factor: 1, highlight: 0, inside: false) }
            let d = distance(from: p, toPolyline: path)
            return DefectShade(factor: 1, highlight: contrast * coverage(signedDistance: d - halfStroke),
                               inside: d <= max(halfStroke, 0.5))
        }
    }

    /// Sand inclusions: a cluster of 3–9 tiny bright specks in the surface.
    private mutating func drawInclusions(into image: inout Image, mask: inout BinaryMask, onSurface: (Point) -> Bool,
                                         cx: Float, cy: Float, inner: Float, outer: Float) {
        let angle = random.uniform(0, 2 * Float.pi)
        let at = random.uniform(inner, outer)
        let cluster = Point(x: cx + at * cosf(angle), y: cy + at * sinf(angle))
        let spread = random.uniform(3, 7) * scale
        for _ in 0..<random.integer(3, 9) {
            let centre = Point(x: cluster.x + random.uniform(-1, 1) * spread, y: cluster.y + random.uniform(-1, 1) * spread)
            let radius = random.uniform(0.5, 1.2) * scale
            let brightness = random.uniform(0.15, 0.35)
            stamp(&image, mask: &mask, box: RegionBox(around: centre, reach: radius + 2)) { p in
                guard onSurface(p) else { return DefectShade(factor: 1, highlight: 0, inside: false) }
                let d = ((p.x - centre.x) * (p.x - centre.x) + (p.y - centre.y) * (p.y - centre.y)).squareRoot()
                return DefectShade(factor: 1, highlight: brightness * coverage(signedDistance: d - radius),
                                   inside: d <= max(radius, 0.71))
            }
        }
    }

    /// A small round gas pore in the surface: a dark pit with a soft shadow.
    private mutating func drawBlowhole(into image: inout Image, mask: inout BinaryMask,
                                       cx: Float, cy: Float, inner: Float, outer: Float) {
        let angle = random.uniform(0, 2 * Float.pi)
        let at = random.uniform(inner, outer)
        let centre = Point(x: cx + at * cosf(angle), y: cy + at * sinf(angle))
        let radius = random.uniform(1.5, 4.5) * scale
        let depth = random.uniform(0.45, 0.9)
        stamp(&image, mask: &mask, box: RegionBox(around: centre, reach: radius + 2)) { p in
            let d = ((p.x - centre.x) * (p.x - centre.x) + (p.y - centre.y) * (p.y - centre.y)).squareRoot()
            let inside = coverage(signedDistance: d - radius)
            let shadow: Float = d > radius ? 0.1 * depth * clamp01(1 - (d - radius) / (1.5 * scale)) : 0
            return DefectShade(factor: 1 - depth * inside - shadow, highlight: 0, inside: d <= radius)
        }
    }
}
