import Foundation
import Imaging

/// results.png: the mean MCC per round of each strategy, drawn by the tool itself (axes,
/// grid, one coloured line per strategy, ± std as a faint band, legend).
public enum SimulationChart {
    /// Line colours, one per strategy in `LoopStrategy.allCases` order: distinct in hue and
    /// in lightness, so they also separate in grey.
    static let palette: [LoopStrategy: [Float]] = [
        .randomAdd: [0.55, 0.55, 0.55], .al: [0.20, 0.45, 0.85], .nearAL: [0.10, 0.70, 0.75],
        .caipi: [0.95, 0.60, 0.10], .nearCAIPI: [0.85, 0.15, 0.20],
    ]

    /// What the x axis counts.
    public enum Axis: Sendable {
        /// Rounds (R0 = the initial model).
        case round
        /// Labels spent (mean over seeds at each round): strategies that ask the supervisor
        /// too spend more per round, and the curve shows what each label bought.
        case labelsSpent
    }

    public static func draw(_ rows: [SimulationRow], strategies: [LoopStrategy], title: String,
                            metric: KeyPath<SimulationRow, Double> = \.mcc, axis: Axis = .round,
                            width: Int = 800, height: Int = 500) -> Image {
        var image = Image(width: width, height: height, channels: 3)
        image.fill(x: 0, y: 0, width: width, height: height, color: [1, 1, 1])
        let series = SimulationReport.series(rows, metric: metric, strategies: strategies)
        // x of each strategy's round: the round, or the labels spent by then (mean over seeds).
        func xValue(_ strategy: LoopStrategy, _ round: Int) -> Double {
            guard axis == .labelsSpent else { return Double(round) }
            let spent = rows.filter { $0.strategy == strategy && $0.round == round }.map { Double($0.labelsSpent) }
            return spent.isEmpty ? 0 : spent.reduce(0, +) / Double(spent.count)
        }
        let left = 70, right = width - 190, top = 50, bottom = height - 60
        let xs = series.flatMap { entry in entry.points.map { xValue(entry.strategy, $0.round) } }
        let firstX = axis == .round ? 0 : (xs.min() ?? 0), lastX = max(firstX + 1, xs.max() ?? 1)
        // The value axis: from the lowest mean − std (at most 0) to 1, on tenths.
        let lowest = series.flatMap { $0.points.map { $0.mean - $0.std } }.filter { $0.isFinite }.min() ?? 0
        let floor = min(0, (lowest * 10).rounded(.down) / 10)
        func px(_ x: Double) -> Double { Double(left) + (x - firstX) / (lastX - firstX) * Double(right - left) }
        func py(_ value: Double) -> Double { Double(bottom) - (value - floor) / (1 - floor) * Double(bottom - top) }

        let ink: [Float] = [0.1, 0.1, 0.1], grid: [Float] = [0.88, 0.88, 0.88]
        image.text(title, x: left, y: 18, scale: 2, color: ink)
        var tick = floor
        while tick <= 1.0001 {
            let y = Int(py(tick).rounded())
            image.fill(x: left, y: y, width: right - left, height: 1, color: grid)
            let label = String(format: "%.1f", tick)
            image.text(label, x: left - 8 - BitmapFont.width(of: label, scale: 2), y: y - 7, scale: 2, color: ink)
            tick += 0.1
        }
        switch axis {
        case .round:
            let lastRound = Int(lastX)
            for round in stride(from: 0, through: lastRound, by: max(1, lastRound / 10)) {
                let x = Int(px(Double(round)).rounded())
                image.fill(x: x, y: top, width: 1, height: bottom - top, color: grid)
                let label = "R\(round)"
                image.text(label, x: x - BitmapFont.width(of: label, scale: 2) / 2, y: bottom + 10, scale: 2, color: ink)
            }
            image.text("round", x: (left + right) / 2 - 30, y: bottom + 34, scale: 2, color: ink)
        case .labelsSpent:
            // Ticks on 1, 2 or 5 × a power of ten, about six of them.
            let raw = (lastX - firstX) / 6, power = pow(10, (log10(raw)).rounded(.down))
            let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? raw
            var value = (firstX / step).rounded(.up) * step
            while value <= lastX + 1e-9 {
                let x = Int(px(value).rounded())
                image.fill(x: x, y: top, width: 1, height: bottom - top, color: grid)
                let label = String(Int(value))
                image.text(label, x: x - BitmapFont.width(of: label, scale: 2) / 2, y: bottom + 10, scale: 2, color: ink)
                value += step
            }
            image.text("labels spent", x: (left + right) / 2 - 70, y: bottom + 34, scale: 2, color: ink)
        }
        image.fill(x: left, y: top, width: 2, height: bottom - top, color: ink)
        image.fill(x: left, y: bottom, width: right - left, height: 2, color: ink)

        // The ± std bands first, each blended over what is there, so overlapping bands stay
        // readable; then the lines and points on top.
        for entry in series {
            let color = palette[entry.strategy] ?? ink
            let points = entry.points.map { (x: px(xValue(entry.strategy, $0.round)), mean: $0.mean, std: $0.std) }
            for (a, b) in zip(points, points.dropFirst()) where b.x > a.x {
                for column in Int(a.x.rounded())...Int(b.x.rounded()) {
                    let t = min(1, max(0, (Double(column) - a.x) / (b.x - a.x)))
                    let mean = a.mean + (b.mean - a.mean) * t, std = a.std + (b.std - a.std) * t
                    guard std > 0, mean.isFinite else { continue }
                    blend(&image, column: column, from: Int(py(mean + std).rounded()), to: Int(py(mean - std).rounded()),
                          color: color, opacity: 0.18)
                }
            }
        }
        for (index, entry) in series.enumerated() {
            let color = palette[entry.strategy] ?? ink
            for (a, b) in zip(entry.points, entry.points.dropFirst()) {
                image.line(from: (px(xValue(entry.strategy, a.round)), py(a.mean)), to: (px(xValue(entry.strategy, b.round)), py(b.mean)),
                           thickness: 3, color: color)
            }
            for point in entry.points {
                image.fill(x: Int(px(xValue(entry.strategy, point.round)).rounded()) - 4, y: Int(py(point.mean).rounded()) - 4,
                           width: 9, height: 9, color: color)
            }
            let y = top + 10 + index * 28
            image.fill(x: right + 20, y: y + 5, width: 24, height: 4, color: color)
            image.text(entry.strategy.title, x: right + 52, y: y, scale: 2, color: ink)
        }
        return image
    }

    /// Mixes `color` into one column of pixels, rows `from`…`to`, at `opacity`.
    static func blend(_ image: inout Image, column: Int, from: Int, to: Int, color: [Float], opacity: Float) {
        guard column >= 0, column < image.width else { return }
        let plane = image.width * image.height
        let low = max(0, min(from, to)), high = min(image.height - 1, max(from, to))
        guard low <= high else { return }
        for row in low...high {
            for channel in 0..<3 {
                let index = channel * plane + row * image.width + column
                image.pixels[index] = image.pixels[index] * (1 - opacity) + color[channel] * opacity
            }
        }
    }
}
