import Foundation

/// What a plant decides for one part from the model's P(NOK).
public enum PartDecision: String, Sendable, Codable, CaseIterable {
    /// Good enough to ship without a person looking.
    case pass
    /// A person looks at it.
    case review
    /// Set aside as defective without a person looking.
    case reject

    /// In a factory's words, short, beside a prediction on the inspector's screen.
    public var brief: String { self == .pass ? "pass (no review)" : rawValue }

    /// In a factory's words.
    public var words: String {
        switch self {
        case .pass: return "pass (ship without review)"
        case .review: return "review (a person decides)"
        case .reject: return "reject (defective, set aside)"
        }
    }
}

/// A count out of a whole, with a 95 % interval for the rate it estimates.
public struct Proportion: Sendable, Codable, Equatable {
    public var count: Int
    public var of: Int
    /// Wilson score interval, 95 % (z = 1.96); [0, 1] when `of` is 0.
    public var low: Double
    public var high: Double

    public init(_ count: Int, of total: Int) {
        self.count = count
        self.of = total
        (low, high) = Self.wilson(count, of: total)
    }

    /// count / of (0 when of is 0).
    public var rate: Double { of > 0 ? Double(count) / Double(of) : 0 }

    /// The Wilson score interval: (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n). Unlike
    /// the bootstrap's percentile interval (or the normal approximation), it does not
    /// collapse to [0, 0] when nothing was seen — "0 of 28 defects missed" is not proof that
    /// none ever will be: its upper end is 12 %.
    public static func wilson(_ count: Int, of total: Int, z: Double = 1.96) -> (Double, Double) {
        guard total > 0 else { return (0, 1) }
        let n = Double(total), p = Double(count) / n, z2 = z * z
        let centre = p + z2 / (2 * n)
        let spread = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        let scale = 1 + z2 / n
        return (max(0, (centre - spread) / scale), min(1, (centre + spread) / scale))
    }
}

/// Where a round's P(NOK) is cut for pass / review / reject, chosen on the validation parts,
/// and what the cuts do on the validation and the test parts.
///
/// - **pass** below `passBelow`: the highest threshold at which at most ⌊maxMissed · n_NOK⌋
///   validation defects would pass — the (m + 1)-th lowest NOK score, m that number, so a NOK
///   part tied with it is not passed;
/// - **reject** above `rejectAbove`: the lowest threshold above which at most
///   ⌊maxRejected · n_OK⌋ good validation parts lie — the (k + 1)-th highest OK score;
/// - **review** in between.
///
/// Neither cut crosses ½: a part the model itself calls NOK (P(NOK) > ½) is never passed
/// without a person looking, and one it calls OK is never rejected — however confident a
/// few dozen validation parts make the budgets (on 20 of them the pass cut of a good round
/// sat at 0.84, and the screen said "NOK 0.59 → pass").
public struct OperatingPoint: Sendable, Codable, Equatable {
    /// The budgets: the share of defective parts that may pass, and of good parts that may
    /// be rejected, without a person looking.
    public var maxMissed: Double
    public var maxRejected: Double
    public var passBelow: Float
    public var rejectAbove: Float
    public var validation: Figures
    public var test: Figures

    /// What the cuts do on one split.
    public struct Figures: Sendable, Codable, Equatable {
        /// Defective parts passed, of the defective parts.
        public var missedDefects: Proportion
        /// Good parts passed, of the good parts: the share nobody needs to look at.
        public var passedGood: Proportion
        /// Good parts rejected, of the good parts.
        public var rejectedGood: Proportion
        /// Parts sent to review, of all.
        public var reviewed: Proportion
        /// Threshold-free: image AUROC and average precision of P(NOK).
        public var auroc: Double?
        public var averagePrecision: Double?

        public init(scores: [Float], truth: [Int], passBelow: Float, rejectAbove: Float) {
            var missed = 0, passed = 0, rejected = 0, reviewed = 0
            for (score, label) in zip(scores, truth) {
                let decision = OperatingPoint.decide(score, passBelow: passBelow, rejectAbove: rejectAbove)
                if decision == .review { reviewed += 1 }
                if label == 1, decision == .pass { missed += 1 }
                if label == 0, decision == .pass { passed += 1 }
                if label == 0, decision == .reject { rejected += 1 }
            }
            let nok = truth.filter { $0 == 1 }.count, ok = truth.count - nok
            missedDefects = Proportion(missed, of: nok)
            passedGood = Proportion(passed, of: ok)
            rejectedGood = Proportion(rejected, of: ok)
            self.reviewed = Proportion(reviewed, of: truth.count)
            let detection = DetectionMetrics(scores: scores, truth: truth)
            auroc = detection.auroc
            averagePrecision = detection.averagePrecision
        }
    }

