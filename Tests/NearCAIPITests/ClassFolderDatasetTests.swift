import FileAccess
import Imaging
import NearCAIPI
import Testing
import TestSupport

@Suite struct ClassFolderDatasetTests {
    /// A data set with mapped folder names, nested class folders, masks in masks/ and beside
    /// the image, an empty mask, and a corrupt file.
    func makeDataset(_ root: String) throws {
        let grey = Image(width: 8, height: 8, channels: 1, filledWith: 0.4)
        var spot = BinaryMask(width: 8, height: 8)
        spot[2, 3] = true
        for folder in ["train/ok_front", "test/ok_front", "def_front", "masks"] { try BinaryFile.createDirectory("\(root)/\(folder)") }
        try ImageFile.writePNG(grey, to: "\(root)/train/ok_front/a.png")
        try ImageFile.writePNG(grey, to: "\(root)/test/ok_front/b.png")
        try ImageFile.writePNG(grey, to: "\(root)/def_front/c.png")
        try ImageFile.writePNG(spot.image, to: "\(root)/masks/c.png")
        try ImageFile.writePNG(grey, to: "\(root)/def_front/d.png")
        try ImageFile.writePNG(spot.image, to: "\(root)/def_front/d_mask.png")
        try ImageFile.writePNG(grey, to: "\(root)/def_front/e.png")
        try ImageFile.writePNG(BinaryMask(width: 8, height: 8).image, to: "\(root)/masks/e.png")
        try BinaryFile.writeAtomically([1, 2, 3], to: "\(root)/def_front/broken.png")
    }

    @Test func readsMappedFoldersMasksAndSkipsBrokenFiles() throws {
        let directory = TemporaryDirectory("dataset")
        defer { directory.remove() }
        try makeDataset(directory.path)
        var dataset = try ClassFolderDataset(root: directory.path, okFolders: ["ok_front"], nokFolders: ["def_front"])
        #expect(dataset.items.map(\.path) == ["def_front/broken.png", "def_front/c.png", "def_front/d.png", "def_front/e.png",
                                             "test/ok_front/b.png", "train/ok_front/a.png"])
        #expect(dataset.items.first { $0.path == "def_front/c.png" }?.maskPath == "masks/c.png")
        #expect(dataset.items.first { $0.path == "def_front/d.png" }?.maskPath == "def_front/d_mask.png")
        let loaded = dataset.load(size: 4, channels: 3)
        #expect(loaded.count == 5)
        #expect(dataset.problems.count == 1 && dataset.problems[0].path == "def_front/broken.png")
        #expect(loaded.allSatisfy { $0.image.width == 4 && $0.image.channels == 3 })
        #expect(loaded.first { $0.item.path == "def_front/c.png" }?.mask?.width == 4)
        #expect(loaded.first { $0.item.path == "def_front/e.png" }?.mask == nil)  // all-zero mask: no mask
        #expect(loaded.filter { $0.item.label == .ok }.count == 2)
    }

    @Test func stratifiedSplitKeepsClassSharesAndIsSeeded() {
        let labels = Array(repeating: 0, count: 30) + Array(repeating: 1, count: 10)
        let (validation, training) = StratifiedSplit.split(labels: labels, fraction: 0.2, seed: 4)
        #expect(validation.filter { labels[$0] == 1 }.count == 2 && validation.filter { labels[$0] == 0 }.count == 6)
        #expect(Set(validation).isDisjoint(with: training) && validation.count + training.count == 40)
        #expect(StratifiedSplit.split(labels: labels, fraction: 0.2, seed: 4).first == validation)
        #expect(StratifiedSplit.split(labels: labels, fraction: 0.2, seed: 5).first != validation)
    }

    @Test func normalisationStatistics() {
        let images = [Image(width: 2, height: 1, channels: 1, pixels: [0, 1]), Image(width: 2, height: 1, channels: 1, pixels: [0, 1])]
        let (mean, std) = SupervisedTraining.normalisation(of: images)
        #expect(mean == [0.5] && abs(std[0] - 0.5) < 1e-6)
    }

    @Test func aPngBesideAJpegIsItsMask() throws {
        let directory = TemporaryDirectory("jpeg-mask")
        defer { directory.remove() }
        let root = directory.path
        try BinaryFile.createDirectory("\(root)/nok")
        try BinaryFile.createDirectory("\(root)/ok")
        // A JPEG photograph (copied from the codec fixtures) with a PNG mask of the same name.
        let jpeg = try BinaryFile.read(repositoryRoot() + "/Tests/ImagingTests/Fixtures/rgb.jpg")
        try BinaryFile.writeAtomically(jpeg, to: "\(root)/nok/part7.jpg")
        try ImageFile.writePNG(Image(width: 16, height: 16, channels: 1, filledWith: 1), to: "\(root)/nok/part7.png")
        try ImageFile.writePNG(Image(width: 16, height: 16, channels: 1, filledWith: 0.5), to: "\(root)/ok/plain.png")
        let dataset = try ClassFolderDataset(root: root)
        #expect(dataset.items.map(\.path) == ["nok/part7.jpg", "ok/plain.png"])
        #expect(dataset.items[0].maskPath == "nok/part7.png")
    }
}
