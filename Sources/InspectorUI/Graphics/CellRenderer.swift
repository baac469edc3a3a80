import Foundation
import Imaging

/// An 8-bit colour.
public struct RGB: Sendable, Equatable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { (self.r, self.g, self.b) = (r, g, b) }

    init(_ image: Image, _ x: Int, _ y: Int) {
        func byte(_ c: Int) -> UInt8 { UInt8(max(0, min(1, image[min(c, image.channels - 1), y, x])) * 255 + 0.5) }
        self.init(byte(0), byte(1), byte(2))
    }

    /// The nearest of xterm's 256 colours (16–231 the 6×6×6 cube, 232–255 the grey ramp),
    /// chosen by squared error between the two candidates, as a cell is chosen by measured error.
    public var xterm256: Int {
        let levels: [Int] = [0, 95, 135, 175, 215, 255]
        func cubeIndex(_ v: UInt8) -> Int { Int(v) < 48 ? 0 : Int(v) < 115 ? 1 : (Int(v) - 35) / 40 }
        let (ci, cj, ck) = (cubeIndex(r), cubeIndex(g), cubeIndex(b))
        let cube = (levels[ci], levels[cj], levels[ck])
        let mean = (Int(r) + Int(g) + Int(b)) / 3
        let greyIndex = mean > 238 ? 23 : max(0, (mean - 3) / 10)
        let grey = 8 + greyIndex * 10
        func error(_ c: (Int, Int, Int)) -> Int {
            (c.0 - Int(r)) * (c.0 - Int(r)) + (c.1 - Int(g)) * (c.1 - Int(g)) + (c.2 - Int(b)) * (c.2 - Int(b))
        }
        return error((grey, grey, grey)) < error(cube) ? 232 + greyIndex : 16 + 36 * ci + 6 * cj + ck
    }
}

/// One character cell of a text-drawn image.
public struct Cell: Sendable, Equatable {
    public var character: Character
    public var foreground: RGB?
    public var background: RGB?
}

/// A text-drawn image: rows of cells.
public struct CellGrid: Sendable, Equatable {
    public var columns: Int, rows: Int
    public var cells: [Cell]
    public subscript(row: Int, column: Int) -> Cell { cells[row * columns + column] }

    /// A readable form for snapshot tests: the characters, then each cell's colours as xterm
    /// 256-colour numbers (foreground/background).
    public var snapshot: String {
        var text = ""
        for row in 0..<rows { text += String((0..<columns).map { self[row, $0].character }) + "\n" }
        for row in 0..<rows {
            text += (0..<columns).map { column -> String in
                let cell = self[row, column]
                return "\(cell.foreground.map { String($0.xterm256) } ?? "-")/\(cell.background.map { String($0.xterm256) } ?? "-")"
            }.joined(separator: " ") + "\n"
        }
        return text
    }
}

/// How images reach the terminal.
extension GraphicsMode {
    /// Jet where colours are seen; on a grey-ramp (ASCII) screen only brightness is, and jet's
    /// brightness rises and falls again (dark blue, bright yellow, dark red), so hot and cold
    /// would look alike: a ramp that only rises instead.
    public var heatmapColors: ColorMap { self == .ascii ? .grey : .jet }
}

public enum GraphicsMode: String, Sendable, CaseIterable {
    /// True pixels (DEC sixel), written to the tty after curses has drawn the text.
    case sixel
    /// True pixels in 24-bit colour (the kitty graphics protocol), written as sixel is.
    case kitty
    /// `▀` cells: foreground the upper pixel, background the lower.
    case halfblock
    /// A grey ramp of characters, for dumb terminals and NO_COLOR.
    case ascii

    /// Whether pictures are sent as screen pixels (sixel, kitty) rather than drawn in cells.
    public var drawsPixels: Bool { self == .sixel || self == .kitty }

    /// user override > the kitty protocol when the terminal answered its question (24-bit
    /// colour, no palette: preferred where a terminal speaks both) > the terminal's answer to
    /// primary device attributes (`ESC [ c`; sixel when its attribute list holds 4) > TERM
    /// and colour hints.
    public static func choose(override: GraphicsMode?, deviceAttributes: String?, kittyGraphics: Bool = false,
                              environment: [String: String]) -> GraphicsMode {
        if let override { return override }
        if kittyGraphics { return .kitty }
        if let reply = deviceAttributes, hasSixel(reply) { return .sixel }
        let term = environment["TERM"] ?? ""
        if environment["NO_COLOR"] != nil || term.isEmpty || term == "dumb" || term == "vt100" || term == "linux-m" { return .ascii }
        return .halfblock
    }

