import FileAccess
import Imaging
@testable import NearCAIPI
import NeuralNet
import SeededRandom
import Testing
import TestSupport

@Suite struct RefutationTests {
    /// A 32×32 grey part with a dark 5×5 defect, and its mask.
    static func defectPart() -> (Image, BinaryMask) {
        var image = Image(width: 32, height: 32, channels: 1, filledWith: 0.6)
        var mask = BinaryMask(width: 32, height: 32)
        for y in 8..<13 { for x in 20..<25 { image[0, y, x] = 0.05; mask[y, x] = true } }
        return (image, mask)
    }

    /// Hosts are read only when a paste draws them; one that cannot be read makes no paste,
    /// and the refutations are still made.
    @Test func hostsAreReadOnlyWhenAPasteDrawsThem() {
        let (image, mask) = Self.defectPart()
        let host = Image(width: 32, height: 32, channels: 1, filledWith: 0.7)
        nonisolated(unsafe) var reads: [String] = []
        let hosts = (0..<8).map { index in
            RefutationMaker.Host(name: "ok/\(index).png") { reads.append("ok/\(index).png"); return host }
        }
        let made = RefutationMaker.make(image: image, region: mask, isDefect: true, count: 7, seed: 3, hosts: hosts)
        let pasted = made.filter { $0.transform.hasPrefix("paste into") }
        #expect(pasted.count == 1 && reads.count == 1 && pasted[0].transform.hasPrefix("paste into \(reads[0]) "))
        let unreadable = RefutationMaker.make(image: image, region: mask, isDefect: true, count: 7, seed: 3,
                                              hosts: [RefutationMaker.Host(name: "ok/gone.png") { nil }])
        #expect(unreadable.count == 7 && !unreadable.contains { $0.transform.hasPrefix("paste") })
    }

    @Test func everyRefutationKeepsItsRegionAndIsReproducible() {
        let (image, mask) = Self.defectPart()
        let host = Image(width: 32, height: 32, channels: 1, filledWith: 0.7)
        let made = RefutationMaker.make(image: image, region: mask, isDefect: true, count: 7, seed: 3, okImages: [("ok/a.png", host)])
        #expect(made.count == 7)
        #expect(Set(made.map { $0.transform.split(separator: " ")[0] }).count == 7)  // every kind once
        for refutation in made {
            #expect(!refutation.mask.isEmpty && refutation.image.width == 32, "\(refutation.transform)")
            // The region is still the dark defect wherever the mask says it is.
            let inside = refutation.mask.bits.indices.filter { refutation.mask.bits[$0] }.map { refutation.image.pixels[$0] }
            #expect(inside.reduce(0, +) / Float(inside.count) < 0.35, "\(refutation.transform)")
        }
        let again = RefutationMaker.make(image: image, region: mask, isDefect: true, count: 7, seed: 3, okImages: [("ok/a.png", host)])
        #expect(zip(made, again).allSatisfy { $0.transform == $1.transform && $0.image == $1.image })
        let zoom = made.first { $0.transform.hasPrefix("zoom-in") }!
        #expect(zoom.mask.area > mask.area)
        let paste = made.first { $0.transform.hasPrefix("paste into ok/a.png") }!
        // Far from the pasted region the host is untouched.
        let near = paste.mask.dilated(radius: 3)
        #expect(paste.image.pixels.indices.filter { !near.bits[$0] }.allSatisfy { paste.image.pixels[$0] == 0.7 })
    }

    /// Alignment: when the image is its own region (1 inside, 0 outside), every transform must
    /// leave the output's bright pixels exactly where the output mask says the region is —
    /// for every kind, several seeds, a region near an edge included.
    @Test func everyTransformMovesTheMaskWithTheImage() {
        for (x0, y0) in [(20, 8), (2, 3), (12, 24)] {
            var region = BinaryMask(width: 32, height: 32)
            for y in y0..<(y0 + 6) { for x in x0..<(x0 + 4) { region[y, x] = true } }
            let host = Image(width: 32, height: 32, channels: 1, filledWith: 0)
            for seed in UInt64(1)...6 {
                var random = SplitMix64(seed: seed)
                for kind in RefutationMaker.Kind.allCases {
                    guard let made = RefutationMaker.make(kind, image: region.image, region: region, box: region.boundingBox!,
                                                          random: &random, okImages: [RefutationMaker.Host(name: "ok/host.png") { host }]) else { continue }
                    let drawn = BinaryMask(thresholding: made.image)
                    let mismatched = zip(drawn.bits, made.mask.bits).filter { $0 != $1 }.count
                    // Paste blends with a one-pixel soft edge; the edge-replicated border of a
                    // region touching the frame may add that one ring, nothing more.
                    #expect(mismatched == 0 || (kind == .paste && mismatched <= made.mask.dilated(radius: 1).area - made.mask.area),
                            "\(made.transform) at (\(x0),\(y0)): \(mismatched) pixels differ")
                }
            }
        }
    }

    @Test func okPartsAreNeverPasted() {
        let (image, mask) = Self.defectPart()
        let made = RefutationMaker.make(image: image, region: mask, isDefect: false, count: 10, seed: 1,
                                        okImages: [("ok/a.png", image)])
        #expect(made.count == 10 && !made.contains { $0.transform.hasPrefix("paste") })
    }

    @Test func storedRefutationsJoinTheNextRound() throws {
        let directory = TemporaryDirectory("refute")
        defer { directory.remove() }
        var options = WorkspaceOptions()
        options.inputSize = 32
        let (workspace, _) = try Workspace.create(at: directory.file("ws"), dataRoot: repositoryRoot() + "/SampleData/weld", options: options)
        let parent = try #require(try workspace.labelledItems(in: .train).first { $0.label == .nok })
        let maskPath = try #require(try workspace.item(at: parent.path)?.truthMaskPath)
        let image = try ImageFile.read(try workspace.file(of: parent)).image
        let region = BinaryMask(thresholding: try ImageFile.read(try workspace.dataRoot + "/" + maskPath).image)
        let refutations = RefutationMaker.make(image: image, region: region, isDefect: true, count: 4, seed: 9)
        let paths = try workspace.addRefutations(of: parent.path, label: .nok, refutations)
        #expect(paths.count == 4 && paths.allSatisfy { BinaryFile.exists(directory.file("ws") + "/" + $0) })
        let stored = try paths.map { try #require(try workspace.item(at: $0)) }
        #expect(stored.allSatisfy { $0.origin == .refutation && $0.parentID == parent.id && $0.split == .train && $0.label == .nok })
        #expect(Set(stored.compactMap(\.transform)) == Set(refutations.map(\.transform)))

        var training = TrainingOptions()
        training.epochs = 1
        let (round, _) = try workspace.trainRound(options: training, fromScratch: true) { _ in true }
        #expect(round.trainingSize == 60 + 4)
    }
}
