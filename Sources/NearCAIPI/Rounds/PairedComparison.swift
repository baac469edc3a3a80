import Foundation

/// A new round against the round in use, part by part on the same validation parts: the
/// evidence the promotion rule `unless-worse` decides on.
///
/// Only the parts the two rounds judge differently say anything: `worseOn` parts the round in
/// use gets right and the new one wrong, `betterOn` the other way round. If the new round were
/// no worse, each such part would be as likely to fall either way, so
///
///     p = P(X ≥ worseOn),  X ~ Binomial(worseOn + betterOn, ½)
///
/// (the exact one-sided sign test on the discordant pairs — McNemar's test, exact) is the
/// chance of seeing at least this many losses by luck. The new round is **worse** when
/// p < 1 − confidence; otherwise there is no evidence it is worse, and it goes live.
public struct PairedComparison: Sendable, Codable, Equatable {
    /// The round in use it was compared with.
    public var against: Int
    public var parts: Int
    public var worseOn: Int
    public var betterOn: Int
    public var p: Double
    /// How sure the rule must be that it is worse before keeping it back (e.g. 0.9).
    public var confidence: Double

    /// `active` and `candidate`: each part's predicted class; `truth`: its class.
    public init(against: Int, active: [Int], candidate: [Int], truth: [Int], confidence: Double) {
        precondition(active.count == truth.count && candidate.count == truth.count, "one prediction per part on each side")
        self.against = against
        self.confidence = confidence
        parts = truth.count
        var worse = 0, better = 0
        for index in truth.indices {
            let old = active[index] == truth[index], new = candidate[index] == truth[index]
            if old && !new { worse += 1 }
            if new && !old { better += 1 }
        }
        worseOn = worse
        betterOn = better
        p = Self.upperTail(worse, of: worse + better)
    }

    /// Whether the evidence says the new round is worse.
    public var isWorse: Bool { p < 1 - confidence }

    /// P(X ≥ k) for X ~ Binomial(n, ½); 1 when n is 0.
    public static func upperTail(_ k: Int, of n: Int) -> Double {
        guard n > 0, k > 0 else { return 1 }
        guard k <= n else { return 0 }
        // Σ C(n, i) / 2ⁿ in logs: lgamma keeps C(n, i) finite for any n a validation split has.
        let logHalf = Double(n) * log(0.5)
        var sum = 0.0
        for i in k...n {
            sum += exp(lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) + logHalf)
        }
        return min(1, sum)
    }

    /// What the rule concluded, in words: "worse on 9, better on 2 of 41 paired parts against
    /// round 3 (p 0.03): kept as candidate" or "no evidence it is worse than round 3 (worse on
    /// 2, better on 3 of 41 paired parts, p 0.81): live".
    public var sentence: String {
        let counts = "worse on \(worseOn), better on \(betterOn) of \(parts) paired validation parts"
        let chance = String(format: "p %.2g", p)
        return isWorse
            ? "\(counts) against round \(against) (\(chance) < \(String(format: "%g", 1 - confidence))): kept as candidate"
            : "no evidence it is worse than round \(against) (\(counts), \(chance)): live"
    }
}
