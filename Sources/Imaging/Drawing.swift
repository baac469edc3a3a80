/// Simple raster drawing on an image, enough for charts the tool writes itself (the
/// simulation's results.png): filled rectangles, thick lines, and text in a built-in 5×7
/// pixel font. Colours are per-channel values in [0, 1]; drawing outside the frame is clipped.
extension Image {
    public mutating func fill(x: Int, y: Int, width: Int, height: Int, color: [Float]) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(self.width, x + width), y1 = min(self.height, y + height)
        guard x0 < x1, y0 < y1 else { return }
        for c in 0..<channels {
            let value = color[min(c, color.count - 1)]
            for row in y0..<y1 { for column in x0..<x1 { self[c, row, column] = value } }
        }
    }

    /// A line of `thickness` pixels from (x0, y0) to (x1, y1): square dots stepped along the
    /// longer axis.
    public mutating func line(from start: (x: Double, y: Double), to end: (x: Double, y: Double), thickness: Int = 1, color: [Float]) {
        let steps = max(1, Int(max(abs(end.x - start.x), abs(end.y - start.y)).rounded(.up)))
        let half = thickness / 2
        for step in 0...steps {
            let t = Double(step) / Double(steps)
            let x = Int((start.x + (end.x - start.x) * t).rounded()), y = Int((start.y + (end.y - start.y) * t).rounded())
            fill(x: x - half, y: y - half, width: thickness, height: thickness, color: color)
        }
    }

    /// Writes `text` with its top-left corner at (x, y), each font pixel a `scale`² square.
    /// Letters are drawn as capitals; characters the font lacks as a hollow box.
    public mutating func text(_ text: String, x: Int, y: Int, scale: Int = 1, color: [Float]) {
        var cursor = x
        for character in text.uppercased() {
            let rows = BitmapFont.glyph(character)
            for (row, bits) in rows.enumerated() {
                for column in 0..<5 where bits & (0b10000 >> column) != 0 {
                    fill(x: cursor + column * scale, y: y + row * scale, width: scale, height: scale, color: color)
                }
            }
            cursor += BitmapFont.advance * scale
        }
    }
}

/// A 5×7 pixel font of capitals, digits and the punctuation charts need. Each glyph is seven
/// rows of five bits, most significant bit on the left.
public enum BitmapFont {
    public static let height = 7
    /// Horizontal distance between characters (5 pixels and a gap).
    public static let advance = 6

    public static func width(of text: String, scale: Int = 1) -> Int { text.count * advance * scale }

    static func glyph(_ character: Character) -> [UInt8] {
        glyphs[character] ?? [0b11111, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11111]
    }

    static let glyphs: [Character: [UInt8]] = [
        " ": [0, 0, 0, 0, 0, 0, 0],
        "A": [0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        "B": [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110],
        "C": [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110],
        "D": [0b11110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11110],
        "E": [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111],
        "F": [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000],
        "G": [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111],
        "H": [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        "I": [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        "J": [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100],
        "K": [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001],
        "L": [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111],
        "M": [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001],
        "N": [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001],
        "O": [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        "P": [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000],
        "Q": [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101],
        "R": [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001],
        "S": [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110],
        "T": [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100],
        "U": [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        "V": [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100],
        "W": [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010],
        "X": [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001],
        "Y": [0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100, 0b00100],
        "Z": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111],
        "0": [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        "1": [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        "2": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        "3": [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
        "4": [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        "5": [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        "6": [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        "7": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        "8": [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        "9": [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        ".": [0, 0, 0, 0, 0, 0b01100, 0b01100],
        ",": [0, 0, 0, 0, 0b01100, 0b00100, 0b01000],
        ":": [0, 0b01100, 0b01100, 0, 0b01100, 0b01100, 0],
        ";": [0, 0b01100, 0b01100, 0, 0b01100, 0b00100, 0b01000],
        "≥": [0b01000, 0b00100, 0b00010, 0b00100, 0b01000, 0, 0b11110],
        "≤": [0b00010, 0b00100, 0b01000, 0b00100, 0b00010, 0, 0b01111],
        "—": [0, 0, 0, 0b11111, 0, 0, 0],
        "–": [0, 0, 0, 0b01110, 0, 0, 0],
        "·": [0, 0, 0, 0b01100, 0b01100, 0, 0],
        "-": [0, 0, 0, 0b11111, 0, 0, 0],
        "+": [0, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0],
        "±": [0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0, 0b11111],
        "/": [0b00001, 0b00010, 0b00010, 0b00100, 0b01000, 0b01000, 0b10000],
        "(": [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010],
        ")": [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000],
        "%": [0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011],
        "=": [0, 0, 0b11111, 0, 0b11111, 0, 0],
        "_": [0, 0, 0, 0, 0, 0, 0b11111],
        "?": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0, 0b00100],
        "!": [0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0, 0b00100],
        "×": [0, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0],
        "<": [0b00010, 0b00100, 0b01000, 0b10000, 0b01000, 0b00100, 0b00010],
        ">": [0b01000, 0b00100, 0b00010, 0b00001, 0b00010, 0b00100, 0b01000],
        "[": [0b01110, 0b01000, 0b01000, 0b01000, 0b01000, 0b01000, 0b01110],
        "]": [0b01110, 0b00010, 0b00010, 0b00010, 0b00010, 0b00010, 0b01110],
        "'": [0b00100, 0b00100, 0b01000, 0, 0, 0, 0],
    ]
}

/// Text laid out in lines of a fixed width: messages on the screens, captions drawn on pictures.
public enum TextLines {
    /// `text` broken at spaces into at most `lines` lines of `columns`; only a message longer
    /// than all of them is cut, with an ellipsis.
    public static func wrapped(_ text: String, columns: Int, lines: Int) -> [String] {
        guard columns > 0, !text.isEmpty else { return [] }
        var result: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty, result.count < lines {
            if rest.count <= columns { result.append(String(rest)); rest = ""; break }
            let window = rest.prefix(columns + 1)
            let cut = window.lastIndex(of: " ").map { $0 > rest.startIndex ? $0 : nil } ?? nil
            let end = cut ?? rest.index(rest.startIndex, offsetBy: columns)
            result.append(String(rest[..<end]))
            rest = rest[end...].drop { $0 == " " }
        }
        if !rest.isEmpty, var last = result.popLast() {
            if last.count >= columns { last = String(last.prefix(columns - 1)) }
            result.append(last + "…")
        }
        return result
    }
}
