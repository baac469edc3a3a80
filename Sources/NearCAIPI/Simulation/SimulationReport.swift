import Foundation

/// The written results of a simulation: the CSV of every measured point and the Markdown
/// table in the shape of the main paper's Tables 2–3.
public enum SimulationReport {
    public static let csvHeader = "strategy,seed,round,train_size,accuracy,f1,mcc"

    public static func csv(_ rows: [SimulationRow]) -> String {
        var text = csvHeader + "\n"
        for row in rows {
            text += "\(row.strategy.rawValue),\(row.seed),\(row.round),\(row.trainingSize),"
            text += String(format: "%.4f,%.4f,%.4f\n", row.accuracy, row.f1, row.mcc)
        }
        return text
    }

    /// Mean and (sample) standard deviation; std 0 for a single value.
    public static func meanAndStd(_ values: [Double]) -> (mean: Double, std: Double) {
        guard !values.isEmpty else { return (.nan, .nan) }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }

    /// The per-round mean of `metric` over seeds, for each strategy (in `strategies` order).
    public static func series(_ rows: [SimulationRow], metric: KeyPath<SimulationRow, Double>,
                              strategies: [LoopStrategy]) -> [(strategy: LoopStrategy, points: [(round: Int, mean: Double, std: Double)])] {
        strategies.compactMap { strategy in
            let mine = rows.filter { $0.strategy == strategy }
            guard !mine.isEmpty else { return nil }
            let rounds = Set(mine.map(\.round)).sorted()
            return (strategy, rounds.map { round in
                let (mean, std) = meanAndStd(mine.filter { $0.round == round }.map { $0[keyPath: metric] })
                return (round, mean, std)
            })
        }
    }

    /// Rows strategy × metric, columns rounds (R0 = the initial model), cells mean ± std over
    /// seeds; then the mean training-set size per round.
    public static func markdown(_ rows: [SimulationRow], strategies: [LoopStrategy], title: String) -> String {
        let rounds = Set(rows.map(\.round)).sorted()
        let seeds = Set(rows.map(\.seed)).sorted()
        var text = "## \(title)\n\n"
        text += "Test-split metrics after each round, mean ± std over \(seeds.count) seed\(seeds.count == 1 ? "" : "s") (\(seeds.map(String.init).joined(separator: ", "))); R0 is the shared initial model.\n\n"
        text += "| Strategy | Metric | " + rounds.map { "R\($0)" }.joined(separator: " | ") + " |\n"
        text += "|---|---|" + rounds.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for strategy in strategies where rows.contains(where: { $0.strategy == strategy }) {
            for (name, metric) in [("Acc", \SimulationRow.accuracy), ("F1", \SimulationRow.f1), ("MCC", \SimulationRow.mcc)] {
                let cells = rounds.map { round -> String in
                    let values = rows.filter { $0.strategy == strategy && $0.round == round }.map { $0[keyPath: metric] }
                    guard !values.isEmpty else { return "–" }
                    let (mean, std) = meanAndStd(values)
                    return String(format: "%.3f ± %.3f", mean, std)
                }
                text += "| \(strategy.title) | \(name) | " + cells.joined(separator: " | ") + " |\n"
            }
        }
        text += "\nTraining-set size (originals, near hits/misses and refutations), mean over seeds:\n\n"
        text += "| Strategy | " + rounds.map { "R\($0)" }.joined(separator: " | ") + " |\n"
        text += "|---|" + rounds.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for strategy in strategies where rows.contains(where: { $0.strategy == strategy }) {
            let cells = rounds.map { round -> String in
                let sizes = rows.filter { $0.strategy == strategy && $0.round == round }.map { Double($0.trainingSize) }
                return sizes.isEmpty ? "–" : String(format: "%.0f", meanAndStd(sizes).mean)
            }
            text += "| \(strategy.title) | " + cells.joined(separator: " | ") + " |\n"
        }
        return text
    }
}
