import Imaging
@testable import NearCAIPI
import Testing

/// The statistics of a strategy comparison on curves made by hand, where the answers are known.
struct SimulationStatisticsTests {
    @Test func meanHeightIsTheAreaPerUnitOfX() {
        // A straight line from 0 to 1 over 0…10: mean 0.5; over its first half: 0.25.
        let line: [(x: Double, y: Double)] = [(0, 0), (10, 1)]
        #expect(abs(SimulationStatistics.meanHeight(of: line, from: 0, to: 10) - 0.5) < 1e-12)
        #expect(abs(SimulationStatistics.meanHeight(of: line, from: 0, to: 5) - 0.25) < 1e-12)
        // 1 up to x = 2, then down to 0 at x = 4: area 2 + 1 = 3 over 4.
        let bent: [(x: Double, y: Double)] = [(0, 1), (2, 1), (4, 0)]
        #expect(abs(SimulationStatistics.meanHeight(of: bent, from: 0, to: 4) - 0.75) < 1e-12)
        // Beyond the last point the curve is held at its last value.
        #expect(abs(SimulationStatistics.meanHeight(of: bent, from: 2, to: 6) - 0.25) < 1e-12)
    }

    @Test func pairedDifferencesResolveOnlyWhatTheSeedsAgreeOn() {
        // Every seed gains 0.1–0.3: the mean is 0.2 and the interval stays inside the values.
        let agreeing = SimulationStatistics.pairedDifference([0.1, 0.2, 0.3])
        #expect(abs(agreeing.mean - 0.2) < 1e-12 && agreeing.lower >= 0.1 && agreeing.upper <= 0.3 && agreeing.isResolved)
        // One seed up, one down, one level: the interval holds 0.
        let split = SimulationStatistics.pairedDifference([0.3, -0.3, 0])
        #expect(abs(split.mean) < 1e-12 && split.lower < 0 && split.upper > 0 && !split.isResolved)
        // Identical differences: a zero-width interval at the value.
        let same = SimulationStatistics.pairedDifference([-0.05, -0.05, -0.05])
        #expect(abs(same.lower + 0.05) < 1e-12 && abs(same.upper + 0.05) < 1e-12 && same.isResolved)
        // Seeded: the same report twice.
        #expect(SimulationStatistics.pairedDifference([0.1, -0.2, 0.4, 0.05]) == SimulationStatistics.pairedDifference([0.1, -0.2, 0.4, 0.05]))
    }

    static func row(_ strategy: LoopStrategy, _ seed: UInt64, _ round: Int, labels: Int, mcc: Double) -> SimulationRow {
        SimulationRow(strategy: strategy, seed: seed, round: round, trainingSize: labels, accuracy: 0, f1: 0, mcc: mcc, labelsSpent: labels)
    }

    @Test func areaDifferencesUseTheLabelsBothSpent() {
        // Near CAIPI spends 40, 50, 60 labels rising 0.2 → 0.6; AL 40, 45, 50 flat at 0.2.
        // Over 40…50 — the range both reached — Near CAIPI averages 0.3, AL 0.2.
        var rows: [SimulationRow] = []
        for seed: UInt64 in [1, 2] {
            rows += [Self.row(.nearCAIPI, seed, 0, labels: 40, mcc: 0.2), Self.row(.nearCAIPI, seed, 1, labels: 50, mcc: 0.4),
                     Self.row(.nearCAIPI, seed, 2, labels: 60, mcc: 0.6),
                     Self.row(.al, seed, 0, labels: 40, mcc: 0.2), Self.row(.al, seed, 1, labels: 45, mcc: 0.2),
                     Self.row(.al, seed, 2, labels: 50, mcc: 0.2)]
        }
        let area = SimulationStatistics.areaDifferences(rows, strategy: .nearCAIPI, baseline: .al)
        #expect(area.count == 2 && area.allSatisfy { abs($0 - 0.1) < 1e-12 })
        let final = SimulationStatistics.finalDifferences(rows, strategy: .nearCAIPI, baseline: .al)
        #expect(final.count == 2 && final.allSatisfy { abs($0 - 0.4) < 1e-12 })
        let report = SimulationReport.markdown(rows, strategies: [.al, .nearCAIPI], title: "T")
        #expect(report.contains("| Near CAIPI | AL | +0.400 [+0.400, +0.400] | +0.100 [+0.100, +0.100] | above AL at 95 %, after the last round and per label spent |"))
        #expect(report.contains("| Near CAIPI | 40 | 50 | 60 |") && report.contains("| AL | 40 | 45 | 50 |"))
    }

