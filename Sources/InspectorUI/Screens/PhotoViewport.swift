import Imaging

/// Which part of a photo the screens show: the whole photo at zoom 1, half its width and
/// height at zoom 2, and so on, centred where the inspector looks. Pure arithmetic on the
/// photo's pixel grid; the painter fits the visible rectangle into its panel.
struct PhotoViewport: Sendable, Equatable {
    static let zoomLevels = [1, 2, 4, 8, 16]
    /// The fewest photo pixels a zoomed view spans on its shorter side: beyond that a pixel
    /// fills a panel and there is nothing more to see.
    static let minimumSpan = 8

    private(set) var zoom = 1
    /// A 1:1 view: this many photo pixels across and down — the panel's own picture
    /// elements — so each photo pixel is one screen pixel (one half-cell in text). Nil
    /// otherwise; a zoom step leaves it for the nearest level that way.
    private(set) var actualWidth: Int?, actualHeight: Int?
    /// The centre of the visible rectangle, in photo pixels.
    private(set) var centerX = 0.0, centerY = 0.0
    let photoWidth: Int, photoHeight: Int

    init(photoWidth: Int, photoHeight: Int) {
        self.photoWidth = max(1, photoWidth)
        self.photoHeight = max(1, photoHeight)
        centerX = Double(self.photoWidth) / 2
        centerY = Double(self.photoHeight) / 2
    }

    var isZoomed: Bool { zoom > 1 || isActualPixels && (visible.width < photoWidth || visible.height < photoHeight) }

    var isActualPixels: Bool { actualWidth != nil }

    /// The photo pixels on screen: 1/zoom of each side (at least one pixel), or the 1:1
    /// view's, kept inside the photo.
    var visible: PixelRect {
        var width = max(1, (photoWidth + zoom - 1) / zoom), height = max(1, (photoHeight + zoom - 1) / zoom)
        if let actualWidth, let actualHeight { (width, height) = (min(photoWidth, max(1, actualWidth)), min(photoHeight, max(1, actualHeight))) }
        let x = min(max(0, Int((centerX - Double(width) / 2).rounded())), photoWidth - width)
        let y = min(max(0, Int((centerY - Double(height) / 2).rounded())), photoHeight - height)
        return PixelRect(x: x, y: y, width: width, height: height)
    }

    /// Shows `width` × `height` photo pixels (a panel's picture elements) about (x, y): each
    /// photo pixel one picture element.
    mutating func showActualPixels(width: Int, height: Int, aboutX x: Int, y: Int) {
        (actualWidth, actualHeight) = (max(1, width), max(1, height))
        (centerX, centerY) = (Double(x) + 0.5, Double(y) + 0.5)
        settle()
    }

    /// Leaves the 1:1 view for the zoom level nearest it `closer` or farther (its centre
    /// kept); false when not in it.
    private mutating func leaveActualPixels(closer: Bool) -> Bool {
        guard let actualWidth else { return false }
        let equivalent = Double(photoWidth) / Double(max(1, actualWidth))
        let levels = Self.zoomLevels.filter { $0 <= maximumZoom }
        zoom = closer ? (levels.first { Double($0) > equivalent } ?? levels.last ?? 1) : (levels.last { Double($0) < equivalent } ?? 1)
        (self.actualWidth, actualHeight) = (nil, nil)
        settle()
        return true
    }

    /// The largest zoom that still shows `minimumSpan` pixels of the shorter side.
    var maximumZoom: Int {
        let shorter = min(photoWidth, photoHeight)
        return Self.zoomLevels.last { $0 == 1 || shorter / $0 >= Self.minimumSpan } ?? 1
    }

    /// One level closer, about (x, y) when given (the brush), else about the centre. Returns
    /// false at the closest level.
    @discardableResult
    mutating func zoomIn(aboutX x: Int? = nil, y: Int? = nil) -> Bool {
        if leaveActualPixels(closer: true) { return true }
        guard let next = Self.zoomLevels.first(where: { $0 > zoom }), next <= maximumZoom else { return false }
        if let x, let y { (centerX, centerY) = (Double(x) + 0.5, Double(y) + 0.5) } else { settle() }
        zoom = next
        settle()
        return true
    }

    /// One level in or out, the photo pixel (x, y) staying where it is on screen (under the
    /// pointer, under the brush). Returns false when there is no level further that way.
    @discardableResult
    mutating func zoom(in closer: Bool, keeping x: Int, _ y: Int) -> Bool {
        if leaveActualPixels(closer: closer) { return true }
        let before = zoom
        guard let next = closer ? Self.zoomLevels.first(where: { $0 > zoom }) : Self.zoomLevels.last(where: { $0 < zoom }),
              next <= maximumZoom else { return false }
        let (px, py) = (Double(x) + 0.5, Double(y) + 0.5)
        let shrink = Double(before) / Double(next)
        centerX = px + (centerX - px) * shrink
        centerY = py + (centerY - py) * shrink
        zoom = next
        settle()
        return true
    }

    /// One level further out; false when the whole photo is already shown.
    @discardableResult
    mutating func zoomOut() -> Bool {
        if leaveActualPixels(closer: false) { return true }
        guard let previous = Self.zoomLevels.last(where: { $0 < zoom }) else { return false }
        zoom = previous
        settle()
        return true
    }

    /// Moves the view by a share of what is visible (`dx` = 1: one visible width to the right).
    mutating func pan(dx: Double, dy: Double) {
        let shown = visible
        centerX += dx * Double(shown.width)
        centerY += dy * Double(shown.height)
        settle()
    }

    /// Keeps (x, y) — the brush — in view, an eighth of the view away from its edges, moving
    /// the view only when the point would leave that band.
    mutating func follow(x: Int, y: Int) {
        guard isZoomed else { return }
        let shown = visible
        let marginX = Double(shown.width) / 8, marginY = Double(shown.height) / 8
        let px = Double(x) + 0.5, py = Double(y) + 0.5
        if px < Double(shown.x) + marginX { centerX -= Double(shown.x) + marginX - px }
        if px > Double(shown.maxX) - marginX { centerX += px - (Double(shown.maxX) - marginX) }
        if py < Double(shown.y) + marginY { centerY -= Double(shown.y) + marginY - py }
        if py > Double(shown.maxY) - marginY { centerY += py - (Double(shown.maxY) - marginY) }
        settle()
    }

    /// The centre moved back to where the visible rectangle lies inside the photo, so a pan
    /// past the edge does not leave a debt to pay back first.
    private mutating func settle() {
        let shown = visible
        centerX = Double(shown.x) + Double(shown.width) / 2
        centerY = Double(shown.y) + Double(shown.height) / 2
    }

    /// "x 300–524, y 100–324 of 900×900", or the photo's size when it is shown whole.
    var words: String {
        guard isZoomed else { return "\(photoWidth)×\(photoHeight) px" }
        let shown = visible
        return "x \(shown.x)–\(shown.maxX - 1), y \(shown.y)–\(shown.maxY - 1) of \(photoWidth)×\(photoHeight)"
    }

    /// For the item line: "zoom 4× · x 300–524, …", or the photo's size.
    var summary: String { isActualPixels ? "1:1 · " + words : isZoomed ? "zoom \(zoom)× · " + words : words }

    /// How large the view shows a photo pixel, for messages: "1:1" or "zoom 4×".
    var scaleWords: String { isActualPixels ? "1:1" : "zoom \(zoom)×" }
}