    /// Why sixel pictures would not arrive although asked for, or nil: inside tmux (it answers
    /// the terminal queries itself and drops sixel data unless built for it) or GNU screen.
    public static func sixelBlocker(environment: [String: String]) -> String? { blocker(for: .sixel, environment: environment) }

    /// Why pictures of `mode` (sixel or kitty) would not arrive although asked for, or nil.
    public static func blocker(for mode: GraphicsMode, environment: [String: String]) -> String? {
        guard mode.drawsPixels else { return nil }
        let term = environment["TERM"] ?? ""
        if environment["TMUX"] != nil || term.hasPrefix("tmux") { return "tmux does not pass \(mode.rawValue) pictures through" }
        if environment["STY"] != nil || term.hasPrefix("screen") { return "GNU screen does not pass \(mode.rawValue) pictures through" }
        return nil
    }

    /// Whether a DA1 reply `ESC [ ? 6 2 ; 4 ; … c` lists attribute 4 (sixel graphics).
    public static func hasSixel(_ reply: String) -> Bool {
        guard let start = reply.range(of: "[?"), let end = reply.range(of: "c", range: start.upperBound..<reply.endIndex) else { return false }
        return reply[start.upperBound..<end.lowerBound].split(separator: ";").contains("4")
    }
}

/// Text renderings of an image into a box of cells.
public enum CellRenderer {
    /// The largest size, in cells, at which an image of `width`×`height` pixels fits
    /// `columns`×`rows` keeping its aspect, when a cell shows 1×`pixelsPerRow` pixels of a
    /// square-pixel image (half-block: 2; ASCII: 2, as a cell is about twice as tall as wide,
    /// one character standing for a 1×2 patch).
    public static func fit(width: Int, height: Int, columns: Int, rows: Int) -> (columns: Int, rows: Int) {
        guard width > 0, height > 0, columns > 0, rows > 0 else { return (0, 0) }
        // In half-cells: a cell is 1 wide and 2 tall in pixel units.
        let scale = min(Double(columns) / Double(width), Double(rows * 2) / Double(height))
        return (max(1, Int(Double(width) * scale)), max(1, Int((Double(height) * scale / 2).rounded())))
    }

    /// `▀` cells, the image area-resampled to `columns` × 2·`rows` pixels.
    public static func halfBlock(_ image: Image, columns: Int, rows: Int) -> CellGrid {
        let small = image.areaResized(width: columns, height: rows * 2)
        var cells: [Cell] = []
        cells.reserveCapacity(columns * rows)
        for row in 0..<rows {
            for column in 0..<columns {
                cells.append(Cell(character: "▀", foreground: RGB(small, column, 2 * row), background: RGB(small, column, 2 * row + 1)))
            }
        }
        return CellGrid(columns: columns, rows: rows, cells: cells)
    }

    /// Dark to light.
    public static let ramp: [Character] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]

    /// One ramp character per cell from the luminance of a `columns` × `rows` area resample.
    public static func ascii(_ image: Image, columns: Int, rows: Int) -> CellGrid {
        let small = image.areaResized(width: columns, height: rows)
        var cells: [Cell] = []
        for row in 0..<rows {
            for column in 0..<columns {
                let luminance: Float = small.channels >= 3
                    ? 0.299 * small[0, row, column] + 0.587 * small[1, row, column] + 0.114 * small[2, row, column]
                    : small[0, row, column]
                let index = Int((max(0, min(1, luminance)) * Float(ramp.count - 1)).rounded())
                cells.append(Cell(character: ramp[index], foreground: nil, background: nil))
            }
        }
        return CellGrid(columns: columns, rows: rows, cells: cells)
    }

    /// The escape sequences that draw a half-block grid in 24-bit colour at (row, column)
    /// (1-based terminal coordinates are made here), for terminals that announce truecolor.
    public static func truecolorSequence(_ grid: CellGrid, row: Int, column: Int) -> String {
        var text = ""
        for r in 0..<grid.rows {
            text += "\u{1B}[\(row + r + 1);\(column + 1)H"
            var last: [RGB] = []
            for c in 0..<grid.columns {
                let cell = grid[r, c]
                if let fg = cell.foreground, let bg = cell.background, [fg, bg] != last {
                    text += "\u{1B}[38;2;\(fg.r);\(fg.g);\(fg.b);48;2;\(bg.r);\(bg.g);\(bg.b)m"
                    last = [fg, bg]
                }
                text.append(cell.character)
            }
        }
        return text + "\u{1B}[0m"
    }
}
