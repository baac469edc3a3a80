import Foundation

/// The written results of a simulation: the CSV of every measured point and the Markdown
/// table in the shape of the main paper's Tables 2–3.
public enum SimulationReport {
    public static let csvHeader = "strategy,seed,round,train_size,labels_spent,accuracy,f1,mcc,explanations_right,"
        + "interacting_s,heatmaps_s,training_s,missed_defects,passed_good"

    public static func csv(_ rows: [SimulationRow]) -> String {
        var text = csvHeader + "\n"
        for row in rows {
            text += "\(row.strategy.rawValue),\(row.seed),\(row.round),\(row.trainingSize),\(row.labelsSpent),"
            text += String(format: "%.4f,%.4f,%.4f,", row.accuracy, row.f1, row.mcc)
            text += (row.explanationsRight.map { String(format: "%.4f", $0) } ?? "")
            text += row.seconds.map { String(format: ",%.2f,%.2f,%.2f", $0.interacting, $0.heatmaps, $0.training) } ?? ",,,"
            text += "," + (row.missedDefects.map { String(format: "%.4f", $0) } ?? "")
            text += "," + (row.passedGood.map { String(format: "%.4f", $0) } ?? "")
            text += "\n"
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
    /// `testSplit`: the test images and their NOK share, for what one image moves MCC by.
    public static func markdown(_ rows: [SimulationRow], strategies: [LoopStrategy], title: String,
                                testSplit: (images: Int, nokShare: Double)? = nil) -> String {
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
        text += meanTable(rows, strategies: strategies, rounds: rounds,
                          caption: "Training-set size (originals, near hits/misses and refutations), mean over seeds:",
                          format: "%.0f") { Double($0.trainingSize) }
        text += meanTable(rows, strategies: strategies, rounds: rounds,
                          caption: "Labels spent (initial training images, validation split, every answer of the inspector and the "
                              + "supervisor; refutations are free), mean over seeds:",
                          format: "%.0f") { Double($0.labelsSpent) }
        if rows.contains(where: { $0.explanationsRight != nil }) {
            text += meanTable(rows, strategies: strategies, rounds: rounds,
                              caption: "Explanations judged right by the inspector in each round (of those judged; against the mask "
                                  + "where there is one, accepted when the map shows a region where there is none), mean over seeds:",
                              format: "%.2f", \.explanationsRight)
        }
        if rows.contains(where: { $0.passedGood != nil }) {
            text += meanTable(rows, strategies: strategies, rounds: rounds,
                              caption: "Decisions of the model in use on the test split, at its pass threshold (set on the validation "
                                  + "parts to miss at most 1 % of their defects): good parts passed without review, mean over seeds:",
                              format: "%.2f", \.passedGood)
            text += meanTable(rows, strategies: strategies, rounds: rounds,
                              caption: "— and defective test parts it passed (missed defects), mean over seeds:",
                              format: "%.3f", \.missedDefects)
        }
        if rows.contains(where: \.keptBack) {
            text += "\nRounds kept back by the promotion rule (judged worse than the model in use on the validation split — "
                + "`--promotion` says how — so the model in use stays and the row repeats its figures), of all seeds' rounds; "
                + "`--force-promotion` makes every round go live:\n\n"
            text += "| Strategy | kept back |\n|---|---:|\n"
            for strategy in strategies where rows.contains(where: { $0.strategy == strategy }) {
                let mine = rows.filter { $0.strategy == strategy && $0.round > 0 }
                text += "| \(strategy.title) | \(mine.filter(\.keptBack).count) of \(mine.count) |\n"
            }
        }
        let timed = rows.filter { $0.seconds != nil }
        if !timed.isEmpty {
            text += "\nSeconds per round (wall clock), mean over seeds and rounds:\n\n"
            text += "| Strategy | answers | heatmaps | training and pool predictions | rounds timed |\n|---|---:|---:|---:|---:|\n"
            for strategy in strategies where timed.contains(where: { $0.strategy == strategy }) {
                let mine = timed.filter { $0.strategy == strategy }.compactMap(\.seconds)
                func mean(_ key: KeyPath<RoundSeconds, Double>) -> String {
                    String(format: "%.1f", mine.map { $0[keyPath: key] }.reduce(0, +) / Double(mine.count))
                }
                text += "| \(strategy.title) | \(mean(\.interacting)) | \(mean(\.heatmaps)) | \(mean(\.training)) | \(mine.count) |\n"
            }
        }
        text += comparisons(rows, strategies: strategies)
        if let testSplit, let warning = testSplitWarning(rows, strategies: strategies, testSplit: testSplit) { text += "\n" + warning + "\n" }
        return text
    }

    /// What one test image moves MCC by, against the intervals of the comparisons: a warning
    /// when one image is more than an interval's half-width, so the test split, not the
    /// strategies, limits what the figures can tell; with the test images a difference of
    /// that half-width would need. nil when there is nothing to compare.
    public static func testSplitWarning(_ rows: [SimulationRow], strategies: [LoopStrategy],
                                        testSplit: (images: Int, nokShare: Double)) -> String? {
        let step = SimulationStatistics.mccStep(testImages: testSplit.images, nokShare: testSplit.nokShare)
        let present = strategies.filter { s in rows.contains { $0.strategy == s } }
        var halfWidths: [Double] = []
        for baseline in [LoopStrategy.al, .randomAdd] where present.contains(baseline) {
            for strategy in present where strategy != baseline {
                let d = SimulationStatistics.pairedDifference(SimulationStatistics.finalDifferences(rows, strategy: strategy, baseline: baseline))
                if d.upper.isFinite, d.upper > d.lower { halfWidths.append((d.upper - d.lower) / 2) }
            }
        }
        guard !halfWidths.isEmpty else { return nil }
        halfWidths.sort()
        let typical = halfWidths[halfWidths.count / 2]
        var text = String(format: "One of the %d test images moves MCC by about %.3f; the intervals above are ± %.3f (median).",
                          testSplit.images, step, typical)
        if step > typical {
            // mccStep ≈ 2 / n for a balanced split: the images for one image to move MCC by `typical`.
            let needed = Int((Double(testSplit.images) * step / typical).rounded(.up))
            text = "**Warning: the test split is too small to rank these strategies.** " + text
                + " A difference of that size needs about \(needed) test images (--test-fraction)."
        }
        return text
    }

    /// A table strategy × round of the mean of `value` over seeds ("–" where no seed has one);
    /// a strategy without any value is left out.
    static func meanTable(_ rows: [SimulationRow], strategies: [LoopStrategy], rounds: [Int], caption: String, format: String,
                          _ value: (SimulationRow) -> Double?) -> String {
        var text = "\n\(caption)\n\n"
        text += "| Strategy | " + rounds.map { "R\($0)" }.joined(separator: " | ") + " |\n"
        text += "|---|" + rounds.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for strategy in strategies where rows.contains(where: { $0.strategy == strategy && value($0) != nil }) {
            let cells = rounds.map { round -> String in
                let values = rows.filter { $0.strategy == strategy && $0.round == round }.compactMap(value)
                return values.isEmpty ? "–" : String(format: format, meanAndStd(values).mean)
            }
            text += "| \(strategy.title) | " + cells.joined(separator: " | ") + " |\n"
        }
        return text
    }

    /// Each strategy against AL and Random Add, paired by seed: the difference in MCC after
    /// the last round and in mean MCC over the labels both spent, with bootstrap 95 %
    /// intervals, and a sentence on whether the sign is resolved.
    public static func comparisons(_ rows: [SimulationRow], strategies: [LoopStrategy]) -> String {
        let seeds = Set(rows.map(\.seed)).count
        let present = strategies.filter { s in rows.contains { $0.strategy == s } }
        let baselines = [LoopStrategy.al, .randomAdd].filter(present.contains)
        guard !baselines.isEmpty, present.count > 1 else { return "" }
        var text = "\nPaired differences (the same seed's split and initial model on both sides), mean with a bootstrap "
            + "95 % interval over \(seeds) seed\(seeds == 1 ? "" : "s"); \"over labels\" is the mean MCC over the range of "
            + "labels both strategies spent (the area under MCC against labels spent, per label):\n\n"
        text += "| Strategy | against | final MCC | over labels | what it resolves |\n|---|---|---:|---:|---|\n"
        for baseline in baselines {
            for strategy in present where strategy != baseline && !(baseline == .al && strategy == .randomAdd) {
                let final = SimulationStatistics.pairedDifference(SimulationStatistics.finalDifferences(rows, strategy: strategy, baseline: baseline))
                let area = SimulationStatistics.pairedDifference(SimulationStatistics.areaDifferences(rows, strategy: strategy, baseline: baseline))
                func cell(_ d: SimulationStatistics.Difference) -> String {
                    d.mean.isFinite ? String(format: "%+.3f [%+.3f, %+.3f]", d.mean, d.lower, d.upper) : "–"
                }
                text += "| \(strategy.title) | \(baseline.title) | \(cell(final)) | \(cell(area)) | "
                    + sentence(strategy, baseline, final: final, area: area, seeds: seeds) + " |\n"
            }
        }
        return text
    }

    static func sentence(_ strategy: LoopStrategy, _ baseline: LoopStrategy, final: SimulationStatistics.Difference,
                         area: SimulationStatistics.Difference, seeds: Int) -> String {
        if seeds < 2 { return "one seed: no interval, nothing resolved" }
        func verdict(_ d: SimulationStatistics.Difference) -> String? {
            guard d.isResolved else { return nil }
            return d.mean > 0 ? "above" : "below"
        }
        switch (verdict(final), verdict(area)) {
        case (nil, nil): return "no difference resolvable"
        case (let f?, nil): return "\(f) \(baseline.title) after the last round at 95 %; per label spent, not resolvable"
        case (nil, let a?): return "\(a) \(baseline.title) per label spent at 95 %; after the last round, not resolvable"
        case (let f?, let a?):
            return f == a ? "\(f) \(baseline.title) at 95 %, after the last round and per label spent"
                : "\(f) \(baseline.title) after the last round but \(a) it per label spent, at 95 %"
        }
    }
}
