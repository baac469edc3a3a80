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
    /// The photo pixels the picture shows (all of them, or a zoomed part).
    var region: PixelRect
    var columns: Int, rows: Int

    /// Whether the cell shows part of the picture.
    func covers(row: Int, column: Int) -> Bool {
        row >= box.row && row < box.row + rows && column >= box.column && column < box.column + columns
    }

    /// The photo pixel under (the middle of) a cell.
    func pixel(row: Int, column: Int) -> (x: Int, y: Int) {
        let x = region.x + ((column - box.column) * 2 + 1) * region.width / max(1, 2 * columns)
        let y = region.y + ((row - box.row) * 2 + 1) * region.height / max(1, 2 * rows)
        return (min(max(x, region.x), region.maxX - 1), min(max(y, region.y), region.maxY - 1))
    }
}

/// A heatmap laid over a photo: the map (computed on the model's square input, so it covers
/// the whole photo, stretched back to the photo's shape), its display range and caption, and
/// whether its top 10 % is outlined.
struct HeatmapLayer {
    var map: Image
    var display: HeatmapDisplay
    var outline: Bool

    /// The explanation (InvRISE) as far as it is computed.
    init(result: HeatmapWorker.Result, outline: Bool) {
        (map, display, self.outline) = (result.heatmap, result.display, outline)
    }

    /// The network's own defect map, on its probability scale.
    init(ownMap: Image, outline: Bool) {
        (map, display, self.outline) = (ownMap, .probabilities(ownMap), outline)
    }

    /// `picture`, which shows `region` of `photo`, with the map over it: the map sampled
    /// (bilinear) at every picture pixel, coloured in the display's range (neutral grey when
    /// flat), and the top 10 % region's edge in white — the threshold taken from the whole map,
    /// so zooming does not move it.
    func drawn(on picture: Image, showing region: PixelRect, of photo: Image, colorMap: ColorMap, opacity: Float) -> Image {
        let scaleX = Double(map.width) / Double(photo.width), scaleY = Double(map.height) / Double(photo.height)
        let local = map.resampled(x: Double(region.x) * scaleX, y: Double(region.y) * scaleY,
                                  width: Double(region.width) * scaleX, height: Double(region.height) * scaleY,
                                  toWidth: picture.width, toHeight: picture.height)
        var out = display.overlay(on: picture, heatmap: local, colorMap: colorMap, opacity: opacity)
        guard outline, !display.isFlat else { return out }
        let top = SaliencyMetrics.topFraction(map)
        guard let threshold = zip(map.pixels, top.bits).filter(\.1).map(\.0).min() else { return out }
        let (width, height) = (out.width, out.height)
        func inside(_ x: Int, _ y: Int) -> Bool { local[0, y, x] >= threshold }
        for y in 0..<height { for x in 0..<width where inside(x, y) {
            let edge = y == 0 || x == 0 || y == height - 1 || x == width - 1
                || !inside(x, y - 1) || !inside(x, y + 1) || !inside(x - 1, y) || !inside(x + 1, y)
            if edge { for c in 0..<3 { out[c, y, x] = 1 } }
        } }
        return out
    }
}

/// The heatmaps known so far: the worker's results by item path, and how many masks make a
/// complete map.
struct HeatmapLookup {
    var result: (String) -> HeatmapWorker.Result?
    var masks: Int

    /// What the map panel lays over the part at `path`: the explanation (InvRISE), or — when
    /// the inspector asked for it (`m`) and the round has one — the network's own defect map;
    /// nothing with the overlay off.
    func layer(_ path: String, state: ScreenState) -> HeatmapLayer? {
        guard state.showOverlay, let result = result(path) else { return nil }
        if state.showOwnMap, let own = result.ownMap { return HeatmapLayer(ownMap: own, outline: state.showOutline) }
        return HeatmapLayer(result: result, outline: state.showOutline)
    }

    /// Whether the network's own map is what `layer` shows for `path`.
    func showsOwnMap(_ path: String, state: ScreenState) -> Bool { state.showOwnMap && result(path)?.ownMap != nil }
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
    /// Photo regions already reduced to a panel (and overlaid), by what made them: a key that
    /// changes nothing in them (a verdict, a brush move) redraws without touching the photo's
    /// pixels again — on a 1 600 × 1 200 photo that is most of a frame.
    private var pictureCache: [PictureKey: Image] = [:]

