import Imaging
@testable import NearCAIPI
import NeuralNet
import SeededRandom
import Testing

/// Nearest-neighbour distances of parts: a region no other part shares stands out, where it
/// is; a part of the bank is not matched with itself.
@Suite struct PatchDistancesTests {
    /// A small network (random weights: the distances need no training to find a region that
    /// no other part has) and its input normalisation.
    static func network() -> (ResNet, CheckpointInfo) {
        let configuration = ResNetConfiguration(architecture: "resnet-test", widths: [8, 16, 32, 64], blocks: [1, 1, 1, 1],
                                                inputChannels: 1, inputSize: 64, classCount: 2)
        return (ResNet(configuration, seed: 4), CheckpointInfo(configuration: configuration, classNames: ["ok", "nok"], mean: [0.5], std: [0.25]))
    }

    /// A part: a brightness ramp with a seam across it, a little noise, shifted by up to a pixel.
    static func part(_ random: inout SplitMix64) -> Image {
        var image = Image(width: 64, height: 64, channels: 1)
        let shift = random.integer(-1, 1)
        for y in 0..<64 {
            for x in 0..<64 {
                let seam: Float = abs(y - 32 - shift) < 4 ? 0.3 : 0
                image.pixels[y * 64 + x] = 0.2 + Float(x) / 160 + seam + random.uniform(-0.02, 0.02)
            }
        }
        return image
    }

    @Test func aRegionNoOtherPartHasScoresHighestWhereItIs() {
        let (model, info) = Self.network()
        var random = SplitMix64(seed: 9)
        let bank = (0..<12).map { _ in Self.part(&random) }
        let distances = PatchDistances(bankImages: bank, model: model, info: info)
        let clean = Self.part(&random)
        var defective = Self.part(&random)
        // A dark pit of 8 × 8 pixels at rows 44–51, columns 12–19.
        for y in 44..<52 { for x in 12..<20 { defective.pixels[y * 64 + x] = 0.02 } }
        let results = distances.distances(of: [clean, defective])
        #expect(results[1].score > results[0].score + 1, "defective \(results[1].score), clean \(results[0].score)")
        let map = distances.map(of: results[1], size: 64)
        let peak = map.pixels.indices.max { map.pixels[$0] < map.pixels[$1] }!
        let (y, x) = (peak / 64, peak % 64)
        #expect((40..<56).contains(y) && (8..<24).contains(x), "the map peaks at (\(x), \(y)), away from the pit")
    }

    /// A part with a seam at `centre` (or none), otherwise as `part`.
    static func part(seamAt centre: Int?, _ random: inout SplitMix64) -> Image {
        var image = Image(width: 64, height: 64, channels: 1)
        for y in 0..<64 {
            for x in 0..<64 {
                let seam: Float = centre.map { abs(y - $0) < 4 ? 0.3 : 0 } ?? 0
                image.pixels[y * 64 + x] = 0.2 + Float(x) / 160 + seam + random.uniform(-0.02, 0.02)
            }
        }
        return image
    }

    /// A part without the seam every other part has is plain ramp, which every part shows
    /// somewhere and the bank's other seamless parts match exactly: nearest matches alone rank
    /// it among the most ordinary. What it lacks makes it stand out; a part that lacks nothing
    /// keeps the score the matches give it.
    @Test func aPartLackingWhatTheOthersHaveStandsOutThoughThePoolRepeatsIt() {
        let (model, info) = Self.network()
        var random = SplitMix64(seed: 5)
        var bank = (0..<18).map { i in Self.part(seamAt: 22 + i % 9 * 2, &random) }
        bank += (0..<2).map { _ in Self.part(seamAt: nil, &random) }
        let distances = PatchDistances(bankImages: bank, model: model, info: info)
        let results = distances.distances(of: [Self.part(seamAt: 30, &random), Self.part(seamAt: nil, &random)])
        let (clean, seamless) = (results[0], results[1])
        let cut = PatchDistances.outlierThreshold
        #expect(seamless.absences.contains { $0 > cut }, "absences \(seamless.absences)")
        #expect(clean.absences.allSatisfy { $0 < cut }, "absences \(clean.absences)")
        // Without what it lacks, the seamless part would not score above the clean one.
        let matchesOnly = seamless.score - (seamless.absences + [seamless.residual]).map { max(0, $0 - cut) }.reduce(0, +)
        #expect(matchesOnly < clean.score, "by matches alone \(matchesOnly), clean \(clean.score)")
        #expect(seamless.score > clean.score + 1, "seamless \(seamless.score), clean \(clean.score)")
        // Ranked among good parts scored the same way, it comes first.
        let good = distances.distances(of: (0..<8).map { i in Self.part(seamAt: 24 + i * 2, &random) })
        #expect(good.allSatisfy { $0.score < seamless.score }, "good \(good.map(\.score)), seamless \(seamless.score)")
        // A good part lit brighter lacks nothing of layer1's texture. (layer2's cells, of random
        // weights and a bank lit all alike, do count the light; on real banks, lit unevenly,
        // they did not: Docs/Pretraining.md.)
        var bright = Self.part(seamAt: 28, &random)
        for i in bright.pixels.indices { bright.pixels[i] += 0.15 }
        let texture = PatchDistances.absenceScales.firstIndex { $0.stage == 0 && $0.centred }!
        let brightResult = distances.distances(of: [bright])[0]
        #expect(brightResult.absences[texture] < cut, "absences of the brighter part \(brightResult.absences)")
    }

