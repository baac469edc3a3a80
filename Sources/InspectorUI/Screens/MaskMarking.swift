import Imaging
#if canImport(Glibc)
import Glibc
#endif

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

    /// The marking as a picture of `width` × `height` showing `region` of the mask's grid sees
    /// it: a picture pixel is painted when any mask pixel it covers is (a hairline painted on
    /// a large photo stays visible when the photo is shown reduced); the brush and a
    /// rectangle's corner move with the picture, their size scaled.
    func local(showing region: PixelRect, width: Int, height: Int) -> MaskMarking {
        let scaleX = Double(region.width) / Double(width), scaleY = Double(region.height) / Double(height)
        // The mask pixels each picture column / row covers (at least one).
        func spans(_ count: Int, _ origin: Int, _ extent: Int, _ scale: Double) -> [Range<Int>] {
            (0..<count).map { index in
                let low = origin + min(extent - 1, Int(Double(index) * scale))
                let high = origin + min(extent, max(Int(Double(index + 1) * scale), low - origin + 1))
                return low..<max(low + 1, high)
            }
        }
        let columns = spans(width, region.x, region.width, scaleX), rows = spans(height, region.y, region.height, scaleY)
        var bits = [Bool](repeating: false, count: width * height)
        // Rows of the region without paint are found with memchr and skipped: a frame of a
        // 2 000-px photo otherwise tests millions of unpainted pixels on every brush move.
        let painted: [Bool] = mask.bits.withUnsafeBufferPointer { all in
            (0..<mask.height).map { row in
                guard row >= region.y, row < region.maxY else { return false }
                return memchr(all.baseAddress! + row * mask.width + region.x, 1, region.width) != nil
            }
        }
        for (y, rowSpan) in rows.enumerated() where rowSpan.contains(where: { $0 < mask.height && painted[$0] }) {
            for (x, columnSpan) in columns.enumerated() {
                search: for my in rowSpan where my < mask.height && painted[my] {
                    for mx in columnSpan where mx < mask.width && mask[my, mx] { bits[y * width + x] = true; break search }
                }
            }
        }
        func place(_ point: (x: Int, y: Int)) -> (x: Int, y: Int) {
            (Int((Double(point.x - region.x) + 0.5) / scaleX), Int((Double(point.y - region.y) + 0.5) / scaleY))
        }
        var marking = MaskMarking(mask: BinaryMask(width: width, height: height, bits: bits))
        marking.brush = brush.map { brush in
            let centre = place((brush.x, brush.y))
            return (centre.x, centre.y, Int((Double(brush.radius) / scaleX).rounded()))
        }
        marking.rectangleStart = rectangleStart.map(place)
        return marking
    }

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
