import Explanations
import Imaging
import NearCAIPI
#if canImport(Glibc)
import Glibc
#endif

/// A picture written to the terminal outside ncurses, where it went and what it showed.
struct RawImage {
    var row: Int, column: Int, columns: Int, rows: Int
    var key: Int
    var bytes: [UInt8]

    struct Place: Hashable { var row: Int, column: Int, columns: Int, rows: Int }
    struct Identity: Hashable { var place: Place, key: Int }
    var place: Place { Place(row: row, column: column, columns: columns, rows: rows) }
    var identity: Identity { Identity(place: place, key: key) }
}

/// A picture on screen that the mouse can paint on: which cells show which pixels.
struct MouseTarget {
    var box: Layout.Panel
    var width: Int, height: Int
    var columns: Int, rows: Int

    /// The pixel under a cell.
    func pixel(row: Int, column: Int) -> (x: Int, y: Int) {
        ((column - box.column) * width / max(1, columns), (row - box.row) * height / max(1, rows))
    }
}

/// The heatmaps known so far: the worker's results by item path, and how many masks make a
/// complete map.
struct HeatmapLookup {
    var result: (String) -> HeatmapWorker.Result?
    var masks: Int
}

/// Draws text and pictures on one frame of the screen, in the graphics the terminal has.
/// Text goes through curses; sixel and 24-bit half-block pictures are collected as raw
/// images for the shell to write after curses' refresh.
final class Painter {
    let screen: CursesScreen
    let graphics: GraphicsMode
    let truecolor: Bool
    let terminal: TerminalReport
    /// The terminal's output, for the pixel size of a cell (it follows font changes).
    let outputDescriptor: Int32?
    /// This frame's raw pictures.
    private(set) var rawImages: [RawImage] = []
    /// Encoded sixel pictures by content, so a redraw that does not change a picture does not
    /// encode it again.
    private var sixelCache: [Int: [UInt8]] = [:]

    init(screen: CursesScreen, graphics: GraphicsMode, truecolor: Bool, terminal: TerminalReport, outputDescriptor: Int32?) {
        self.screen = screen
        self.graphics = graphics
        self.truecolor = truecolor
        self.terminal = terminal
        self.outputDescriptor = outputDescriptor
    }

    /// Starts a frame: a blank screen, no pictures.
    func beginFrame() {
        screen.clear()
        rawImages = []
    }

    var size: (rows: Int, columns: Int) { screen.size }

    func put(_ text: String, row: Int, column: Int, bold: Bool = false, reverse: Bool = false, dim: Bool = false) {
        screen.put(text, row: row, column: column, bold: bold, reverse: reverse, dim: dim)
    }

    /// Pixels per cell: the kernel's window size follows font changes, then what the terminal
    /// reported, then xterm's default.
    var cellSize: CellSize {
        outputDescriptor.flatMap { CellSize.fromWindowSize(of: $0) } ?? terminal.cellSize ?? .assumed
    }

    var heatmapColors: ColorMap { graphics.heatmapColors }

    /// The overlay of `view`'s heatmap (this map's own min–max, or neutral grey when the map
    /// is flat), with the top-10 % outline of a map that is not flat; and a line saying what
    /// it shows.
    func overlay(for view: ItemView, heatmaps: HeatmapLookup, outline: Bool, compact: Bool = false) -> (Image, String) {
        guard let result = heatmaps.result(view.path) else { return (view.image.rgb(), "heatmap: computing…") }
        let display = result.display
        var image = display.overlay(on: view.image, heatmap: result.heatmap, colorMap: heatmapColors,
                                    opacity: graphics == .ascii ? 0.85 : 0.5)
        if outline && !display.isFlat {
            let top = SaliencyMetrics.topFraction(result.heatmap)
            for y in 0..<top.height { for x in 0..<top.width where top[y, x] {
                let edge = y == 0 || x == 0 || y == top.height - 1 || x == top.width - 1
                    || !top[y - 1, x] || !top[y + 1, x] || !top[y, x - 1] || !top[y, x + 1]
                if edge { for c in 0..<3 { image[c, y, x] = 1 } }
            } }
        }
        // A map that stopped before its last mask was measured well enough (the convergence stop).
        let masks = result.masksDone < heatmaps.masks ? "\(result.masksDone) masks, enough" : "\(result.masksDone) masks"
        // A panel title has room for the caption only once the map is complete.
        if compact { return (image, result.complete ? display.shortCaption : "heatmap \(result.masksDone)/\(heatmaps.masks)…") }
        let state = result.complete ? "InvRISE of NOK, \(masks)" : "heatmap: \(result.masksDone)/\(heatmaps.masks) masks…"
        return (image, "\(state) · \(display.caption)")
    }