    /// What a part lacks is judged from its cells as they differ from its own usual: each
    /// channel less its mean over the part's cells, so a part whose every cell is shifted alike
    /// (lit brighter) has the cells it had.
    @Test func aPartsCellsAreCentredOnThePartsOwnMean() {
        var random = SplitMix64(seed: 21)
        let (cells, channels) = (24, 3)
        // Two images, [cell][image][channel]; the second is the first + 0.8 · (channel + 1).
        var data = [Float](repeating: 0, count: cells * 2 * channels)
        for cell in 0..<cells {
            for k in 0..<channels {
                let v = random.uniform(0, 1) * Float(k + 1)
                data[(cell * 2) * channels + k] = v
                data[(cell * 2 + 1) * channels + k] = v + 0.8 * Float(k + 1)
            }
        }
        let first = PatchDistances.cells(data, cells: cells, images: 2, channels: channels, image: 0, centred: true)
        let second = PatchDistances.cells(data, cells: cells, images: 2, channels: channels, image: 1, centred: true)
        for i in first.cells.indices { #expect(abs(first.cells[i] - second.cells[i]) < 1e-5, "value \(i)") }
        for k in 0..<channels {
            let mean = (0..<cells).map { first.cells[$0 * channels + k] }.reduce(0, +) / Float(cells)
            #expect(abs(mean) < 1e-5, "channel \(k): mean \(mean)")
            // The spread is kept: centring takes the offset away, nothing else.
            let before = (0..<cells).map { data[($0 * 2) * channels + k] }
            #expect(abs((before.max()! - before.min()!) - (0..<cells).map { first.cells[$0 * channels + k] }.max()!
                        + (0..<cells).map { first.cells[$0 * channels + k] }.min()!) < 1e-5)
        }
        for cell in 0..<cells {
            let row = first.cells[(cell * channels)..<((cell + 1) * channels)]
            #expect(abs(first.norms[cell] - row.reduce(0) { $0 + $1 * $1 }) < 1e-5)
        }
        // Not centred: the image's cells as they are, gathered.
        let raw = PatchDistances.cells(data, cells: cells, images: 2, channels: channels, image: 1, centred: false)
        for cell in 0..<cells {
            for k in 0..<channels { #expect(raw.cells[cell * channels + k] == data[(cell * 2 + 1) * channels + k]) }
        }
    }

    /// A reference's cells are matched on an even grid of at most the limit, centred.
    @Test func theAbsenceSamplesAnEvenGridOfAReferencesCells() {
        // Layer1 at 128 px, 32 × 32 cells: every second cell each way.
        let grid = PatchDistances.grid(height: 32, width: 32, limit: 256)
        #expect(grid.count == 256)
        #expect(Array(grid.prefix(3)) == [0, 2, 4] && grid[16] == 64)
        // At 224 px, 56 × 56: every fourth, 14 × 14, the leftover cells split about the grid.
        let large = PatchDistances.grid(height: 56, width: 56, limit: 256)
        #expect(large.count == 196 && large[0] == 56 + 1 && large[1] == 56 + 5 && large.last == 53 * 56 + 53)
        // Within the limit, every cell.
        #expect(PatchDistances.grid(height: 16, width: 16, limit: 256) == Array(0..<256))
    }

