import FileAccess
import Foundation
@testable import NearCAIPI
import NeuralNet
import Testing
import TestSupport

/// A workspace's pretraining: what it learns from (never the test split, never a label), that
/// an interrupted run resumes into the uninterrupted one, and that the first round starts
/// from its backbone.
@Suite(.serialized) struct PretrainingTests {
    static func workspace(_ directory: TemporaryDirectory, name: String = "ws") throws -> Workspace {
        var options = WorkspaceOptions()
        options.inputSize = 32
        return try Workspace.create(at: directory.file(name), dataRoot: repositoryRoot() + "/SampleData/weld", options: options).0
    }

    static func options(epochs: Int = 2, method: PretrainingMethod = .simclr) -> PretrainingOptions {
        var options = PretrainingOptions()
        options.method = method
        options.epochs = epochs
        options.batchSize = 16
        return options
    }

    static func parameters(_ path: String) throws -> [(String, [UInt32])] {
        try Checkpoint.load(path).model.namedParameters.map { ($0.0, $0.1.value.map(\.bitPattern)) }
    }

    @Test(arguments: [PretrainingMethod.simclr, .defects])
    func itLearnsFromEveryImageButTheTestSplitAndReadsNoLabel(method: PretrainingMethod) throws {
        let directory = TemporaryDirectory("pretrain-labels-\(method.rawValue)")
        defer { directory.remove() }
        let plain = try Self.workspace(directory, name: "plain")
        let used = try plain.pretrainingItems()
        let test = Set(try plain.items(in: .test).map(\.id))
        #expect(!used.isEmpty && used.allSatisfy { !test.contains($0.id) && $0.origin == .original })
        #expect(used.count == (try [Split.pool, .train, .validation].map { try plain.items(in: $0).count }.reduce(0, +)))
        // Enough epochs for the defect pretext to score its suspects again.
        let epochs = method == .defects ? 10 : 2
        _ = try plain.pretrain(options: Self.options(epochs: epochs, method: method)) { _ in true }

        // The same data with a dozen pool parts labelled — wrongly, half of them — and so
        // moved to the training split: the same backbone, bit for bit.
        let labelled = try Self.workspace(directory, name: "labelled")
        var options = TrainingOptions()
        options.epochs = 1
        _ = try labelled.trainRound(options: options, fromScratch: true) { _ in true }
        let session = try LoopSession(workspace: labelled, user: "ines")
        for (index, prediction) in session.pool.predictions.prefix(12).enumerated() {
            _ = try session.submit(FeedbackEvent(itemPath: prediction.path, user: "ines", predictedLabel: prediction.predictedLabel,
                                                 prediction: index % 2 == 0 ? .right : .wrong))
        }
        try BinaryFile.remove(labelled.path + "/models/round-001.safetensors")
        _ = try labelled.pretrain(options: Self.options(epochs: epochs, method: method)) { _ in true }
        let a = try Self.parameters(plain.pretrainedBackbonePath), b = try Self.parameters(labelled.pretrainedBackbonePath)
        for ((name, x), (_, y)) in zip(a, b) { #expect(x == y, "\(name) differs") }
    }

    @Test func anInterruptedRunResumesIntoTheUninterruptedOne() throws {
        let directory = TemporaryDirectory("pretrain-resume")
        defer { directory.remove() }
        let whole = try Self.workspace(directory, name: "whole")
        let summary = try whole.pretrain(options: Self.options(epochs: 3)) { _ in true }
        #expect(summary.isFinished && summary.losses.count == 3 && summary.resumedAfter == 0)
        #expect(try whole.pretrainingSummary()?.epochsDone == 3)

        // Stopped in epoch 2: epoch 1 is kept, no backbone yet; run again, it resumes.
        let broken = try Self.workspace(directory, name: "broken")
        let stopped = try broken.pretrain(options: Self.options(epochs: 3)) { $0.epoch < 2 }
        #expect(!stopped.isFinished && stopped.epochsDone == 1 && !broken.hasPretrainedBackbone)
        let resumed = try broken.pretrain(options: Self.options(epochs: 3)) { _ in true }
        #expect(resumed.resumedAfter == 1 && resumed.isFinished && resumed.losses == summary.losses)
        let a = try Self.parameters(whole.pretrainedBackbonePath), b = try Self.parameters(broken.pretrainedBackbonePath)
        for ((name, x), (_, y)) in zip(a, b) { #expect(x == y, "\(name) differs") }

        // Other options cannot continue that run: said, with the way out.
        do {
            _ = try broken.pretrain(options: Self.options(epochs: 5)) { _ in true }
            Issue.record("a run with other options resumed")
        } catch let error as WorkspaceError {
            #expect(error.message.contains("--restart"), "\(error.message)")
        }
    }

    @Test func theFirstRoundStartsFromTheBackbone() throws {
        let directory = TemporaryDirectory("pretrain-round")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        _ = try workspace.pretrain(options: Self.options(epochs: 1)) { _ in true }
        let backbone = try Checkpoint.load(workspace.pretrainedBackbonePath)
        var options = TrainingOptions()
        options.epochs = 1
        let (round, _) = try workspace.trainRound(options: options, fromScratch: true) { _ in true }
        let trained = try Checkpoint.load(workspace.checkpointPath(of: round))
        // The normalisation it learnt under (all its images, not the training split's alone)…
        #expect(trained.info.mean == backbone.info.mean && trained.info.std == backbone.info.std)
        // …and its weights, one epoch of fine-tuning away (random weights would be far off).
        let start = backbone.model.layers(of: Conv2d.self).first!.1.weight.value
        let now = trained.model.layers(of: Conv2d.self).first!.1.weight.value
        let moved = zip(start, now).map { abs($0 - $1) }.max()!
        let scale = start.map(abs).max()!
        #expect(moved < scale * 0.5, "moved \(moved) against weights up to \(scale)")
    }
}
