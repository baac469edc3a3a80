import SeededRandom
/// Small planar geometry used to draw defects and their exact masks from the same shapes.
struct Point: Sendable {
    var x: Float
    var y: Float
}

@inline(__always)
func clamp01(_ v: Float) -> Float { min(max(v, 0), 1) }

/// Distance from p to the segment a–b.
func distance(from p: Point, toSegment a: Point, _ b: Point) -> Float {
    let dx = b.x - a.x, dy = b.y - a.y
    let lengthSquared = dx * dx + dy * dy
    var t: Float = 0
    if lengthSquared > 0 { t = clamp01(((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSquared) }
    let cx = a.x + t * dx - p.x, cy = a.y + t * dy - p.y
    return (cx * cx + cy * cy).squareRoot()
}

/// Distance from p to the nearest segment of a polyline.
func distance(from p: Point, toPolyline points: [Point]) -> Float {
    var best = Float.infinity
    for i in 1..<points.count { best = min(best, distance(from: p, toSegment: points[i - 1], points[i])) }
    return best
}

/// Fraction of a pixel covered by a shape whose edge lies `signedDistance` pixels away from
/// the pixel centre (negative = centre inside): a one-pixel linear ramp, ½ on the edge.
/// The mask rule "centre inside the shape" is exactly "coverage ≥ ½".
@inline(__always)
func coverage(signedDistance: Float) -> Float { clamp01(0.5 - signedDistance) }

/// A wandering polyline of `steps` segments of `stepLength`, starting at `start` heading
/// `angle` (radians), turning by up to ±`wander` per step. Used for cracks and scratches.
func randomWalk(start: Point, angle: Float, steps: Int, stepLength: Float, wander: Float,
                using random: inout SplitMix64) -> [Point] {
    var points = [start]
    var heading = angle
    var current = start
    for _ in 0..<steps {
        heading += random.uniform(-wander, wander)
        current = Point(x: current.x + stepLength * cosf(heading), y: current.y + stepLength * sinf(heading))
        points.append(current)
    }
    return points
}

#if canImport(Glibc)
import Glibc
#endif
