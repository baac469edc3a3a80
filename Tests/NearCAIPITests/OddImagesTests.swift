import FileAccess
import Imaging
@testable import NearCAIPI
import NeuralNet
import SeededRandom
import SyntheticParts
import Testing
import TestSupport

/// Images that do not belong with the rest of a data set are named, with the reason, and
/// kept out of every labelled split until a person has looked at them.
@Suite struct OddImagesTests {
    static func noise(width: Int, height: Int, seed: UInt64) -> Image {
        var random = SplitMix64(seed: seed)
        return Image(width: width, height: height, channels: 1, pixels: (0..<(width * height)).map { _ in Float(random.integer(0, 255)) / 255 })
    }

    @Test func eachKindOfOddImageIsNamedAgainstTheDataSet() throws {
        var traits: [String: ImageTraits] = [:]
        for index in 0..<12 {
            traits["part\(index)"] = ImageTraits(of: PartFamily.weld.makePart(index: index, seed: 1, size: 96, nokFraction: 0.5).image)
        }
        let ordinary = traits
        traits["one-pixel"] = ImageTraits(of: Image(width: 1, height: 1, channels: 3, filledWith: 0.5))
        traits["lens-cap"] = ImageTraits(of: Image(width: 96, height: 96, channels: 3, filledWith: 0.1))
        traits["noise"] = ImageTraits(of: Self.noise(width: 96, height: 96, seed: 4))
        traits["frame"] = ImageTraits(of: rampImage(width: 800, height: 700, channels: 1))
        traits["strip"] = ImageTraits(of: rampImage(width: 96, height: 30, channels: 1))
        let reasons = OddImages.reasons(traits)
        #expect(Set(reasons.keys) == ["one-pixel", "lens-cap", "noise", "frame", "strip"], "\(reasons)")
        #expect(reasons["one-pixel"]!.hasPrefix("tiny: 1×1 px"))
        #expect(reasons["lens-cap"]!.hasPrefix("blank: one grey level"))
        #expect(reasons["noise"]!.hasPrefix("noise: neighbouring pixels correlate"))
        #expect(reasons["frame"]!.hasPrefix("size: 800×700 px, far from the data set's typical 96×96 px"))
        #expect(reasons["strip"]!.hasPrefix("shape: 96×30 px"))
        // Photographs of parts correlate with their neighbours; noise does not.
        #expect(ordinary.values.allSatisfy { $0.neighbourCorrelation > 0.5 } && traits["noise"]!.neighbourCorrelation < 0.1)
        // Nothing ordinary is flagged, and a data set that is all small, all flat or all of
        // one odd shape is what it is: nothing is judged odd against itself.
        #expect(OddImages.reasons(ordinary).isEmpty)
        let small = Dictionary(uniqueKeysWithValues: (0..<8).map { ("s\($0)", ImageTraits(of: Image(width: 8, height: 8, channels: 1, filledWith: 0.3))) })
        #expect(OddImages.reasons(small).isEmpty)
    }

    /// `init` puts odd images into the pool, never into a labelled split, says why, and the
    /// screens' view carries the reason; `status` counts them.
    @Test func initSetsOddImagesAsideInThePool() throws {
        let directory = TemporaryDirectory("odd-init")
        defer { directory.remove() }
        let data = directory.file("data")
        _ = try SampleDataset.write(SampleDatasetSpec(family: .cast, count: 40, size: 48, seed: 6), to: data)
        try ImageFile.writePNG(Image(width: 1, height: 1, channels: 1, filledWith: 0.5), to: "\(data)/ok/one-pixel.png")
        try ImageFile.writePNG(Self.noise(width: 48, height: 48, seed: 9), to: "\(data)/nok/noise.png")
        var options = WorkspaceOptions()
        options.inputSize = 32
        options.split = [0.5, 0.2, 0.3, 0]  // no pool at all: only the odd images go there
        let (workspace, summary) = try Workspace.create(at: directory.file("ws"), dataRoot: data, options: options)
        #expect(summary.setAside.map(\.path) == ["nok/noise.png", "ok/one-pixel.png"], "\(summary.setAside)")
        let odd = try workspace.oddItems()
        #expect(odd.map(\.path).sorted() == ["nok/noise.png", "ok/one-pixel.png"])
        #expect(odd.allSatisfy { $0.split == .pool && $0.label == nil && $0.isUsable && $0.oddity != nil })
        #expect(try workspace.items(in: .pool).map(\.path).sorted() == ["nok/noise.png", "ok/one-pixel.png"])

        var training = TrainingOptions()
        training.epochs = 1
        _ = try workspace.trainRound(options: training, fromScratch: true) { _ in true }
        let view = try LoopSession(workspace: workspace, user: "ann").view(of: "ok/one-pixel.png")
        #expect(view.oddity?.hasPrefix("tiny: 1×1 px") == true)
    }
}