    /// The cuts chosen on the validation parts' P(NOK) and truth, applied there and on the
    /// test parts; nil without both a good and a defective validation part.
    public init?(validation: (scores: [Float], truth: [Int]), test: (scores: [Float], truth: [Int]),
                 maxMissed: Double, maxRejected: Double) {
        guard let (pass, reject) = Self.thresholds(scores: validation.scores, truth: validation.truth,
                                                   maxMissed: maxMissed, maxRejected: maxRejected) else { return nil }
        self.maxMissed = maxMissed
        self.maxRejected = maxRejected
        passBelow = pass
        rejectAbove = reject
        self.validation = Figures(scores: validation.scores, truth: validation.truth, passBelow: pass, rejectAbove: reject)
        self.test = Figures(scores: test.scores, truth: test.truth, passBelow: pass, rejectAbove: reject)
    }

    /// (passBelow, rejectAbove) for the budgets; nil without both classes.
    public static func thresholds(scores: [Float], truth: [Int], maxMissed: Double, maxRejected: Double) -> (Float, Float)? {
        let nok = zip(scores, truth).filter { $0.1 == 1 }.map(\.0).sorted()
        let ok = zip(scores, truth).filter { $0.1 == 0 }.map(\.0).sorted(by: >)
        guard !nok.isEmpty, !ok.isEmpty else { return nil }
        let missable = Int((maxMissed * Double(nok.count)).rounded(.down))
        let rejectable = Int((maxRejected * Double(ok.count)).rounded(.down))
        // Parts pass strictly below the (m + 1)-th lowest NOK score: at most m NOK lie below.
        // Parts are rejected strictly above the (k + 1)-th highest OK score: at most k OK lie above.
        // Neither cut reaches past ½, the model's own boundary between OK and NOK.
        return (min(nok[min(missable, nok.count - 1)], 0.5), max(ok[min(rejectable, ok.count - 1)], 0.5))
    }

    public static func decide(_ score: Float, passBelow: Float, rejectAbove: Float) -> PartDecision {
        if score < passBelow { return .pass }
        if score > rejectAbove { return .reject }
        return .review
    }

    /// The decision for a part the model gives `score`.
    public func decide(_ score: Float) -> PartDecision { Self.decide(score, passBelow: passBelow, rejectAbove: rejectAbove) }

    /// The same, short enough for the operator's screen: "passes 62 % [55, 69] of good parts
    /// at ≤ 1 % missed · test: 0/78 defects missed, 48/80 good passed, 3 good rejected, 20 to
    /// review" (rejected good parts: "3 rejected" read as defects set aside, and left the
    /// defects that were neither missed nor reviewed unaccounted for).
    public var compactSummary: String {
        func percent(_ value: Double) -> String { String(format: "%.0f", value * 100) }
        let v = validation.passedGood, t = test
        var text = "passes \(percent(v.rate)) % [\(percent(v.low)), \(percent(v.high))] of good parts at ≤ "
            + "\(String(format: "%g", maxMissed * 100)) % missed"
        if t.missedDefects.of + t.passedGood.of > 0 {
            text += " · test: \(t.missedDefects.count)/\(t.missedDefects.of) defects missed, \(t.passedGood.count)/\(t.passedGood.of) good "
                + "passed, \(t.rejectedGood.count) good rejected, \(t.reviewed.count) to review"
        }
        return text
    }

    /// One line a plant reads: "passes 62 % [55, 69] of good parts at ≤ 1 % missed defects;
    /// test: 0 of 78 defects missed [0, 5 %], 48 of 80 good parts passed".
    public var summary: String {
        func percent(_ value: Double) -> String { String(format: "%.0f", value * 100) }
        func budget(_ value: Double) -> String { String(format: "%g", value * 100) }
        let v = validation, t = test
        var text = "passes \(percent(v.passedGood.rate)) % [\(percent(v.passedGood.low)), \(percent(v.passedGood.high))] of good parts "
            + "at ≤ \(budget(maxMissed)) % missed defects (validation, \(v.passedGood.of + v.missedDefects.of) parts)"
        if t.missedDefects.of + t.passedGood.of > 0 {
            text += "; test: \(t.missedDefects.count) of \(t.missedDefects.of) defects missed "
                + "[\(percent(t.missedDefects.low)), \(percent(t.missedDefects.high)) %], "
                + "\(t.passedGood.count) of \(t.passedGood.of) good parts passed, \(t.rejectedGood.count) good parts rejected, "
                + "\(t.reviewed.count) of \(t.reviewed.of) to review"
        }
        return text
    }
}
