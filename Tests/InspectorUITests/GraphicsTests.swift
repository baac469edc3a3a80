import Foundation
import Imaging
@testable import InspectorUI
import Testing
import TestSupport

/// A small sixel decoder written from the DEC description, independent of the encoder:
/// palette definitions, `#n` selection, raster attributes, sixel characters, `!n` repeats,
/// `$` and `-`. Returns RGB pixels (percent → 0…1) and what it saw.
struct SixelDecoder {
    var width = 0, height = 0
    var pixels: [[Float]] = []   // rows × (3 · width)
    var trailingNewline = false
    var registersDefined = 0

    init(_ bytes: [UInt8]) throws {
        let text = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
        guard text.starts(with: Array("\u{1B}P0;1;0q".unicodeScalars)), text.suffix(2) == ["\u{1B}", "\\"] else {
            throw DecodeError.message("not a DCS sixel stream")
        }
        var i = 8
        var palette: [Int: (Float, Float, Float)] = [:]
        var colour = 0, x = 0, band = 0
        func number() -> Int {
            var value = 0
            while i < text.count, let digit = Int(String(text[i])) { value = value * 10 + digit; i += 1 }
            return value
        }
        func set(_ bits: Int, count: Int) {
            for _ in 0..<count {
                for row in 0..<6 where bits & (1 << row) != 0 {
                    let y = band * 6 + row
                    guard y < height, x < width else { continue }
                    let c = palette[colour] ?? (0, 0, 0)
                    pixels[y][3 * x] = c.0; pixels[y][3 * x + 1] = c.1; pixels[y][3 * x + 2] = c.2
                }
                x += 1
            }
        }
        while i < text.count - 2 {
            let character = text[i]
            switch character {
            case "\"":
                i += 1
                _ = number(); i += 1; _ = number(); i += 1
                width = number(); i += 1; height = number()
                pixels = Array(repeating: Array(repeating: -1, count: 3 * width), count: height)
            case "#":
                i += 1
                let register = number()
                if i < text.count, text[i] == ";" {
                    i += 1; let system = number(); i += 1
                    let r = number(); i += 1; let g = number(); i += 1; let b = number()
                    guard system == 2 else { throw DecodeError.message("colour system \(system)") }
                    palette[register] = (Float(r) / 100, Float(g) / 100, Float(b) / 100)
                    registersDefined += 1
                } else {
                    colour = register
                }
            case "!":
                i += 1
                let count = number()
                guard count <= 255 else { throw DecodeError.message("run of \(count)") }
                set(Int(text[i].value) - 63, count: count)
                i += 1
            case "$": x = 0; i += 1
            case "-":
                x = 0; band += 1; i += 1
                if i >= text.count - 2 { trailingNewline = true }
            default:
                guard (63...126).contains(character.value) else { throw DecodeError.message("unexpected \(character)") }
                set(Int(character.value) - 63, count: 1)
                i += 1
            }
        }
    }

    enum DecodeError: Error { case message(String) }
}

@Suite struct SixelTests {
    static func gradient(width: Int, height: Int) -> Image {
        var image = Image(width: width, height: height, channels: 3)
        for y in 0..<height { for x in 0..<width {
            image[0, y, x] = Float(x) / Float(width - 1)
            image[1, y, x] = Float(y) / Float(height - 1)
            image[2, y, x] = 0.5 + 0.5 * sin(Float(x + y) / 9)
        } }
        return image
    }

    static func psnr(_ decoded: SixelDecoder, _ image: Image) -> Double {
        var picture = Image(width: decoded.width, height: decoded.height, channels: 3)
        for y in 0..<decoded.height { for x in 0..<decoded.width { for c in 0..<3 {
            picture[c, y, x] = decoded.pixels[y][3 * x + c]
        } } }
        return image.peakSignalToNoiseRatio(of: picture)
    }

    @Test func greyImagesDecodeExactlyToSixelPrecision() throws {
        var image = Image(width: 37, height: 20, channels: 1)   // a height that is not a multiple of 6
        for y in 0..<20 { for x in 0..<37 { image[0, y, x] = Float((x * 7 + y * 3) % 101) / 100 } }
        let bytes = SixelEncoder.encode(image)
        let decoded = try SixelDecoder(bytes)
        #expect(decoded.width == 37 && decoded.height == 20 && !decoded.trailingNewline)
        for y in 0..<20 { for x in 0..<37 {
            #expect(abs(decoded.pixels[y][3 * x] - image[0, y, x]) < 0.006, "pixel (\(x),\(y))")
        } }
        #expect(decoded.registersDefined <= 101)
    }

