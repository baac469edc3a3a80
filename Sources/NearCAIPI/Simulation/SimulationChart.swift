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

    public static func draw(_ rows: [SimulationRow], strategies: [LoopStrategy], title: String,
                            metric: KeyPath<SimulationRow, Double> = \.mcc, width: Int = 800, height: Int = 500) -> Image {
        var image = Image(width: width, height: height, channels: 3)
        image.fill(x: 0, y: 0, width: width, height: height, color: [1, 1, 1])
        let series = SimulationReport.series(rows, metric: metric, strategies: strategies)
        let left = 70, right = width - 190, top = 50, bottom = height - 60
        let rounds = series.flatMap { $0.points.map(\.round) }
        let lastRound = max(1, rounds.max() ?? 1)
        // The value axis: from the lowest mean − std (at most 0) to 1, on tenths.
        let lowest = series.flatMap { $0.points.map { $0.mean - $0.std } }.filter { $0.isFinite }.min() ?? 0
        let floor = min(0, (lowest * 10).rounded(.down) / 10)
        func px(_ round: Double) -> Double { Double(left) + round / Double(lastRound) * Double(right - left) }
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
        let step = max(1, lastRound / 10)
        for round in stride(from: 0, through: lastRound, by: step) {
            let x = Int(px(Double(round)).rounded())
            image.fill(x: x, y: top, width: 1, height: bottom - top, color: grid)
            let label = "R\(round)"
            image.text(label, x: x - BitmapFont.width(of: label, scale: 2) / 2, y: bottom + 10, scale: 2, color: ink)
        }
        image.text("round", x: (left + right) / 2 - 30, y: bottom + 34, scale: 2, color: ink)
        image.fill(x: left, y: top, width: 2, height: bottom - top, color: ink)
        image.fill(x: left, y: bottom, width: right - left, height: 2, color: ink)

        for (index, entry) in series.enumerated() {
            let color = palette[entry.strategy] ?? ink
            let faint = color.map { 1 - (1 - $0) * 0.25 }
            for point in entry.points where point.std > 0 {
                let x = Int(px(Double(point.round)).rounded())
                let y0 = Int(py(point.mean + point.std).rounded()), y1 = Int(py(point.mean - point.std).rounded())
                image.fill(x: x - 4, y: y0, width: 9, height: max(1, y1 - y0), color: faint)
            }
            for (a, b) in zip(entry.points, entry.points.dropFirst()) {
                image.line(from: (px(Double(a.round)), py(a.mean)), to: (px(Double(b.round)), py(b.mean)), thickness: 3, color: color)
            }
            for point in entry.points {
                image.fill(x: Int(px(Double(point.round)).rounded()) - 4, y: Int(py(point.mean).rounded()) - 4, width: 9, height: 9, color: color)
            }
            let y = top + 10 + index * 28
            image.fill(x: right + 20, y: y + 5, width: 24, height: 4, color: color)
            image.text(entry.strategy.title, x: right + 52, y: y, scale: 2, color: ink)
        }
        return image
    }
}
