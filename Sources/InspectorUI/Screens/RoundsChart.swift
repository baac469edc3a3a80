import Imaging
import NearCAIPI

/// The operator's chart of the rounds' decision figures, as a picture for terminals that draw
/// pixels (sixel, kitty): per round, four marks with their 95 % intervals — good parts passed
/// without review on the validation and on the test parts, defects missed on both — on one
/// 0–100 % scale, each round's marks drawn by what became of the round (`Mark`). Text
/// terminals get `OperatorScreen.seriesLines` instead.
enum RoundsChart {
    /// One series: its words, colour and the figure it takes from a round's operating point.
    struct Series: Sendable {
        var name: String
        var colour: [Float]
        var figure: @Sendable (OperatingPoint) -> Proportion
    }

    static let series = [
        Series(name: "passed (val)", colour: [0.25, 0.85, 0.3]) { $0.validation.passedGood },
        Series(name: "passed (test)", colour: [0.65, 1.0, 0.55]) { $0.test.passedGood },
        Series(name: "missed (val)", colour: [0.95, 0.25, 0.2]) { $0.validation.missedDefects },
        Series(name: "missed (test)", colour: [1.0, 0.65, 0.25]) { $0.test.missedDefects },
    ]

    /// How a round's marks are drawn: in use now, in use before (superseded), kept back
    /// (candidate), discarded, rolled back.
    enum Mark: Equatable {
        case active, superseded, candidate, discarded, rolledBack

        init?(_ status: RoundStatus) {
            switch status {
            case .active: self = .active
            case .superseded: self = .superseded
            case .candidate: self = .candidate
            case .discarded: self = .discarded
            case .rolledBack: self = .rolledBack
            default: return nil
            }
        }
    }

    static let background: [Float] = [0.08, 0.08, 0.09]
    static let grid: [Float] = [0.3, 0.3, 0.32]
    static let labels: [Float] = [0.7, 0.7, 0.72]

    /// The plot's frame in the picture: left of it the percent labels, under it the rounds'
    /// numbers.
    static func plot(width: Int, height: Int) -> (left: Int, top: Int, right: Int, bottom: Int) {
        (30, 5, width - 5, height - BitmapFont.height - 5)
    }

    /// The y of a rate (0–1) in a picture `height` pixels tall.
    static func y(_ rate: Double, height: Int) -> Int {
        let frame = plot(width: 0, height: height)
        return frame.bottom - Int((rate * Double(frame.bottom - frame.top)).rounded())
    }

    /// Where round `index` of `count` shown has the mark of series `s`.
    static func x(round index: Int, of count: Int, series s: Int, width: Int) -> Int {
        let frame = plot(width: width, height: 0)
        let slot = Double(frame.right - frame.left) / Double(max(1, count))
        return frame.left + Int(slot * (Double(index) + 0.5)) + (s - 2) * groupStep + groupStep / 2
    }

    /// Pixels between a round's four marks.
    static let groupStep = 11

    /// The most rounds that fit `width`, latest first.
    static func roundsFitting(width: Int) -> Int {
        let frame = plot(width: width, height: 0)
        return max(1, (frame.right - frame.left) / (4 * groupStep + 6))
    }

    /// The chart of `rounds` (the latest that fit; rounds without decision figures leave an
    /// empty slot) in `width` × `height` pixels.
    static func image(_ rounds: [Round], width: Int, height: Int) -> Image {
        var picture = Image(width: width, height: height, channels: 3, filledWith: 0)
        picture.fill(x: 0, y: 0, width: width, height: height, color: background)
        let frame = plot(width: width, height: height)
        for (rate, label) in [(1.0, "100%"), (0.5, "50%"), (0.0, "0%")] {
            let row = y(rate, height: height)
            picture.line(from: (Double(frame.left), Double(row)), to: (Double(frame.right), Double(row)), color: grid)
            picture.text(label, x: 2, y: row - BitmapFont.height / 2, color: labels)
        }
        let shown = Array(rounds.suffix(roundsFitting(width: width)))
        for (index, round) in shown.enumerated() {
            let centre = x(round: index, of: shown.count, series: 2, width: width) - groupStep / 2
            let number = String(round.number)
            picture.text(number, x: centre - BitmapFont.width(of: number) / 2, y: frame.bottom + 4, color: labels)
            guard let point = round.metrics?.operatingPoint, let mark = Mark(round.status) else { continue }
            for (s, one) in series.enumerated() {
                let figure = one.figure(point)
                guard figure.of > 0 else { continue }
                let column = x(round: index, of: shown.count, series: s, width: width)
                // A rolled-back round's marks at half strength: it was in use, then taken back.
                let colour = mark == .rolledBack ? one.colour.map { $0 * 0.45 } : one.colour
                picture.line(from: (Double(column), Double(y(figure.low, height: height))),
                             to: (Double(column), Double(y(figure.high, height: height))), thickness: 2, color: colour.map { $0 * 0.7 })
                draw(mark, at: (column, y(figure.rate, height: height)), colour: colour, on: &picture)
            }
        }
        return picture
    }

    /// A round's mark: filled with a white frame (in use), filled (superseded or rolled
    /// back), hollow (candidate), a cross (discarded).
    static func draw(_ mark: Mark, at point: (x: Int, y: Int), colour: [Float], on picture: inout Image) {
        let (x, y) = point
        switch mark {
        case .active:
            picture.fill(x: x - 4, y: y - 4, width: 9, height: 9, color: [1, 1, 1])
            picture.fill(x: x - 3, y: y - 3, width: 7, height: 7, color: colour)
        case .superseded, .rolledBack:
            picture.fill(x: x - 3, y: y - 3, width: 7, height: 7, color: colour)
        case .candidate:
            picture.fill(x: x - 4, y: y - 4, width: 9, height: 9, color: colour)
            picture.fill(x: x - 2, y: y - 2, width: 5, height: 5, color: background)
        case .discarded:
            picture.line(from: (Double(x - 4), Double(y - 4)), to: (Double(x + 4), Double(y + 4)), thickness: 2, color: colour)
            picture.line(from: (Double(x - 4), Double(y + 4)), to: (Double(x + 4), Double(y - 4)), thickness: 2, color: colour)
        }
    }

    /// The chart's key, as text under it.
    static let legend = "chart, rounds left to right, 0–100 %: passed good parts (green: validation, light: test) · "
        + "missed defects (red: validation, orange: test) · bars: 95 % intervals · framed: in use, filled: used before, "
        + "hollow: candidate, cross: discarded, dim: rolled back"
}
