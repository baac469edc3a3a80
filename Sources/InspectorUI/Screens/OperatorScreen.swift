import Imaging
import NearCAIPI

/// The operator's screen: the rounds with their figures, the learning curve, answers pending;
/// or, while a revert waits for its y, the answers it would revert.
struct OperatorScreen {
    var rounds: [Round]
    var pending: Int
    var settings: LoopSettings
    /// The answers a revert being confirmed would withdraw.
    var revertPreview: [FeedbackRecord]?
    /// The saved pretraining state (nil: never pretrained).
    var pretraining: PretrainingSummary?
    /// Pretraining runs in the background now.
    var pretrainingRuns = false
    /// Round 0's anomaly scores of the pool parts (defect pretext only): how many, and how
    /// many above ½.
    var anomaly: (above: Int, pool: Int)? = nil

    func draw(_ state: ScreenState, on painter: Painter, layout: Layout) {
        if case .revert(let selection, _) = state.confirmation {
            AnswersTable.draw(revertPreview ?? [], title: "would be reverted: \(selection)", on: painter, layout: layout)
            return
        }
        let table = Self.roundsTable(rounds)
        painter.put(table[0], row: 3, column: 2, bold: true)
        var row = 4
        for (index, line) in table.dropFirst().enumerated() {
            painter.put(line, row: row, column: 2, reverse: index == state.selectedRound)
            row += 1
            if row >= layout.messageRow - 6 { break }
        }
        // Under the table, most needed first; a line too long for the terminal wraps (at 80
        // columns the decisions and round 0's line were cut mid-sentence) while rows last.
        func flow(_ text: String, dim: Bool = false) {
            for line in TextLines.wrapped(text, columns: max(20, layout.columns - 4), lines: 3) where row < layout.messageRow {
                painter.put(line, row: row, column: 2, dim: dim)
                row += 1
            }
        }
        // The selected round's pass / review / reject figures.
        if rounds.indices.contains(state.selectedRound) { flow(Self.decisionsLine(rounds[state.selectedRound])) }
        row += 1
        // Terminals that draw pixels get the figures as a chart with their intervals (kept
        // off the last rows, which the lines below need); text terminals the three series.
        let chartBox = Layout.Panel(row: row, column: 2, rows: min(9, layout.messageRow - row - 5), columns: min(layout.columns - 4, 120))
        if chartBox.rows >= 5, rounds.contains(where: { $0.metrics?.operatingPoint != nil }), let room = painter.pixelRoom(of: chartBox) {
            painter.drawImage(RoundsChart.image(rounds, width: room.width, height: room.height), in: chartBox)
            row += chartBox.rows
            flow(RoundsChart.legend, dim: true)
        } else {
            for line in Self.seriesLines(rounds, columns: layout.columns - 3) where row < layout.messageRow {
                painter.put(line, row: row, column: 2)
                row += 1
            }
        }
        let perRound = settings.interactionsPerRound
        flow("answers pending: \(pending) of \(perRound) per round\(pending >= perRound ? " — retraining due" : "")")
        flow("heatmaps: InvRISE of NOK, fill \(settings.heatmapFill.rawValue), up to \(settings.heatmapMasks) masks, "
             + "grid \(settings.heatmapGrid) (nearcaipi label --fill NAME changes the fill)", dim: true)
        flow(Self.roundZero(pretraining, running: pretrainingRuns), dim: true)
        if let anomaly, !pretrainingRuns { flow(Self.anomalyRanking(anomaly), dim: true) }
    }

    /// The rounds' figures as three legible series (plain characters, any font), the latest
    /// rounds that fit in `columns`: good parts passed without review on the validation parts
    /// with the 95 % interval, defects missed on the test parts, and test MCC. A round is
    /// marked by what became of it: * in use, c candidate, d discarded, r rolled back (a round
    /// before the others carries no mark).
    static func seriesLines(_ rounds: [Round], columns: Int) -> [String] {
        let names = ["passes (val) ", "missed (test)", "test MCC     "]
        func mark(_ round: Round) -> String {
            switch round.status {
            case .active: return "*"
            case .candidate: return "c"
            case .discarded: return "d"
            case .rolledBack: return "r"
            default: return ""
            }
        }
        func cells(_ round: Round) -> [String] {
            let name = "\(round.number)\(mark(round))"
            guard let metrics = round.metrics else { return [name + " –", name + " –", name + " –"] }
            let passes = metrics.operatingPoint.map { p -> String in
                let v = p.validation.passedGood
                return String(format: "%@ %.0f%% [%.0f,%.0f]", name, v.rate * 100, v.low * 100, v.high * 100)
            } ?? name + " –"
            let missed = metrics.operatingPoint.map { p -> String in
                let t = p.test.missedDefects
                return t.of == 0 ? name + " –" : "\(name) \(t.count)/\(t.of)"
            } ?? name + " –"
            return [passes, missed, metrics.test.mcc.isFinite ? String(format: "%@ %.2f", name, metrics.test.mcc) : name + " –"]
        }
        // Each round takes the width of its widest cell; the latest rounds first to fit.
        var shown: [[String]] = []
        var width = names[0].count
        for round in rounds.reversed() {
            let these = cells(round)
            let needed = (these.map(\.count).max() ?? 0) + 3
            if width + needed > columns, !shown.isEmpty { break }
            width += needed
            shown.insert(these, at: 0)
        }
        let omitted = rounds.count - shown.count
        return names.enumerated().map { row, name in
            let widths = shown.map { $0.map(\.count).max() ?? 0 }
            let body = zip(shown, widths).map { cell, width in cell[row].padding(toLength: width, withPad: " ", startingAt: 0) }
            return name + (omitted > 0 && row == 0 ? " …" : "  ") + " " + body.joined(separator: " · ")
        }
    }

