import Foundation
@testable import NearCAIPI
import Testing

/// The paired rule on constructed rounds: clearly worse stays a candidate, equal and better go
/// live, and the p-value is the exact binomial tail.
@Suite struct PairedComparisonTests {
    @Test func theTailIsTheExactBinomialOne() {
        #expect(PairedComparison.upperTail(0, of: 5) == 1)
        #expect(abs(PairedComparison.upperTail(5, of: 5) - 1.0 / 32) < 1e-12)
        #expect(abs(PairedComparison.upperTail(4, of: 5) - 6.0 / 32) < 1e-12)
        #expect(abs(PairedComparison.upperTail(3, of: 6) - 42.0 / 64) < 1e-12)
        #expect(PairedComparison.upperTail(0, of: 0) == 1)
        // Large n stays finite: 300 of 400 by luck is all but impossible.
        #expect(PairedComparison.upperTail(300, of: 400) < 1e-20)
    }

    /// 40 validation parts; the round in use gets the first 30 right.
    static let truth = (0..<40).map { $0 % 2 }
    static let active = truth.enumerated().map { $0.offset < 30 ? $0.element : 1 - $0.element }

    @Test func clearlyWorseStaysACandidate() {
        // The new round gets 8 of the old one's right parts wrong and none of its wrong ones right.
        let candidate = Self.active.enumerated().map { $0.offset < 8 ? 1 - $0.element : $0.element }
        let comparison = PairedComparison(against: 3, active: Self.active, candidate: candidate, truth: Self.truth, confidence: 0.9)
        #expect(comparison.worseOn == 8 && comparison.betterOn == 0 && comparison.parts == 40)
        #expect(comparison.isWorse && abs(comparison.p - 1.0 / 256) < 1e-12)
        #expect(comparison.sentence.hasPrefix("worse on 8, better on 0 of 40 paired validation parts against round 3 (p 0.0039 < 0.1)"))
        #expect(comparison.sentence.hasSuffix("kept as candidate"))
    }

    @Test func equalOrBetterGoesLive() {
        let same = PairedComparison(against: 3, active: Self.active, candidate: Self.active, truth: Self.truth, confidence: 0.9)
        #expect(!same.isWorse && same.p == 1 && same.sentence.hasPrefix("no evidence it is worse than round 3"))
        // Swaps: 2 lost, 3 gained — noise, not evidence.
        var swapped = Self.active
        for index in [0, 1] { swapped[index] = 1 - swapped[index] }
        for index in [30, 31, 32] { swapped[index] = 1 - swapped[index] }
        let noise = PairedComparison(against: 3, active: Self.active, candidate: swapped, truth: Self.truth, confidence: 0.9)
        #expect(noise.worseOn == 2 && noise.betterOn == 3 && !noise.isWorse)
        #expect(noise.sentence.hasSuffix(": live"))
        // Better everywhere the old one erred.
        let better = PairedComparison(against: 3, active: Self.active, candidate: Self.truth, truth: Self.truth, confidence: 0.9)
        #expect(better.betterOn == 10 && better.worseOn == 0 && !better.isWorse)
        // Three losses and nothing gained: p 1/8 — worse at 80 % confidence, not at 90 %.
        var three = Self.active
        for index in [0, 1, 2] { three[index] = 1 - three[index] }
        #expect(!PairedComparison(against: 3, active: Self.active, candidate: three, truth: Self.truth, confidence: 0.9).isWorse)
        #expect(PairedComparison(against: 3, active: Self.active, candidate: three, truth: Self.truth, confidence: 0.8).isWorse)
    }
}