    struct PictureKey: Hashable {
        var photo: String, photoWidth: Int, photoHeight: Int
        var region: PixelRect
        var width: Int, height: Int
        /// The heatmap laid over it (its values' hash: a map recomputed after a new round
        /// differs even at the same mask count), and whether outlined.
        var heatmap: Int?, flat: Bool, outline: Bool
    }

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
        answerPicture = nil
        answerRoom = nil
    }

    /// How many picture elements (sixel: screen pixels; text: half-cells) the part being
    /// answered gets across in this frame — the geometric mean of its drawn width and height,
    /// so a square part counts its side and a tall thin tile is not refused for its narrow
    /// side alone — whatever the photo's own size: what `Layout.legibleMinimum` is checked
    /// against.
    private(set) var answerPicture: Int?

    /// Notes the room the part being answered has in `box` for a photo region of this shape.
    func noteAnswerPicture(width: Int, height: Int, in box: Layout.Panel) {
        answerPicture = min(answerPicture ?? .max, pictureSize(width: width, height: height, in: box))
        answerRoom = pixelRoom(of: box) ?? (box.columns, box.rows * 2)
    }

    /// The picture elements the panel of the part being answered holds across and down in
    /// this frame: what a 1:1 view shows.
    private(set) var answerRoom: (width: Int, height: Int)?

    /// The picture elements across (geometric mean of the sides) a region of this shape gets
    /// in `box`, as `answerPicture` counts them.
    func pictureSize(width: Int, height: Int, in box: Layout.Panel) -> Int {
        // A region scaled far up, so the room, not the photo's own pixels, decides.
        let room = Self.pixelRoom(width: width * 4096, height: height * 4096, in: box, graphics: graphics, cell: cellSize,
                                  sixelLimit: terminal.sixelLimit)
        return Int(Double(room.width * room.height).squareRoot())
    }

    var size: (rows: Int, columns: Int) { screen.size }

    func put(_ text: String, row: Int, column: Int, bold: Bool = false, reverse: Bool = false, dim: Bool = false) {
        screen.put(text, row: row, column: column, bold: bold, reverse: reverse, dim: dim)
    }

    /// Pixels per cell: the kernel's window size follows font changes, then what the terminal
    /// reported, then xterm's default.
    /// The screen pixels `box` holds when pictures are pixels (sixel, kitty); nil in text.
    func pixelRoom(of box: Layout.Panel) -> (width: Int, height: Int)? {
        graphics.drawsPixels ? Self.sixelRoom(box, cell: cellSize, limit: graphics == .sixel ? terminal.sixelLimit : nil) : nil
    }

    var cellSize: CellSize {
        outputDescriptor.flatMap { CellSize.fromWindowSize(of: $0) } ?? terminal.cellSize ?? .assumed
    }

    var heatmapColors: ColorMap { graphics.heatmapColors }

    /// A line saying what the heatmap of `view` shows: how far it is, and its caption (for a
    /// panel title, `compact`: the short caption once the map is complete).
    func heatmapCaption(for view: ItemView, heatmaps: HeatmapLookup, compact: Bool = false, showingOwnMap: Bool = false) -> String {
        guard let result = heatmaps.result(view.path) else { return "heatmap: computing…" }
        if showingOwnMap, let peak = result.ownMapReading?.peak {
            let highest = String(format: "P(defect) up to %.2f", peak)
            if compact { return "own map, \(highest)" }
            let beside = result.ownMapReading?.agrees.map { $0 ? " · agrees with InvRISE" : " · InvRISE points elsewhere" } ?? ""
            return "the network's own defect map (learnt from painted masks) · \(highest)\(beside) · m: InvRISE"
        }
        let display = result.display
        // A map that stopped before its last mask was measured well enough (the convergence stop).
        let masks = result.masksDone < heatmaps.masks ? "\(result.masksDone) masks, enough" : "\(result.masksDone) masks"
        if compact { return result.complete ? display.shortCaption : "heatmap \(result.masksDone)/\(heatmaps.masks)…" }
        let state = result.complete ? "InvRISE of NOK, \(masks)" : "heatmap: \(result.masksDone)/\(heatmaps.masks) masks…"
        return "\(state) · \(display.caption)"
    }

    /// Draws `region` of `photo` (all of it when nil) fitted into `box`, keeping its aspect:
    /// reduced to the pixels the panel has (area-averaged), or enlarged by `drawImage`; with the
    /// heatmap laid over it and the mask marking drawn in at that size, so a map computed on
    /// the model's square input lies over the photo's own shape and a zoomed view shows the
    /// photo's pixels, not the model's. Returns the drawn size in cells.
    @discardableResult
    func drawPhoto(_ photo: Image, named name: String, showing region: PixelRect? = nil, in box: Layout.Panel,
                   heatmap: HeatmapLayer? = nil, marking: MaskMarking? = nil) -> (columns: Int, rows: Int) {
        let whole = PixelRect(x: 0, y: 0, width: photo.width, height: photo.height)
        let region = region.flatMap { $0.intersection(whole) } ?? whole
        let room = Self.pixelRoom(width: region.width, height: region.height, in: box, graphics: graphics, cell: cellSize,
                                  sixelLimit: terminal.sixelLimit)
        let key = PictureKey(photo: name, photoWidth: photo.width, photoHeight: photo.height, region: region,
                             width: room.width, height: room.height, heatmap: heatmap?.map.pixels.hashValue,
                             flat: heatmap?.display.isFlat ?? false, outline: heatmap?.outline ?? false)
        var picture: Image
        if let cached = pictureCache[key] {
            picture = cached
        } else {
            // The part without the map first: both panels of a part share it.
            var plain = key
            (plain.heatmap, plain.flat, plain.outline) = (nil, false, false)
            if let cached = pictureCache[plain] {
                picture = cached
            } else {
                picture = region == whole ? photo : photo.cropped(to: region)
                if room.width < picture.width || room.height < picture.height {
                    picture = picture.areaResized(width: room.width, height: room.height)
                }
                remember(picture, as: plain)
            }
            if let heatmap {
                picture = heatmap.drawn(on: picture, showing: region, of: photo, colorMap: heatmapColors,
                                        opacity: graphics == .ascii ? 0.85 : 0.5)
                remember(picture, as: key)
            }
        }
        let local = marking?.local(showing: region, width: picture.width, height: picture.height)
        // What the picture is made of, for the sixel cache: the key above and the marking.
        var content = Hasher()
        content.combine(key)
        if let local {
            content.combine(local.mask.bits)
            content.combine(local.brush?.x)
            content.combine(local.brush?.y)
            content.combine(local.brush?.radius)
            content.combine(local.rectangleStart?.x)
            content.combine(local.rectangleStart?.y)
        }
        return drawImage(picture, in: box, marking: local, content: content.finalize())
    }

    /// A few frames' worth: both panels of the shown part and of the one before, or the
    /// supervisor's four.
    private func remember(_ picture: Image, as key: PictureKey) {
        if pictureCache.count >= 12 { pictureCache.removeAll() }
        pictureCache[key] = picture
    }

    /// The pixels a picture of `width` × `height` gets in `box`: its own size when it fits,
    /// else the largest size of the same aspect that does — in screen pixels for sixel (whole
    /// bands of six rows, as `drawImage` draws), in half-cells for text.
    static func pixelRoom(width: Int, height: Int, in box: Layout.Panel, graphics: GraphicsMode, cell: CellSize,
                          sixelLimit: CellSize? = nil) -> (width: Int, height: Int) {
        switch graphics {
        case .sixel, .kitty:
            let room = sixelRoom(box, cell: cell, limit: graphics == .sixel ? sixelLimit : nil)
            let fit = min(Double(room.width) / Double(width), Double(room.height) / Double(height))
            guard fit < 1 else { return (width, height) }
            return (max(1, Int(Double(width) * fit)), max(min(6, height), Int(Double(height) * fit) / 6 * 6))
        case .halfblock, .ascii:
            let fit = CellRenderer.fit(width: width, height: height, columns: box.columns, rows: box.rows)
            return (max(1, min(width, fit.columns)), max(1, min(height, fit.rows * 2)))
        }
    }

    /// The screen pixels a sixel picture may fill in `box`: the box, at most the terminal's
    /// largest picture, whole bands of six rows.
    static func sixelRoom(_ box: Layout.Panel, cell: CellSize, limit: CellSize?) -> (width: Int, height: Int) {
        let width = box.columns * cell.width, height = box.rows * cell.height
        return (min(width, limit?.width ?? width), min(height, limit?.height ?? height) / 6 * 6)
    }

    /// Draws `image` fitted into `box`; returns the drawn size in cells. `content`, when given,
    /// stands for the image's pixels and marking (the caller knows what made them), so a
    /// sixel picture drawn before is found without hashing its pixels again.
    @discardableResult
    func drawImage(_ image: Image, in box: Layout.Panel, marking: MaskMarking? = nil, content: Int? = nil) -> (columns: Int, rows: Int) {
        let fit = CellRenderer.fit(width: image.width, height: image.height, columns: box.columns, rows: box.rows)
        guard fit.columns > 0 else { return fit }
        if graphics.drawsPixels {
            let cell = cellSize
            let room = Self.sixelRoom(box, cell: cell, limit: graphics == .sixel ? terminal.sixelLimit : nil)
            let fit = min(Double(room.width) / Double(image.width), Double(room.height) / Double(image.height))
            // Enlarged by a whole factor (every pixel a crisp block, quantised once at its own
            // size), reduced by area averaging; whole sixel bands (6 pixel rows) only, so the
            // last band never reaches below the box.
            var scale = max(1, Int(fit)), size = (width: image.width, height: image.height)
            var resample: ((Image) -> Image)?
            while scale > 1, (image.height * scale + 5) / 6 * 6 > room.height { scale -= 1 }
            if fit < 1 {
                size = (max(1, Int(Double(image.width) * fit)), max(6, Int(Double(image.height) * fit) / 6 * 6))
                resample = { [size] in $0.areaResized(width: size.width, height: size.height) }
            } else if Double(scale) < 0.95 * fit {
                // A whole factor would leave a twentieth of the panel or more unused (1.7×
                // room drawn at 1×; a zoomed photo drawn smaller than the whole one): resampled
                // to the room instead, smooth rather than blocky.
                scale = 1
                size = (max(1, Int(Double(image.width) * fit)), max(6, Int(Double(image.height) * fit) / 6 * 6))
                resample = { [size] in $0.resized(width: size.width, height: size.height) }
            }
            var source: Image?
            var hasher = Hasher()
            hasher.combine(scale)
            hasher.combine(graphics)
            // A kitty picture carries the id of its place: the same pixels elsewhere differ.
            if graphics == .kitty { hasher.combine(KittyEncoder.id(row: box.row, column: box.column)) }
            hasher.combine(size.width)
            hasher.combine(size.height)
            if let content {
                hasher.combine(content)
            } else {
                let picture = marking?.drawn(on: image) ?? image.rgb()
                source = resample?(picture) ?? picture
                source!.pixels.withUnsafeBytes { hasher.combine(bytes: $0) }
            }
            let key = hasher.finalize()
            let bytes: [UInt8]
            if let cached = sixelCache[key] {
                bytes = cached
            } else {
                let picture = source ?? { let drawn = marking?.drawn(on: image) ?? image.rgb(); return resample?(drawn) ?? drawn }()
                if graphics == .kitty {
                    bytes = KittyEncoder.encode(picture, scale: scale, id: KittyEncoder.id(row: box.row, column: box.column))
                } else {
                    let registers = min(SixelEncoder.defaultRegisters, terminal.colorRegisters ?? SixelEncoder.defaultRegisters)
                    bytes = SixelEncoder.encode(picture, scale: scale, registers: registers)
                }
                if sixelCache.count > 16 { sixelCache.removeAll() }
                sixelCache[key] = bytes
            }
            let shown = (width: size.width * scale, height: size.height * scale)
            let drawn = ((shown.width + cell.width - 1) / cell.width, (shown.height + cell.height - 1) / cell.height)
            rawImages.append(RawImage(row: box.row, column: box.column, columns: drawn.0, rows: drawn.1, key: key, bytes: bytes))
            return drawn
        }
        let picture = marking?.drawn(on: image) ?? image.rgb()
        switch graphics {
        case .sixel, .kitty:
            return fit  // drawn above
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
        let height = graphics.drawsPixels ? max(6, box.rows * cell.height / 6 * 6) : max(2, box.rows * 2)
        let width = graphics.drawsPixels ? max(1, cell.width - 2) : 1
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