    /// A round's decision figures in one line (`OperatingPoint.compactSummary`).
    static func decisionsLine(_ round: Round) -> String {
        guard let point = round.metrics?.operatingPoint else {
            return "round \(round.number): no pass / reject thresholds (its validation parts lack a class, or it predates them)"
        }
        return "round \(round.number) decisions: \(point.compactSummary)"
    }

    /// How round 0's anomaly score ranks the pool, in one line.
    static func anomalyRanking(_ anomaly: (above: Int, pool: Int)) -> String {
        "anomaly score (round 0, no labels): \(anomaly.above) of \(anomaly.pool) pool parts stand out · label --query anomaly asks the highest first"
    }

    /// What round 0 (the pretrained backbone) is, in one line.
    static func roundZero(_ pretraining: PretrainingSummary?, running: Bool = false) -> String {
        if running {
            return "round 0: pretraining in the background (the bar above; c stops it, keeping the epochs done)"
        }
        guard let pretraining else {
            return "round 0: none — rounds from scratch start from random weights (B pretrains it without reading labels)"
        }
        guard pretraining.isFinished else {
            return "round 0: pretraining stopped after epoch \(pretraining.epochsDone) of \(pretraining.epochs) (B resumes)"
        }
        return String(format: "round 0: pretrained on %d images without their labels, %d epochs, loss %.3f — rounds from scratch start from it",
                      pretraining.images, pretraining.epochs, pretraining.losses.last ?? .nan)
    }

    /// The rounds as a table in fixed columns (numbers right-aligned under their headings),
    /// with each round's change in test MCC from the model in use before it. The figures an
    /// operator decides on come first, so a narrow terminal cuts F1 and accuracy, not MCC.
    static func roundsTable(_ rounds: [Round]) -> [String] {
        func cell(_ text: String, _ width: Int, left: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + padding : padding + text
        }
        func number(_ value: Double?) -> String { value.map { $0.isFinite ? String(format: "%.3f", $0) : "–" } ?? "–" }
        func change(_ value: Double?, from previous: Double?) -> String {
            guard let value, let previous, value.isFinite, previous.isFinite else { return "" }
            return String(format: "%+.3f", value - previous)
        }
        let widths = (round: 5, status: 12, size: 11, number: 9)
        var lines = [cell("round", widths.round) + "  " + cell("status", widths.status, left: true)
                     + cell("test MCC", widths.number) + cell("Δ MCC", widths.number) + cell("val MCC", widths.number)
                     + cell("train size", widths.size) + cell("test acc", widths.number) + cell("F1", widths.number)]
        for (index, round) in rounds.enumerated() {
            // Compared with the round it replaced (or would have, a candidate): the one in use
            // when it was trained — after a rollback that is not the row above.
            let before = round.replacedNumber.flatMap { number in rounds[..<index].first { $0.number == number } }?.metrics
            let m = round.metrics
            lines.append(cell(String(round.number), widths.round) + "  " + cell(round.status.displayName, widths.status, left: true)
                         + cell(number(m?.test.mcc), widths.number) + cell(change(m?.test.mcc, from: before?.test.mcc), widths.number)
                         + cell(number(m?.validation.mcc), widths.number) + cell(String(round.trainingSize), widths.size)
                         + cell(number(m?.test.accuracy), widths.number) + cell(number(m?.test.f1), widths.number))
        }
        return lines
    }
}

/// `?`: every key of every screen — the key table's rows, the screen in use first — and how
/// to read a heatmap.
enum HelpScreen {
    static let heatmap = "Heatmap: red (hi) = hiding that region behind a normal part's pixels lowers P(NOK) most: what the NOK "
        + "decision hinges on; blue (lo) = lowers it least. The line below says by how much, and the contrast (over the noise of "
        + "the random masks). Grey \"flat\" = no region decides it (contrast under 2)."