    @Test func colourImagesDecodeCloseToTheSourceWithinTheRegisterLimit() throws {
        let image = Self.gradient(width: 96, height: 64)
        for registers in [256, 16] {
            let bytes = SixelEncoder.encode(image, registers: registers)
            let decoded = try SixelDecoder(bytes)
            #expect(decoded.registersDefined <= registers)
            #expect(decoded.pixels.allSatisfy { !$0.contains(-1) })  // every pixel painted
            let quality = Self.psnr(decoded, image)
            // This test image varies fast in all three channels (the hard case for a palette);
            // measured: 30.2 dB with 256 registers (nearest colour), 17.4 dB with 16 (diffused).
            #expect(quality > (registers == 256 ? 29 : 16.5), "PSNR \(quality) dB with \(registers) registers")
        }
        // Enlarged by a whole factor: every source pixel a 3×3 block of one colour.
        let small = Self.gradient(width: 10, height: 7)
        let enlarged = try SixelDecoder(SixelEncoder.encode(small, scale: 3))
        #expect(enlarged.width == 30 && enlarged.height == 21)
        let reference = try SixelDecoder(SixelEncoder.encode(small))
        for y in 0..<21 { for x in 0..<30 { for c in 0..<3 {
            #expect(enlarged.pixels[y][3 * x + c] == reference.pixels[y / 3][3 * (x / 3) + c])
        } } }
        // Runs longer than 255 are split.
        let wide = Image(width: 600, height: 6, channels: 1, filledWith: 0.5)
        let text = String(decoding: SixelEncoder.encode(wide), as: UTF8.self)
        #expect(text.contains("!255~!255~!90~"))
        #expect(try SixelDecoder(SixelEncoder.encode(wide)).pixels[5][3 * 599] == 0.5)
    }
}

/// The encoder checked by a decoder that is not ours: libsixel's `sixel2png` (installed by
/// `make setup`) turns the encoder's output for real sample images back into a PNG, which must
/// have the image's size and be within a small error of it. (`sixel2png` exits 0 even on
/// garbage, so its pixels are what is checked.)
@Suite struct SixelReferenceDecoderTests {
    static func decodedBySixel2png(_ sixel: [UInt8], in directory: TemporaryDirectory) throws -> Image {
        let input = directory.file("image.six"), output = directory.file("decoded.png")
        try Data(sixel).write(to: URL(fileURLWithPath: input))
        let status = system("sixel2png -i '\(input)' -o '\(output)' 2>'\(directory.file("stderr"))'")
        guard status == 0, FileManager.default.fileExists(atPath: output) else {
            throw TerminalError(message: "sixel2png failed (status \(status)); is libsixel-bin installed? ('make setup' installs it)")
        }
        return try ImageFile.read(output).image
    }

    @Test func aSampleImageAndItsOverlayDecodeToTheSourceWithSixel2png() throws {
        let directory = TemporaryDirectory("sixel2png")
        defer { directory.remove() }
        let sample = try ImageFile.read(repositoryRoot() + "/SampleData/weld/nok/weld_0004.png").image
        // The image as stored (RGB, a few hundred colours): median cut with dithering.
        let asStored = try Self.decodedBySixel2png(SixelEncoder.encode(sample), in: directory)
        #expect(asStored.width == sample.width && asStored.height == sample.height)
        let storedQuality = sample.peakSignalToNoiseRatio(of: asStored)
        #expect(storedQuality > 36, "sample PSNR \(storedQuality) dB")
        // Its grey version: the exact grey palette; sixel keeps percent, so every pixel is
        // within half a percent plus sixel2png's rounding to 8 bits.
        let greySample = sample.greyscale()
        let grey = try Self.decodedBySixel2png(SixelEncoder.encode(greySample), in: directory)
        #expect(grey.width == sample.width && grey.height == sample.height)
        var worst: Float = 0
        for y in 0..<sample.height { for x in 0..<sample.width {
            for c in 0..<3 { worst = max(worst, abs(grey[c, y, x] - greySample[0, y, x])) }
        } }
        #expect(worst < 0.01, "largest grey error \(worst)")
        // Colour: the image under a heatmap, as the inspector sees it (256 registers).
        var heat = Image(width: sample.width, height: sample.height, channels: 1)
        for y in 0..<heat.height { for x in 0..<heat.width {
            let dx = Float(x - heat.width / 3), dy = Float(y - heat.height / 2)
            heat[0, y, x] = exp(-(dx * dx + dy * dy) / 800)
        } }
        let overlay = sample.overlaid(with: heat, range: 0...1)
        let colour = try Self.decodedBySixel2png(SixelEncoder.encode(overlay), in: directory)
        #expect(colour.width == overlay.width && colour.height == overlay.height)
        let quality = overlay.peakSignalToNoiseRatio(of: colour)
        #expect(quality > 34, "overlay PSNR \(quality) dB")
    }
}

