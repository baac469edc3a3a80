import Explanations

/// How well a score ranks defective parts (NOK, the positive class) above good ones, without
/// choosing a threshold — and what a threshold set for a budget of missed defects would pass.
public struct DetectionMetrics: Sendable, Equatable, Codable {
    public var okCount: Int
    public var nokCount: Int
    /// Image AUROC: the probability that a random NOK part scores above a random OK part, ties
    /// counting one half (the Mann–Whitney U statistic over OK × NOK pairs); nil without both
    /// classes.
    public var auroc: Double?
    /// Average precision: the mean, over the NOK parts, of the precision among the parts
    /// scoring at least as high (tied scores enter together); nil without a NOK part.
    public var averagePrecision: Double?
    /// The share of OK parts a threshold passes when it may miss no defect at all, and when it
    /// may miss 1 % of them (`passedOK(allowingMissed:)`); nil without both classes.
    public var passedAtNoMiss: Double?
    public var passedAtOnePercentMissed: Double?

    public init(scores: [Float], truth: [Int]) {
        precondition(scores.count == truth.count, "one score per truth")
        let ok = zip(scores, truth).filter { $0.1 == 0 }.map(\.0), nok = zip(scores, truth).filter { $0.1 == 1 }.map(\.0)
        okCount = ok.count
        nokCount = nok.count
        auroc = SaliencyMetrics.auroc(scores: scores, positive: truth.map { $0 == 1 })
        averagePrecision = Self.averagePrecision(scores: scores, truth: truth)
        passedAtNoMiss = Self.passedOK(ok: ok, nok: nok, allowingMissed: 0)
        passedAtOnePercentMissed = Self.passedOK(ok: ok, nok: nok, allowingMissed: 0.01)
    }

    /// Pixel AUROC (FCDD, DevNet): the same statistic over pixels, a pixel inside a defect
    /// mask positive, every other pixel — those of good parts included — negative.
    public static func pixelAUROC(scores: [Float], defect: [Bool]) -> Double? {
        SaliencyMetrics.auroc(scores: scores, positive: defect)
    }

    /// Σ over distinct scores, highest first, of (NOK parts at that score) × precision at or
    /// above it, divided by the NOK parts.
    static func averagePrecision(scores: [Float], truth: [Int]) -> Double? {
        let positives = truth.filter { $0 == 1 }.count
        guard positives > 0 else { return nil }
        let ranked = zip(scores, truth).sorted { $0.0 > $1.0 }
        var sum = 0.0, seen = 0, hits = 0, index = 0
        while index < ranked.count {
            var end = index, tiedHits = 0
            while end < ranked.count && ranked[end].0 == ranked[index].0 {
                if ranked[end].1 == 1 { tiedHits += 1 }
                end += 1
            }
            seen = end
            hits += tiedHits
            sum += Double(tiedHits) * Double(hits) / Double(seen)
            index = end
        }
        return sum / Double(positives)
    }

    /// The share of OK parts below the highest threshold that misses at most
    /// ⌊rate · n_nok⌋ NOK parts. A part passes when its score is below the threshold; the
    /// threshold is the (m + 1)-th lowest NOK score, so at most m NOK parts lie below it
    /// (ties included), and an OK part tied with it is not passed.
    public static func passedOK(ok: [Float], nok: [Float], allowingMissed rate: Double) -> Double? {
        guard !ok.isEmpty, !nok.isEmpty else { return nil }
        let allowed = Int((rate * Double(nok.count)).rounded(.down))
        let threshold = nok.sorted()[min(allowed, nok.count - 1)]
        return Double(ok.filter { $0 < threshold }.count) / Double(ok.count)
    }
}
