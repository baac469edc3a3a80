import SeededRandom

/// What a comparison of strategies over a few seeds can and cannot say: areas under the
/// learning curves, and paired per-seed differences with a bootstrap interval.
public enum SimulationStatistics {
    /// The mean height of the piecewise-linear curve through `points` (sorted by x) between
    /// `from` and `to`: (1 / (to − from)) ∫ y dx, the trapezoid rule on the points inside and
    /// the curve's values at the ends (interpolated; held flat beyond the last point).
    /// With MCC against labels spent this is the curve's area per label — one number per
    /// strategy and seed that does not hinge on one round.
    public static func meanHeight(of points: [(x: Double, y: Double)], from: Double, to: Double) -> Double {
        guard let first = points.first, to > from else { return points.first?.y ?? .nan }
        func value(at x: Double) -> Double {
            if x <= first.x { return first.y }
            for (a, b) in zip(points, points.dropFirst()) where x <= b.x {
                return b.x == a.x ? b.y : a.y + (b.y - a.y) * (x - a.x) / (b.x - a.x)
            }
            return points.last!.y
        }
        let inside = points.map(\.x).filter { $0 > from && $0 < to }
        let xs = [from] + inside + [to]
        var area = 0.0
        for (a, b) in zip(xs, xs.dropFirst()) { area += (value(at: a) + value(at: b)) / 2 * (b - a) }
        return area / (to - from)
    }

    /// A mean difference with its bootstrap interval.
    public struct Difference: Sendable, Equatable {
        public var mean: Double
        public var lower: Double
        public var upper: Double
        /// The per-seed differences it came from.
        public var values: [Double]

        /// Whether the interval excludes 0: the sign of the difference is resolved.
        public var isResolved: Bool { lower > 0 || upper < 0 }
    }

    /// The mean of `differences` (one per seed, paired: the same seed's split and initial
    /// model on both sides) with a percentile bootstrap interval at `confidence`: the seeds
    /// are drawn with replacement `resamples` times, seeded, so a report is reproducible.
    /// With n seeds there are only C(2n−1, n) distinct resamples (10 for 3 seeds): the
    /// interval is coarse, and one seed's outlier widens it — as it should.
    public static func pairedDifference(_ differences: [Double], confidence: Double = 0.95, resamples: Int = 10_000,
                                        seed: UInt64 = 1) -> Difference {
        guard !differences.isEmpty else { return Difference(mean: .nan, lower: .nan, upper: .nan, values: []) }
        let mean = differences.reduce(0, +) / Double(differences.count)
        var random = SplitMix64(seed: seed)
        var means: [Double] = []
        means.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var sum = 0.0
            for _ in differences.indices { sum += differences[random.integer(0, differences.count - 1)] }
            means.append(sum / Double(differences.count))
        }
        means.sort()
        let tail = (1 - confidence) / 2
        func quantile(_ q: Double) -> Double { means[min(means.count - 1, max(0, Int((q * Double(means.count)).rounded(.down))))] }
        return Difference(mean: mean, lower: quantile(tail), upper: quantile(1 - tail), values: differences)
    }

    /// Per strategy and seed, the mean MCC over the labels spent — over the range of labels
    /// both `strategy` and `baseline` reached in that seed, so a strategy that spent more
    /// labels is not credited for rounds the other never had.
    public static func areaDifferences(_ rows: [SimulationRow], strategy: LoopStrategy, baseline: LoopStrategy) -> [Double] {
        let seeds = Set(rows.map(\.seed)).sorted()
        return seeds.compactMap { seed in
            func curve(_ s: LoopStrategy) -> [(x: Double, y: Double)] {
                rows.filter { $0.strategy == s && $0.seed == seed }.sorted { $0.round < $1.round }
                    .map { (Double($0.labelsSpent), $0.mcc) }
            }
            let mine = curve(strategy), theirs = curve(baseline)
            guard let start = mine.first?.x, let end = mine.last?.x, let theirEnd = theirs.last?.x, !theirs.isEmpty else { return nil }
            let to = min(end, theirEnd)
            guard to > start else { return nil }
            return meanHeight(of: mine, from: start, to: to) - meanHeight(of: theirs, from: start, to: to)
        }
    }

    /// Per seed, `strategy`'s MCC after its last round minus `baseline`'s.
    public static func finalDifferences(_ rows: [SimulationRow], strategy: LoopStrategy, baseline: LoopStrategy) -> [Double] {
        Set(rows.map(\.seed)).sorted().compactMap { seed in
            let mine = rows.filter { $0.strategy == strategy && $0.seed == seed }.max { $0.round < $1.round }
            let theirs = rows.filter { $0.strategy == baseline && $0.seed == seed }.max { $0.round < $1.round }
            guard let mine, let theirs else { return nil }
            return mine.mcc - theirs.mcc
        }
    }

    /// How much one test image moves MCC: between a model right on all `testImages` images
    /// (`nokShare` of them NOK) and one that misses a single NOK image — about 0.05 for 36
    /// balanced images. A difference between strategies smaller than this is one image.
    public static func mccStep(testImages: Int, nokShare: Double) -> Double {
        guard testImages >= 2 else { return .infinity }
        let positives = max(1, min(testImages - 1, Int((Double(testImages) * nokShare).rounded())))
        let truth = [Int](repeating: 1, count: positives) + [Int](repeating: 0, count: testImages - positives)
        var missed = truth
        missed[0] = 0
        return abs(ClassificationMetrics(predictions: truth, truth: truth).mcc - ClassificationMetrics(predictions: missed, truth: truth).mcc)
    }
}