@Suite struct CellRendererTests {
    static let snapshots = repositoryRoot() + "/Tests/InspectorUITests/Snapshots"

    func matchesSnapshot(_ text: String, _ name: String) throws {
        let path = "\(Self.snapshots)/\(name).txt"
        if ProcessInfo.processInfo.environment["NEARCAIPI_RECORD_SNAPSHOTS"] == "1" {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        #expect(text == (try String(contentsOfFile: path, encoding: .utf8)), "\(name) changed; re-record if intended")
    }

    @Test func halfBlockAndASCIIGridsMatchTheirSnapshots() throws {
        let image = SixelTests.gradient(width: 32, height: 16)
        let half = CellRenderer.halfBlock(image, columns: 8, rows: 2)
        #expect(half.cells.allSatisfy { $0.character == "▀" })
        // The upper pixel of the top-left cell is the image's dark-red corner average.
        #expect(half[0, 0].foreground!.g < half[1, 0].background!.g)
        try matchesSnapshot(half.snapshot, "halfblock-gradient")
        let ascii = CellRenderer.ascii(image, columns: 12, rows: 4)
        try matchesSnapshot(ascii.snapshot, "ascii-gradient")
        // A black-to-white ramp uses the ramp's ends.
        var ramp = Image(width: 10, height: 1, channels: 1)
        for x in 0..<10 { ramp[0, 0, x] = Float(x) / 9 }
        #expect(String(CellRenderer.ascii(ramp, columns: 10, rows: 1).cells.map(\.character)) == " .:-=+*#%@")
    }

    /// On a grey-ramp screen the heatmap's colour bar, read from hi (top) to lo, only ever
    /// gets darker: hot and cold can never be the same character (with jet they were: `.`).
    @Test(arguments: GraphicsMode.allCases)
    func theHeatmapBarIsMonotoneInBrightness(mode: GraphicsMode) {
        let bar = mode.heatmapColors.bar(width: 1, height: 20)
        let characters = CellRenderer.ascii(bar, columns: 1, rows: 10).cells.map(\.character)
        let levels = characters.map { CellRenderer.ramp.firstIndex(of: $0)! }
        if mode == .ascii {
            #expect(zip(levels, levels.dropFirst()).allSatisfy { $0 >= $1 }, "\(String(characters))")
            #expect(levels.first! > levels.last!)
        } else {
            // Colour screens keep jet, whose brightness is not monotone: that is why ASCII differs.
            #expect(!zip(levels, levels.dropFirst()).allSatisfy { $0 >= $1 })
        }
    }

    @Test func xtermColoursAreChosenByError() {
        #expect(RGB(0, 0, 0).xterm256 == 16)
        #expect(RGB(255, 255, 255).xterm256 == 231)
        #expect(RGB(128, 128, 128).xterm256 == 244)   // grey ramp is closer than the cube's 135
        #expect(RGB(255, 0, 0).xterm256 == 196)
    }

    @Test func fitKeepsTheAspect() {
        #expect(CellRenderer.fit(width: 128, height: 128, columns: 40, rows: 30) == (40, 20))
        #expect(CellRenderer.fit(width: 128, height: 128, columns: 80, rows: 10) == (20, 10))
        #expect(CellRenderer.fit(width: 256, height: 64, columns: 40, rows: 30) == (40, 5))
    }

    @Test func graphicsModeFollowsOverrideThenDeviceAttributesThenTerm() {
        let xterm = ["TERM": "xterm-256color"]
        #expect(GraphicsMode.choose(override: .ascii, deviceAttributes: "\u{1B}[?63;1;2;4;6c", environment: xterm) == .ascii)
        #expect(GraphicsMode.choose(override: nil, deviceAttributes: "\u{1B}[?63;1;2;4;6c", environment: xterm) == .sixel)
        #expect(GraphicsMode.choose(override: nil, deviceAttributes: "\u{1B}[?62;1;6;22c", environment: xterm) == .halfblock)
        #expect(GraphicsMode.choose(override: nil, deviceAttributes: "\u{1B}[?64;14c", environment: xterm) == .halfblock)  // 14 is not 4
        #expect(GraphicsMode.choose(override: nil, deviceAttributes: nil, environment: ["TERM": "dumb"]) == .ascii)
        #expect(GraphicsMode.choose(override: nil, deviceAttributes: nil, environment: ["TERM": "xterm", "NO_COLOR": "1"]) == .ascii)
    }

    @Test func terminalRepliesAreReadInAnyCombination() {
        // xterm -ti vt340: all four answers (its largest sixel picture: 1 000 × 1 000).
        let xterm = TerminalReport.parse("\u{1B}[?1;0;1024S\u{1B}[?2;0;1000;1000S\u{1B}[6;20;10t\u{1B}[?63;1;2;4;6;9;15;16;22;28c")
        #expect(xterm.colorRegisters == 1024 && xterm.sixelLimit == CellSize(width: 1000, height: 1000))
        #expect(xterm.cellSize == CellSize(width: 10, height: 20))
        #expect(xterm.deviceAttributes.map(GraphicsMode.hasSixel) == true)
        // tmux without sixel: only DA1.
        let tmux = TerminalReport.parse("\u{1B}[?1;2c")
        #expect(tmux.colorRegisters == nil && tmux.cellSize == nil)
        #expect(tmux.deviceAttributes.map(GraphicsMode.hasSixel) == false)
        // XTSMGRAPHICS refused (status 3) and a nonsense cell size: neither is believed.
        let refused = TerminalReport.parse("\u{1B}[?1;3;0S\u{1B}[6;0;0t\u{1B}[?62c")
        #expect(refused.colorRegisters == nil && refused.cellSize == nil)
        #expect(TerminalReport.parse("\u{1B}[?2;3;0;0S").sixelLimit == nil)
        #expect(TerminalReport.parse("") == TerminalReport())
        #expect(TerminalReport.parse("garbage\u{1B}[?1;0;16S") == TerminalReport(colorRegisters: 16))
    }
}

@Suite struct LayoutTests {
    @Test(arguments: [(80, 24), (120, 40), (60, 16), (200, 60)])
    func panelsFitInsideTheScreenAndAvoidTheLastRow(columns: Int, rows: Int) {
        let layout = Layout(rows: rows, columns: columns)
        #expect(!layout.isTooSmall)
        for box in [layout.leftImage, layout.rightImage, layout.colorBar, layout.details] + layout.quadrants {
            #expect(box.row >= 1 && box.column >= 0 && box.rows >= 1 && box.columns >= 1, "\(box)")
            #expect(box.row + box.rows <= layout.messageRow && box.column + box.columns <= columns, "\(box) in \(columns)×\(rows)")
        }
        #expect(layout.leftImage.column + layout.leftImage.columns < layout.rightImage.column)
        #expect(layout.colorBar.column + 3 <= columns)  // room for the bar's hi / lo labels
        #expect(layout.hintRow == rows - 1)
    }

