/// Where things go on a screen of a given size: pure arithmetic, tested for several sizes.
public struct Layout: Sendable, Equatable {
    public static let minimumColumns = 60, minimumRows = 16
    /// The fewest picture elements (sixel: screen pixels; text: half-cells) across a part's
    /// shorter side for an answer to be taken: at 24 a defect of 4 % of the part is one
    /// element. 80×24 in half-block gives a square part 30; 60×20 gave 22, where answers were
    /// taken on a picture nobody could judge.
    public static let legibleMinimum = 24

    /// A rectangle of the screen, in character cells.
    public struct Panel: Sendable, Equatable {
        public var row: Int, column: Int, rows: Int, columns: Int
    }

    public var rows: Int, columns: Int
    /// Two side-by-side image panels (image, overlay) and a one-column colour bar.
    public var leftImage: Panel, rightImage: Panel, colorBar: Panel
    /// Text below the images.
    public var details: Panel
    /// Two lines of messages (a long message wraps onto the second, never cut) and one line
    /// of key hints at the bottom (images never reach the last row: a sixel image there would
    /// scroll the whole screen).
    public var messageRow: Int, hintRow: Int
    public static let messageLines = 2

    public var isTooSmall: Bool { rows < Self.minimumRows || columns < Self.minimumColumns }

    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        messageRow = rows - 1 - Self.messageLines
        hintRow = rows - 1
        let detailLines = 3
        // Header and progress line, images, a blank line, the details, messages, key line.
        let imageRows = max(1, rows - 2 - 1 - detailLines - Self.messageLines - 1)
        let panel = max(1, (columns - 8) / 2)
        leftImage = Panel(row: 2, column: 1, rows: imageRows, columns: panel)
        rightImage = Panel(row: 2, column: panel + 3, rows: imageRows, columns: panel)
        colorBar = Panel(row: 2, column: 2 * panel + 4, rows: imageRows, columns: 1)
        details = Panel(row: 2 + imageRows + 1, column: 1, rows: detailLines, columns: columns - 2)
    }

    /// The part and its heatmap one above the other, the bar beside the lower one, when a
    /// photo of `width` × `height` pixels is drawn at least a quarter larger that way than side
    /// by side (wide parts: a line-scan weld seam, a strip of tiles); nil when side by side
    /// is as good. Sizes compared in half-cells, a cell being about twice as tall as wide.
    public func stacked(forWidth width: Int, height: Int) -> (top: Panel, bottom: Panel, bar: Panel)? {
        guard width > 0, height > 0 else { return nil }
        let sideBySide = min(Double(leftImage.columns) / Double(width), Double(leftImage.rows * 2) / Double(height))
        let rowsEach = (leftImage.rows - 1) / 2, columnsEach = columns - 6
        guard rowsEach >= 2 else { return nil }
        let stacked = min(Double(columnsEach) / Double(width), Double(rowsEach * 2) / Double(height))
        guard stacked >= 1.25 * sideBySide else { return nil }
        let top = Panel(row: leftImage.row, column: 1, rows: rowsEach, columns: columnsEach)
        let bottom = Panel(row: leftImage.row + rowsEach + 1, column: 1, rows: rowsEach, columns: columnsEach)
        return (top, bottom, Panel(row: bottom.row, column: columnsEach + 2, rows: rowsEach, columns: 1))
    }

    /// Two panels side by side over the same height as the grid: the query and the part
    /// under review, when the grid would draw them too small to judge.
    public var reviewPair: [Panel] {
        let top = 3, height = max(2, messageRow - top - 1)
        let width = max(1, (columns - 3) / 2)
        return [Panel(row: top + 1, column: 1, rows: height - 1, columns: width),
                Panel(row: top + 1, column: width + 2, rows: height - 1, columns: width)]
    }

    /// A 2×2 grid of panels (query, near hit, near miss, farthest) for the supervisor.
    public var quadrants: [Panel] {
        let top = 3, height = max(2, (messageRow - top - 1) / 2)
        let width = max(1, (columns - 3) / 2)
        // Each panel: a title row, then the image.
        return [Panel(row: top + 1, column: 1, rows: height - 1, columns: width),
                Panel(row: top + 1, column: width + 2, rows: height - 1, columns: width),
                Panel(row: top + height + 1, column: 1, rows: height - 1, columns: width),
                Panel(row: top + height + 1, column: width + 2, rows: height - 1, columns: width)]
    }
}
