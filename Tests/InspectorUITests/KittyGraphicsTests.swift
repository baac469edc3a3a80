import Foundation
import Imaging
@testable import InspectorUI
@testable import NearCAIPI
import NeuralNet
import SyntheticParts
import Testing
import TestSupport

/// A decoder of the kitty graphics protocol written from its description, independent of the
/// encoder: finds every APC `ESC _ G keys ; payload ESC \` in a byte stream, joins chunked
/// payloads (`m=1` … `m=0`), base64-decodes them and keeps what each command asked for.
struct KittyDecoder {
    struct Command {
        var keys: [String: String]
        var payload: [UInt8]
    }
    struct Picture {
        var id: UInt32
        var width: Int, height: Int
        var rgb: [UInt8]
        /// Where the cursor was when it arrived (the last `ESC [ row ; column H` before it).
        var row: Int, column: Int
        var image: Image {
            var image = Image(width: width, height: height, channels: 3)
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<3 { image[c, y, x] = Float(rgb[(y * width + x) * 3 + c]) / 255 }
                }
            }
            return image
        }
    }

    /// Each command in order; the pictures shown (`a=T`), with chunks joined; ids deleted.
    private(set) var commands: [Command] = []
    private(set) var pictures: [Picture] = []
    private(set) var deletions: [String] = []

    init(_ bytes: [UInt8]) throws {
        var i = 0
        var pending: (keys: [String: String], data: [UInt8], row: Int, column: Int)?
        var row = 0, column = 0
        while i < bytes.count {
            // Cursor positions, to know where a picture went.
            if bytes[i] == 0x1B, i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "[") {
                var j = i + 2
                var text = ""
                while j < bytes.count, !(0x40...0x7E).contains(bytes[j]) { text.append(Character(UnicodeScalar(bytes[j]))); j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "H") {
                    let fields = text.split(separator: ";").compactMap { Int($0) }
                    if fields.count == 2 { (row, column) = (fields[0] - 1, fields[1] - 1) }
                }
                i = j + 1
                continue
            }
            guard bytes[i] == 0x1B, i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "_"), bytes[i + 2] == UInt8(ascii: "G") else {
                i += 1
                continue
            }
            var j = i + 3
            while j + 1 < bytes.count, !(bytes[j] == 0x1B && bytes[j + 1] == UInt8(ascii: "\\")) { j += 1 }
            guard j + 1 < bytes.count else { throw DecodeError.message("an APC sequence without its terminator") }
            let body = Array(bytes[(i + 3)..<j])
            let semicolon = body.firstIndex(of: UInt8(ascii: ";")) ?? body.count
            var keys: [String: String] = [:]
            for pair in String(decoding: body[..<semicolon], as: UTF8.self).split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw DecodeError.message("key without a value: \(pair)") }
                keys[String(parts[0])] = String(parts[1])
            }
            let payload = semicolon < body.count ? Array(body[(semicolon + 1)...]) : []
            guard payload.count <= 4096 else { throw DecodeError.message("a chunk of \(payload.count) characters") }
            commands.append(Command(keys: keys, payload: payload))
            if keys["a"] == "d" {
                deletions.append(keys["d"] == "I" ? "id \(keys["i"] ?? "?")" : "all")
            } else if var open = pending {
                open.data += payload
                pending = open
            } else {
                pending = (keys, payload, row, column)
            }
            if let open = pending, (keys["m"] ?? "0") == "0" {
                let rgb = try Self.base64Decoded(open.data)
                guard open.keys["a"] == "T", open.keys["f"] == "24", let width = open.keys["s"].flatMap(Int.init),
                      let height = open.keys["v"].flatMap(Int.init), let id = open.keys["i"].flatMap(UInt32.init) else {
                    throw DecodeError.message("a picture without a=T, f=24, s, v and i: \(open.keys)")
                }
                guard rgb.count == width * height * 3 else { throw DecodeError.message("\(rgb.count) bytes for \(width)×\(height)") }
                pictures.append(Picture(id: id, width: width, height: height, rgb: rgb, row: open.row, column: open.column))
                pending = nil
            }
            i = j + 2
        }
        guard pending == nil else { throw DecodeError.message("a chunked picture that never ended") }
    }

    static func base64Decoded(_ text: [UInt8]) throws -> [UInt8] {
        guard let data = Data(base64Encoded: Data(text)) else { throw DecodeError.message("not base64") }
        return [UInt8](data)
    }

    enum DecodeError: Error { case message(String) }
}