    @Test func tinyWindowsAreTooSmall() {
        #expect(Layout(rows: 5, columns: 10).isTooSmall && Layout(rows: 15, columns: 80).isTooSmall && Layout(rows: 24, columns: 59).isTooSmall)
    }
}

@Suite struct MaskEditorTests {
    @Test func keysPaintEraseRectangleUndoRedo() {
        var editor = MaskEditor(width: 32, height: 32)
        #expect(editor.x == 16 && editor.y == 16 && editor.brush == 1 && editor.step == 1 && editor.mask.isEmpty)
        editor.apply(.togglePen)                 // pen down: a 3×3 stamp
        #expect(editor.mask.area == 9)
        editor.apply(.move(dx: 1, dy: 0))
        editor.apply(.move(dx: 1, dy: 0))        // a stroke: 3 tall, 5 wide
        #expect(editor.mask.area == 15 && editor.mask[16, 18])
        editor.apply(.togglePen)
        editor.apply(.move(dx: 0, dy: 5))        // pen up: moving paints nothing
        #expect(editor.mask.area == 15)
        editor.apply(.toggleErase)
        editor.apply(.move(dx: 1, dy: 0))
        editor.apply(.rectangleCorner)
        editor.apply(.move(dx: -10, dy: -10))
        editor.apply(.rectangleCorner)           // erases the rectangle (9,12)–(19,22)
        #expect(editor.mask.area == 0)
        editor.apply(.undo)
        #expect(editor.mask.area == 15)
        editor.apply(.undo)
        #expect(editor.mask.isEmpty && !editor.canUndo)
        editor.apply(.redo)
        #expect(editor.mask.area == 15)
        editor.apply(.clear)
        #expect(editor.mask.isEmpty)
        editor.apply(.undo)
        #expect(editor.mask.area == 15)
        // Brush size and the edges of the image.
        editor.apply(.biggerBrush)
        #expect(editor.brush == 2)
        for _ in 0..<40 { editor.apply(.move(dx: -1, dy: -1)) }
        #expect(editor.x == 0 && editor.y == 0)
    }