    @Test func theLabelsChartPlacesEachRoundAtTheLabelsItCost() throws {
        var rows: [SimulationRow] = []
        for seed: UInt64 in [1, 2] {
            rows += [Self.row(.nearCAIPI, seed, 0, labels: 40, mcc: 0.2), Self.row(.nearCAIPI, seed, 1, labels: 60, mcc: 0.4 + Double(seed) / 10),
                     Self.row(.al, seed, 0, labels: 40, mcc: 0.2), Self.row(.al, seed, 1, labels: 50, mcc: 0.2 + Double(seed) / 10)]
        }
        func rightmost(_ strategy: LoopStrategy, in chart: Image) -> Int {
            let colour = SimulationChart.palette[strategy]!, plane = chart.width * chart.height
            // Below the legend: the plot only.
            return (0..<(chart.width - 190)).last { x in
                (60..<(chart.height - 60)).contains { y in (0..<3).allSatisfy { abs(chart.pixels[$0 * plane + y * chart.width + x] - colour[$0]) < 1e-6 } }
            } ?? -1
        }
        let byRound = SimulationChart.draw(rows, strategies: [.al, .nearCAIPI], title: "MCC")
        let byLabels = SimulationChart.draw(rows, strategies: [.al, .nearCAIPI], title: "MCC", axis: .labelsSpent)
        // By round both end at R1; by labels AL's 50 lies half-way to Near CAIPI's 60.
        #expect(abs(rightmost(.al, in: byRound) - rightmost(.nearCAIPI, in: byRound)) <= 1)
        let start = 70.0, end = Double(rightmost(.nearCAIPI, in: byLabels)), al = Double(rightmost(.al, in: byLabels))
        #expect(abs((al - start) / (end - start) - 0.5) < 0.05, "AL ends at \(al), Near CAIPI at \(end)")
        // The seeds differ in round 1, so a band is blended in beside the line.
        let plane = byLabels.width * byLabels.height
        // A light tint: every channel light, yet not grey (the grid is grey, the lines strong).
        let tinted = (0..<plane).contains { i in
            let channels = (0..<3).map { byLabels.pixels[$0 * plane + i] }
            return channels.min()! > 0.8 && channels.max()! - channels.min()! > 0.05
        }
        #expect(tinted)
        let flat = SimulationChart.draw(rows.filter { $0.seed == 1 }, strategies: [.al, .nearCAIPI], title: "MCC", axis: .labelsSpent)
        #expect(!(0..<plane).contains { i in
            let channels = (0..<3).map { flat.pixels[$0 * plane + i] }
            return channels.min()! > 0.8 && channels.max()! - channels.min()! > 0.05
        }, "one seed has no spread, so no band")
    }

    @Test func oneSeedResolvesNothingAndMixedSeedsSaySo() {
        let one = [Self.row(.caipi, 1, 0, labels: 10, mcc: 0.1), Self.row(.caipi, 1, 1, labels: 20, mcc: 0.9),
                   Self.row(.al, 1, 0, labels: 10, mcc: 0.1), Self.row(.al, 1, 1, labels: 20, mcc: 0.2)]
        #expect(SimulationReport.comparisons(one, strategies: [.al, .caipi]).contains("one seed: no interval, nothing resolved"))
        var mixed = one
        mixed += [Self.row(.caipi, 2, 0, labels: 10, mcc: 0.5), Self.row(.caipi, 2, 1, labels: 20, mcc: 0.1),
                  Self.row(.al, 2, 0, labels: 10, mcc: 0.5), Self.row(.al, 2, 1, labels: 20, mcc: 0.8)]
        #expect(SimulationReport.comparisons(mixed, strategies: [.al, .caipi]).contains("no difference resolvable"))
    }

    @Test func oneTestImageMovesMCCByAboutTwoOverN() {
        // 36 balanced images: 1 − 17·18 / √(17·18·18·19) ≈ 0.054.
        #expect(abs(SimulationStatistics.mccStep(testImages: 36, nokShare: 0.5) - 0.0539) < 1e-3)
        #expect(SimulationStatistics.mccStep(testImages: 218, nokShare: 0.6) < 0.015)
    }
}

extension SimulationStatisticsTests {
    @Test func aTestSplitTooSmallForTheIntervalsIsFlagged() throws {
        var rows: [SimulationRow] = []
        for (seed, gain) in [(UInt64(1), 0.10), (2, 0.12), (3, 0.11)] {
            rows += [Self.row(.al, seed, 0, labels: 10, mcc: 0.3), Self.row(.al, seed, 1, labels: 20, mcc: 0.4),
                     Self.row(.caipi, seed, 0, labels: 10, mcc: 0.3), Self.row(.caipi, seed, 1, labels: 20, mcc: 0.4 + gain)]
        }
        // 36 test images: one moves MCC by 0.054, far more than the ± 0.01 the seeds agree to.
        let small = try #require(SimulationReport.testSplitWarning(rows, strategies: [.al, .caipi], testSplit: (36, 0.5)))
        #expect(small.hasPrefix("**Warning: the test split is too small") && small.contains("One of the 36 test images moves MCC by about 0.054"))
        let needed = try #require(Int(small.split(separator: "about ").last!.split(separator: " ").first!))
        #expect(needed > 150 && needed < 250)
        // 2 000 test images: one is 0.001, and the intervals are what limits.
        let large = try #require(SimulationReport.testSplitWarning(rows, strategies: [.al, .caipi], testSplit: (2000, 0.5)))
        #expect(!large.contains("Warning"))
    }
}

extension SimulationStatisticsTests {
    @Test func roundsKeptBackByThePromotionRuleAreCounted() {
        var rows = [Self.row(.al, 1, 0, labels: 10, mcc: 0.3), Self.row(.al, 1, 1, labels: 20, mcc: 0.3),
                    Self.row(.al, 1, 2, labels: 30, mcc: 0.5)]
        #expect(!SimulationReport.markdown(rows, strategies: [.al], title: "T").contains("kept back"))
        rows[1].keptBack = true
        #expect(SimulationReport.markdown(rows, strategies: [.al], title: "T").contains("| AL | 1 of 2 |"))
    }
}