    /// Draws `image` fitted into `box`; returns the drawn size in cells.
    @discardableResult
    func drawImage(_ image: Image, in box: Layout.Panel, marking: MaskMarking? = nil) -> (columns: Int, rows: Int) {
        let fit = CellRenderer.fit(width: image.width, height: image.height, columns: box.columns, rows: box.rows)
        guard fit.columns > 0 else { return fit }
        let picture = marking?.drawn(on: image) ?? image.rgb()
        switch graphics {
        case .sixel:
            let cell = cellSize
            let room = (width: box.columns * cell.width, height: box.rows * cell.height / 6 * 6)
            let fit = min(Double(room.width) / Double(image.width), Double(room.height) / Double(image.height))
            // Enlarged by a whole factor (every pixel a crisp block, quantised once at its own
            // size), reduced by area averaging; whole sixel bands (6 pixel rows) only, so the
            // last band never reaches below the box.
            var source = picture, scale = max(1, Int(fit))
            while scale > 1, (image.height * scale + 5) / 6 * 6 > room.height { scale -= 1 }
            if fit < 1 {
                source = picture.areaResized(width: max(1, Int(Double(image.width) * fit)),
                                             height: max(6, Int(Double(image.height) * fit) / 6 * 6))
            } else if Double(scale) < 0.8 * fit {
                // A whole factor would leave a fifth of the panel or more unused (1.7× room
                // drawn at 1×): resampled to the room instead, smooth rather than blocky.
                scale = 1
                source = picture.resized(width: max(1, Int(Double(image.width) * fit)),
                                         height: max(6, Int(Double(image.height) * fit) / 6 * 6))
            }
            var hasher = Hasher()
            hasher.combine(scale)
            hasher.combine(source.width)
            source.pixels.withUnsafeBytes { hasher.combine(bytes: $0) }
            let key = hasher.finalize()
            let registers = min(SixelEncoder.defaultRegisters, terminal.colorRegisters ?? SixelEncoder.defaultRegisters)
            let bytes = sixelCache[key] ?? SixelEncoder.encode(source, scale: scale, registers: registers)
            if sixelCache.count > 16 { sixelCache.removeAll() }
            sixelCache[key] = bytes
            let size = (width: source.width * scale, height: source.height * scale)
            let drawn = ((size.width + cell.width - 1) / cell.width, (size.height + cell.height - 1) / cell.height)
            rawImages.append(RawImage(row: box.row, column: box.column, columns: drawn.0, rows: drawn.1, key: key, bytes: bytes))
            return drawn
        case .halfblock:
            let grid = CellRenderer.halfBlock(picture, columns: fit.columns, rows: fit.rows)
            if truecolor {
                let bytes = Array(CellRenderer.truecolorSequence(grid, row: box.row, column: box.column).utf8)
                rawImages.append(RawImage(row: box.row, column: box.column, columns: grid.columns, rows: grid.rows,
                                          key: bytes.hashValue, bytes: bytes))
            } else {
                for row in 0..<grid.rows {
                    for column in 0..<grid.columns {
                        let cell = grid[row, column]
                        let pair = screen.pair(foreground: cell.foreground?.xterm256 ?? -1, background: cell.background?.xterm256 ?? -1)
                        screen.putCell(cell.character, row: box.row + row, column: box.column + column, pair: pair)
                    }
                }
            }
        case .ascii:
            let grid = CellRenderer.ascii(picture, columns: fit.columns, rows: fit.rows)
            for row in 0..<grid.rows {
                var line = String(grid.cells[(row * grid.columns)..<((row + 1) * grid.columns)].map(\.character))
                if let marking {
                    // Painted cells as X, the brush as O: shapes survive without colour.
                    line = String(line.enumerated().map { column, character -> Character in
                        let x = column * image.width / grid.columns, y = row * image.height / grid.rows
                        if let brush = marking.brush, abs(x - brush.x) <= max(brush.radius, image.width / grid.columns / 2)
                            && abs(y - brush.y) <= max(brush.radius, image.height / grid.rows / 2) { return "O" }
                        return marking.mask[min(image.height - 1, y), min(image.width - 1, x)] ? "X" : character
                    })
                }
                screen.put(line, row: box.row + row, column: box.column)
            }
        }
        return fit
    }

    /// The colour bar beside the overlay; a flat map has no hi and lo, so its bar is the same
    /// neutral grey as its overlay, unlabelled.
    func drawColorBar(_ box: Layout.Panel, flat: Bool = false) {
        // Sixel: one bar pixel per screen pixel, so the bar ends where the picture beside it
        // ends (a whole-factor enlargement of a short bar would stop short of it).
        let cell = cellSize
        let height = graphics == .sixel ? max(6, box.rows * cell.height / 6 * 6) : max(2, box.rows * 2)
        let width = graphics == .sixel ? max(1, cell.width - 2) : 1
        let bar = flat ? Image(width: width, height: height, channels: 3, filledWith: 0.5) : heatmapColors.bar(width: width, height: height)
        // The bar image runs from high (top) to low.
        drawImage(bar, in: Layout.Panel(row: box.row, column: box.column, rows: box.rows, columns: 1))
        if !flat {
            // One cell clear of the bar: a sixel bar may spill a few pixels past its cell.
            put("hi", row: box.row, column: box.column + 2, dim: true)
            put("lo", row: box.row + box.rows - 1, column: box.column + 2, dim: true)
        }
    }
}