    /// The sections of the help, each a heading and its rows.
    static func sections(for context: KeyContext, role: Role = .operator) -> [(heading: String, rows: [KeyBinding])] {
        let inspector = ("Inspector:", KeyTable.inspector)
        let editor = ("Mask editor:", KeyTable.maskEditor)
        // The supervisor answers reviews with the inspector's keys: listed there once.
        let supervisor = ("Supervisor:", KeyTable.supervisorOwn + [KeyTable.logEscape])
        let operatorRows = ("Operator:", KeyTable.operator)
        let own: [(String, [KeyBinding])] = switch context {
        case .inspector, .question: [inspector, editor, supervisor, operatorRows]
        case .maskEditor: [editor, inspector, supervisor, operatorRows]
        case .supervisor, .refutations, .log: [supervisor, inspector, editor, operatorRows]
        case .operator: [operatorRows, inspector, editor, supervisor]
        }
        // A role sees the screens it may open, and Tab only when it has more than one.
        let screens = role.screens
        let allowed = own.filter { heading, _ in
            heading == "Supervisor:" ? screens.contains(.supervisor) : heading == "Operator:" ? screens.contains(.operator) : true
        }
        let everywhere = screens.count > 1 ? KeyTable.everywhere : KeyTable.everywhere.filter { $0.keys != "Tab" }
        return [("Everywhere:", everywhere)] + allowed.map { (heading: $0.0, rows: $0.1) }
    }

    /// The help of the context in use first, a row per key, wrapped to the terminal's width
    /// (continuations under the row's text); what does not fit is said to be there.
    static func lines(for context: KeyContext, role: Role = .operator, columns: Int, rows: Int, scroll: Int = 0) -> [String] {
        // Narrow terminals put each heading on a line of its own, so the rows keep their width.
        let width = max(24, columns - 3), narrow = width < 100
        let headingWidth = narrow ? 2 : 13, keysWidth = 12
        let indent = String(repeating: " ", count: headingWidth + keysWidth)
        func padded(_ text: String, _ count: Int) -> String { text.count >= count ? text + " " : text + String(repeating: " ", count: count - text.count) }
        var wrapped: [String] = []
        for section in sections(for: context, role: role) {
            if narrow { wrapped.append(section.heading) }
            for (index, row) in section.rows.enumerated() {
                let prefix = padded(index == 0 && !narrow ? section.heading : "", headingWidth) + padded(row.keys, keysWidth)
                let lines = TextLines.wrapped(row.help, columns: max(10, width - prefix.count), lines: 100)
                wrapped += lines.enumerated().map { ($0.offset == 0 ? prefix : indent) + $0.element }
            }
        }
        let heatmapIndent = narrow ? 2 : 13
        if narrow { wrapped.append("Heatmap:") }
        let heatmapLines = TextLines.wrapped(String(heatmap.dropFirst("Heatmap: ".count)), columns: width - heatmapIndent, lines: 100)
        wrapped += heatmapLines.enumerated().map {
            ($0.offset == 0 && !narrow ? padded("Heatmap:", heatmapIndent) : String(repeating: " ", count: heatmapIndent)) + $0.element
        }
        guard wrapped.count > rows else { return wrapped }
        // Scrolled by ↓ / ↑ (`ScreenState.helpScroll`), kept within the help.
        let first = min(max(0, scroll), max(0, wrapped.count - (rows - 1)))
        let shown = Array(wrapped[first..<min(wrapped.count, first + rows - 1)])
        let below = wrapped.count - first - shown.count
        let above = first > 0 ? "\(first) above (↑)" : ""
        let more = below > 0 ? "… \(below) more lines: ↓ scrolls, a taller terminal shows them" : "end of help"
        return shown + [more + (above.isEmpty ? "" : " · " + above)]
    }

    /// The scroll that shows the help's last lines at most, for `ScreenState.helpScroll`.
    static func clampedScroll(_ scroll: Int, for context: KeyContext, role: Role, columns: Int, rows: Int) -> Int {
        let count = lines(for: context, role: role, columns: columns, rows: 10_000).count
        return count > rows ? min(max(0, scroll), count - (rows - 1)) : 0
    }

    static func draw(on painter: Painter, context: KeyContext, role: Role, scroll: Int, layout: Layout) {
        let room = max(1, layout.messageRow - 2)
        for (offset, line) in lines(for: context, role: role, columns: layout.columns, rows: room, scroll: scroll).enumerated() {
            painter.put(line, row: 2 + offset, column: 2)
        }
    }
}
