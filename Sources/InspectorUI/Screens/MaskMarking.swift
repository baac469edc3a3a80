import Imaging

/// How a painted mask is drawn over the part, so that the defect being traced stays visible:
/// the region's inside lightly tinted, its edge in a bright line, the brush as a yellow square
/// and a rectangle being drawn as its outline from the first corner to the brush.
struct MaskMarking: Sendable {
    var mask: BinaryMask
    /// The brush (centre and radius) while editing; nil once the mask is done.
    var brush: (x: Int, y: Int, radius: Int)?
    /// The first corner of a rectangle being drawn.
    var rectangleStart: (x: Int, y: Int)?

    /// Share of red mixed into the inside: enough to see where, little enough to see what.
    static let insideTint: Float = 0.3

    init(editor: MaskEditor) {
        mask = editor.mask
        brush = (editor.x, editor.y, editor.brush)
        rectangleStart = editor.rectangleStart
    }

    init(mask: BinaryMask) { self.mask = mask }

    /// `picture` (RGB, the mask's size) with the marking drawn in.
    func drawn(on picture: Image) -> Image {
        var out = picture.rgb()
        let (width, height) = (mask.width, mask.height)
        func paint(_ x: Int, _ y: Int, _ r: Float, _ g: Float, _ b: Float) {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            out[0, y, x] = r; out[1, y, x] = g; out[2, y, x] = b
        }
        for y in 0..<height { for x in 0..<width where mask[y, x] {
            let edge = x == 0 || y == 0 || x == width - 1 || y == height - 1
                || !mask[y - 1, x] || !mask[y + 1, x] || !mask[y, x - 1] || !mask[y, x + 1]
            if edge {
                paint(x, y, 1, 0.2, 0.2)
            } else {
                let t = Self.insideTint
                out[0, y, x] = out[0, y, x] * (1 - t) + t
                out[1, y, x] *= 1 - t
                out[2, y, x] *= 1 - t
            }
        } }
        if let start = rectangleStart, let brush {
            let (x0, x1) = (min(start.x, brush.x), max(start.x, brush.x)), (y0, y1) = (min(start.y, brush.y), max(start.y, brush.y))
            for x in x0...x1 { paint(x, y0, 0.3, 0.8, 1); paint(x, y1, 0.3, 0.8, 1) }
            for y in y0...y1 { paint(x0, y, 0.3, 0.8, 1); paint(x1, y, 0.3, 0.8, 1) }
        }
        if let brush {
            let r = brush.radius
            for y in (brush.y - r)...(brush.y + r) {
                for x in (brush.x - r)...(brush.x + r) where y == brush.y - r || y == brush.y + r || x == brush.x - r || x == brush.x + r {
                    paint(x, y, 1, 1, 0)
                }
            }
        }
        return out
    }
}