    @Test func theVectorMinimumEqualsTheScalarOne() {
        var random = SplitMix64(seed: 3)
        for count in [1, 7, 8, 9, 1024, 1029] {
            let a = (0..<count).map { _ in random.uniform(-1, 1) }, b = (0..<count).map { _ in random.uniform(-1, 1) }
            let expected = zip(a, b).map { $0 - 2 * $1 }.min()!
            let found = a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in PatchDistances.minimum(of: a, minusTwice: b) } }
            #expect(found == expected, "\(count) values")
        }
    }

    /// A disc of `radius` centred near the middle, on darker ground; with `flattenedBy` > 0 the
    /// rim is cut straight across its top, that many pixels in (a dent: every piece of it is
    /// disc edge, which smaller discs show at the same place).
    static func disc(radius: Float, flattenedBy depth: Float = 0, _ random: inout SplitMix64) -> Image {
        var image = Image(width: 64, height: 64, channels: 1)
        let (cx, cy) = (32 + Float(random.integer(-1, 1)), 32 + Float(random.integer(-1, 1)))
        for y in 0..<64 {
            for x in 0..<64 {
                let (dx, dy) = (Float(x) - cx, Float(y) - cy)
                // How far inside the outline, with an edge two pixels soft as a lens draws it.
                let inside = min(radius - (dx * dx + dy * dy).squareRoot(), radius - depth + dy)
                let disc = min(max(inside / 2 + 0.5, 0), 1)
                image.pixels[y * 64 + x] = 0.25 + 0.45 * disc + random.uniform(-0.05, 0.05)
            }
        }
        return image
    }

    /// A disc with a flattened rim is a new arrangement of normal pieces: laid over whole, no
    /// other disc explains it, and it ranks above every good disc; good discs of every size in
    /// the bank's range are explained.
    @Test func aPartWhoseOutlineIsMovedStandsOutWhenTheOthersAreLaidOverIt() {
        let (model, info) = Self.network()
        var random = SplitMix64(seed: 12)
        let bank = (0..<48).map { _ in Self.disc(radius: random.uniform(18, 26), &random) }
        let distances = PatchDistances(bankImages: bank, model: model, info: info)
        let good = distances.distances(of: (0..<8).map { i in Self.disc(radius: 19.5 + 0.75 * Float(i), &random) })
        let dented = distances.distances(of: [Self.disc(radius: 22, flattenedBy: 4, &random)])[0]
        #expect(dented.residual > PatchDistances.outlierThreshold, "residual \(dented.residual), good \(good.map(\.residual))")
        #expect(good.allSatisfy { $0.residual < PatchDistances.outlierThreshold }, "good \(good.map(\.residual))")
        #expect(good.allSatisfy { $0.score < dented.score }, "good \(good.map(\.score)), dented \(dented.score)")
        // By cells alone (the matches and the absence) it would not.
        let cellsOnly = dented.score - (dented.residual - PatchDistances.outlierThreshold)
        #expect(good.contains { $0.score > cellsOnly }, "good \(good.map(\.score)), dented by cells alone \(cellsOnly)")
    }

    @Test func quantilesAndTheRobustScaleFollowTheirDefinitions() {
        #expect(abs(PatchDistances.quantile([4, 1, 3, 2], 0.9) - 3.7) < 1e-6)
        #expect(PatchDistances.quantile([4, 1, 3, 2], 0.5) == 2.5)
        #expect(PatchDistances.quantile([7], 0.9) == 7)
        // Median 3, absolute deviations 2, 1, 0, 1, 97 → MAD 1: the outlier moves neither.
        let (median, scale) = PatchDistances.medianAndRobustSD([1, 2, 3, 4, 100])
        #expect(median == 3)
        #expect(abs(scale - 1.4826) < 1e-5)
    }

    @Test func aBankPartIsNotMatchedWithItself() {
        let (model, info) = Self.network()
        var random = SplitMix64(seed: 2)
        var bank = (0..<8).map { _ in Self.part(&random) }
        for y in 10..<18 { for x in 40..<48 { bank[5].pixels[y * 64 + x] = 0.95 } }
        let distances = PatchDistances(bankImages: bank, model: model, info: info)
        #expect(distances.bankPosition(of: bank[5]) == 5)
        #expect(distances.bankPosition(of: Self.part(&random)) == nil)
        // Matched with itself every cell would be at distance 0; against the others its spot stands out.
        let alone = distances.distances(of: [bank[5]], bankPositions: [5])[0]
        let withItself = distances.distances(of: [bank[5]])[0]
        #expect(withItself.stageMaps.allSatisfy { $0.pixels.allSatisfy { $0 < 1e-3 } })
        #expect(alone.stageMaps.allSatisfy { ($0.pixels.max() ?? 0) > 0.1 })
        let others = distances.distances(of: Array(bank[0..<5]), bankPositions: Array(0..<5))
        #expect(others.allSatisfy { $0.score < alone.score })
    }
}
