import FileAccess
import Imaging
@testable import NearCAIPI
import NeuralNet
import SyntheticParts
import Testing
import TestSupport

/// What the screens are given to show: the photo as its file holds it, beside the model's
/// square input.
@Suite struct PhotoViewTests {
    @Test func aViewCarriesThePhotoAtItsOwnSizeAndAspect() throws {
        let directory = TemporaryDirectory("photo-view")
        defer { directory.remove() }
        let data = directory.file("data")
        // Wide parts, as a line camera takes them; and one frame far larger than a screen.
        _ = try SampleDataset.write(SampleDatasetSpec(family: .weld, count: 24, size: 48, seed: 2, camera: (192, 96)), to: data)
        try ImageFile.writePNG(rampImage(width: 3000, height: 1500, channels: 3), to: "\(data)/ok/large_frame.png")
        var options = WorkspaceOptions()
        options.inputSize = 32
        let (workspace, _) = try Workspace.create(at: directory.file("ws"), dataRoot: data, options: options)
        var training = TrainingOptions()
        training.epochs = 1
        _ = try workspace.trainRound(options: training, fromScratch: true) { _ in true }
        let session = try LoopSession(workspace: workspace, user: "ann")

        let path = try #require(try Split.allCases.flatMap { try workspace.items(in: $0) }.first { !$0.path.contains("large_frame") }?.path)
        let view = try session.view(of: path)
        // The model's input is square; the photo keeps the file's 2:1 shape and its pixels.
        #expect(view.image.width == 32 && view.image.height == 32)
        #expect(view.photo.width == 192 && view.photo.height == 96 && view.fileWidth == 192 && view.fileHeight == 96)
        let file = try ImageFile.read("\(data)/\(path)").image
        #expect(view.photo.channels == file.channels && view.photo.pixels == file.pixels)

        // A frame over the limit is reduced for the screens, aspect kept; its file size is kept
        // for the masks painted on it.
        let large = try session.view(of: "ok/large_frame.png")
        #expect(large.photo.width == ItemView.photoLimit && large.photo.height == ItemView.photoLimit / 2)
        #expect(large.fileWidth == 3000 && large.fileHeight == 1500)
    }
}