@Suite struct KittyGraphicsTests {
    /// A colour picture decodes to its own pixels (to the byte), chunked within the limit,
    /// each pixel a scale × scale block when enlarged.
    @Test func aPictureDecodesToItsOwnPixels() throws {
        var image = Image(width: 97, height: 61, channels: 3)
        for y in 0..<61 {
            for x in 0..<97 {
                image[0, y, x] = Float(x) / 96
                image[1, y, x] = Float(y) / 60
                image[2, y, x] = Float((x * 7 + y * 3) % 256) / 255
            }
        }
        for scale in [1, 3] {
            let decoded = try KittyDecoder(KittyEncoder.encode(image, scale: scale, id: 42))
            let picture = try #require(decoded.pictures.first)
            #expect(decoded.pictures.count == 1 && decoded.deletions == ["id 42"] && picture.id == 42)
            #expect(picture.width == 97 * scale && picture.height == 61 * scale)
            #expect(decoded.commands.count > 2, "a picture this large comes in several chunks")
            #expect(decoded.commands.first { $0.keys["a"] == "T" }?.keys["q"] == "2", "replies would arrive as keys")
            for (y, x) in [(0, 0), (30, 50), (60, 96)] {
                for c in 0..<3 {
                    let sent = UInt8((image[c, y, x] * 255).rounded())
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            #expect(picture.rgb[((y * scale + dy) * picture.width + x * scale + dx) * 3 + c] == sent)
                        }
                    }
                }
            }
        }
        // A grey picture goes as RGB with three equal channels.
        let grey = Image(width: 5, height: 4, channels: 1, filledWith: 0.5)
        let picture = try #require(try KittyDecoder(KittyEncoder.encode(grey, id: 1)).pictures.first)
        #expect(Set(picture.rgb) == [128])
    }

    @Test func base64MatchesTheStandard() {
        for count in 0..<8 {
            let data = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(String(decoding: KittyEncoder.base64(data), as: UTF8.self) == Data(data).base64EncodedString())
        }
    }

    /// kitty answers the protocol's question (OK); the answer is found among the others, and
    /// chooses the kitty protocol over sixel unless the person says otherwise.
    @Test func aTerminalThatAnswersTheQuestionGetsKittyPictures() {
        let kitty = TerminalReport.parse("\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[6;20;10t\u{1B}[?62;c")
        #expect(kitty.kittyGraphics && kitty.cellSize == CellSize(width: 10, height: 20))
        #expect(!TerminalReport.parse("\u{1B}_Gi=31;ENOTSUPPORTED:no\u{1B}\\\u{1B}[?62;4c").kittyGraphics)
        #expect(!TerminalReport.parse("\u{1B}[?63;1;2;4;6c").kittyGraphics)
        let xterm = ["TERM": "xterm-256color"]
        #expect(GraphicsMode.choose(override: nil, deviceAttributes: "\u{1B}[?62;4c", kittyGraphics: true, environment: xterm) == .kitty)
        #expect(GraphicsMode.choose(override: .sixel, deviceAttributes: "\u{1B}[?62;4c", kittyGraphics: true, environment: xterm) == .sixel)
        #expect(GraphicsMode.choose(override: nil, deviceAttributes: "\u{1B}[?62;4c", kittyGraphics: false, environment: xterm) == .sixel)
        #expect(GraphicsMode.blocker(for: .kitty, environment: ["TMUX": "/tmp/tmux-0/default,1,0"])?.contains("kitty") == true)
        #expect(TerminalReport.questions.hasPrefix(KittyEncoder.question), "asked before DA1, whose answer ends the wait")
    }

    /// The inspector's screens in kitty mode on a 120×40 pseudo-terminal that keeps what it is
    /// sent, over generated welds of `camera` pixels with a one-epoch round.
    static func screens(in directory: TemporaryDirectory, camera: (Int, Int), size: Int, seed: UInt64) throws -> (LabelApp, PseudoTerminal) {
        let data = directory.file("photos")
        _ = try SampleDataset.write(SampleDatasetSpec(family: .weld, count: 24, size: size, seed: seed, camera: camera), to: data)
        var options = WorkspaceOptions()
        options.inputSize = 32
        let (workspace, _) = try Workspace.create(at: directory.file("ws"), dataRoot: data, options: options)
        try workspace.setPromotion(.always)
        var quick = TrainingOptions()
        quick.epochs = 1
        _ = try workspace.trainRound(options: quick, fromScratch: true) { _ in true }
        let terminal = try PseudoTerminal(columns: 120, rows: 40, cellSize: .assumed, keepingOutput: true)
        let app = try LabelApp(workspace: workspace, user: "tess", role: .inspector, graphics: .kitty, truecolor: false,
                               terminal: TerminalReport(cellSize: .assumed, kittyGraphics: true))
        try app.start(terminalType: "xterm-256color", inputDescriptor: terminal.follower, outputDescriptor: terminal.follower)
        return (app, terminal)
    }

    /// The screens in kitty mode, driven on a pseudo-terminal: every picture they send
    /// decodes, lands in its panel, and the photo keeps its aspect; a zoom sends the
    /// changed picture to the same place, deleting the one it replaces.
    @Test func theScreensSendPicturesThatDecodeWhereTheyBelong() throws {
        let directory = TemporaryDirectory("kitty-screens")
        defer { directory.remove() }
        // A 2:1 photo set, so the aspect is checked on something that is not square.
        let (app, terminal) = try Self.screens(in: directory, camera: (192, 96), size: 48, seed: 3)
        defer { app.finish(); terminal.close() }
        let first = try KittyDecoder(terminal.output)
        #expect(first.deletions.contains("all"), "the first frame starts from no pictures")
        // The part (left) and the part with its heatmap (right): 2:1 like the file, side by side.
        let photos = first.pictures.filter { $0.width > 40 }
        #expect(photos.count == 2, "\(first.pictures.map { ($0.width, $0.height) })")
        for photo in photos {
            #expect(abs(Double(photo.width) / Double(photo.height) - 2) < 0.1, "\(photo.width)×\(photo.height)")
            #expect(photo.id == KittyEncoder.id(row: photo.row, column: photo.column))
        }
        let before = terminal.output.count
        _ = try app.step(.character("z"))
        let zoomed = try KittyDecoder(Array(terminal.output[before...]))
        let left = try #require(photos.min { $0.column < $1.column })
        let again = try #require(zoomed.pictures.first { $0.id == left.id }, "the zoomed part was not sent to its place")
        #expect(zoomed.deletions.contains("id \(left.id)"))
        #expect(again.rgb != left.rgb, "a zoomed view shows other pixels")
    }

    /// `1` shows the photo 1:1: the picture sent is the photo's own pixels, one for one, from
    /// the region the item line names; `1` again goes back to the whole photo.
    @Test func oneToOneSendsThePhotosOwnPixels() throws {
        let directory = TemporaryDirectory("kitty-one-to-one")
        defer { directory.remove() }
        let (app, terminal) = try Self.screens(in: directory, camera: (800, 400), size: 64, seed: 4)
        defer { app.finish(); terminal.close() }
        let shown = try #require(app.state.shown)
        let before = terminal.output.count
        _ = try app.step(.character("1"))
        let view = try #require(app.state.viewport)
        #expect(view.isActualPixels && view.visible.width < 800, "\(app.state.message)")
        let region = view.visible
        let sent = try KittyDecoder(Array(terminal.output[before...]))
        let part = try #require(sent.pictures.min { $0.column < $1.column })
        try #require(part.width == region.width && part.height == region.height, "\(part.width)×\(part.height) for \(region)")
        let photo = shown.view.photo
        for (y, x) in [(0, 0), (region.height / 2, region.width / 3), (region.height - 1, region.width - 1)] {
            for c in 0..<3 {
                let expected = UInt8((photo[min(c, photo.channels - 1), region.y + y, region.x + x] * 255).rounded())
                #expect(abs(Int(part.rgb[(y * part.width + x) * 3 + c]) - Int(expected)) <= 1, "pixel (\(x), \(y))")
            }
        }
        #expect(app.state.message.hasPrefix("1:1, one photo pixel per picture element: x "))
        _ = try app.step(.character("1"))
        #expect(app.state.viewport?.isZoomed == false && app.state.message.hasPrefix("Back to the whole photo"))
    }
}