    /// At 128 px (the default input) a key press moves two pixels — fine enough to trace a
    /// crack — and a capital jumps sixteen: the image is crossed in eight presses.
    @Test func stepsAreFineAndJumpsAreQuick() {
        var editor = MaskEditor(width: 128, height: 128)
        #expect(editor.step == 2)
        editor.apply(.move(dx: 1, dy: 0))
        #expect(editor.x == 66)
        for _ in 0..<8 { editor.apply(.move(dx: -8, dy: 0)) }
        #expect(editor.x == 0)
    }

    /// The painted region leaves the defect under it visible: the inside keeps most of the
    /// picture (a light tint), the edge is a bright line, the brush and a rectangle being
    /// drawn are outlined.
    @Test func markingKeepsTheDefectVisible() {
        var picture = Image(width: 16, height: 16, channels: 3, filledWith: 0.5)
        picture[0, 8, 8] = 0; picture[1, 8, 8] = 0; picture[2, 8, 8] = 0   // a dark pore
        var editor = MaskEditor(width: 16, height: 16)
        editor.apply(.togglePen)
        for _ in 0..<2 { editor.apply(.move(dx: 0, dy: -1)) }  // a 3×5 stroke around the pore, brush away from it
        editor.apply(.togglePen)
        for _ in 0..<3 { editor.apply(.move(dx: 0, dy: -1)) }
        var drawn = MaskMarking(mask: editor.mask).drawn(on: picture)
        // Inside: the pore is still darker than its painted neighbourhood, each channel moved by the tint only.
        #expect(editor.mask[8, 8] && drawn[1, 8, 8] < drawn[1, 7, 8] * 0.5 + 0.01)
        #expect(abs(drawn[1, 7, 8] - 0.5 * (1 - MaskMarking.insideTint)) < 1e-6)
        // Edge: bright red.
        #expect(drawn[0, 9, 7] == 1 && drawn[1, 9, 7] < 0.3)
        // A rectangle being drawn: outlined from its first corner to the brush.
        editor.apply(.rectangleCorner)
        editor.apply(.move(dx: 3, dy: 3))
        let marking = MaskMarking(editor: editor)
        drawn = marking.drawn(on: picture)
        let start = editor.rectangleStart!
        #expect(drawn[2, start.y, start.x + 1] == 1 && drawn[1, start.y, start.x + 1] == 0.8)
    }

    @Test func mouseTracksTheButtonAndHeatmapStart() {
        var editor = MaskEditor(width: 32, height: 32)
        editor.apply(.drag(x: 5, y: 5))          // motion without a press paints nothing
        #expect(editor.mask.isEmpty && editor.x == 5)
        editor.apply(.press(x: 4, y: 4))
        editor.apply(.drag(x: 12, y: 4))
        editor.apply(.release(x: 12, y: 4))
        #expect(editor.mask[4, 8] && editor.mask[3, 4] && !editor.mask[8, 8])
        let painted = editor.mask.area
        editor.apply(.drag(x: 20, y: 20))        // released: no more paint
        #expect(editor.mask.area == painted)
        var top = BinaryMask(width: 64, height: 64)
        for y in 0..<10 { for x in 0..<10 { top[y, x] = true } }
        editor.apply(.replace(top))              // resized to the editor's grid
        #expect(editor.mask.area == 25)
        editor.apply(.undo)
        #expect(editor.mask.area == painted)
    }
}
