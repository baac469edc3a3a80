import Imaging

/// What a defect does to one pixel: multiply it by `factor`, add `highlight`, and whether
/// the pixel centre lies inside the defect (then it belongs to the mask).
struct DefectShade {
    var factor: Float
    var highlight: Float
    var inside: Bool
}

/// The region a defect is stamped into: a box in continuous pixel coordinates.
struct RegionBox {
    var minX: Float, maxX: Float, minY: Float, maxY: Float

    init(minX: Float, maxX: Float, minY: Float, maxY: Float) {
        self.minX = minX; self.maxX = maxX; self.minY = minY; self.maxY = maxY
    }

    init(around p: Point, reach: Float) {
        self.init(minX: p.x - reach, maxX: p.x + reach, minY: p.y - reach, maxY: p.y + reach)
    }

    init(around points: [Point], margin: Float) {
        let xs = points.map(\.x), ys = points.map(\.y)
        self.init(minX: xs.min()! - margin, maxX: xs.max()! + margin, minY: ys.min()! - margin, maxY: ys.max()! + margin)
    }
}

/// Applies a defect to every pixel of `box` (clipped to the image): the pixel is shaded by
/// `shade` at its centre, and joins the mask when the centre is inside the defect. Drawing
/// and mask come from the same function, so the mask is exact by construction.
func stamp(_ image: inout Image, mask: inout BinaryMask, box: RegionBox, shade: (Point) -> DefectShade) {
    let x0 = max(Int(box.minX.rounded(.down)), 0), x1 = min(Int(box.maxX.rounded(.up)), image.width - 1)
    let y0 = max(Int(box.minY.rounded(.down)), 0), y1 = min(Int(box.maxY.rounded(.up)), image.height - 1)
    guard x0 <= x1, y0 <= y1 else { return }
    for py in y0...y1 {
        for px in x0...x1 {
            let effect = shade(Point(x: Float(px) + 0.5, y: Float(py) + 0.5))
            for c in 0..<image.channels { image[c, py, px] = image[c, py, px] * effect.factor + effect.highlight }
            if effect.inside { mask[py, px] = true }
        }
    }
}
