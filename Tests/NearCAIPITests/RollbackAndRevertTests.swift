import FileAccess
import Foundation
import Imaging
@testable import NearCAIPI
import NeuralNet
import Testing
import TestSupport

/// What people gave stays given: a rollback changes the model, never the answers; answers are
/// withdrawn only when someone asks, selectively, after seeing which.
@Suite(.serialized) struct RollbackAndRevertTests {
    /// A painted mask nobody else would paint: the top-left quarter of the image.
    static func paintedMask(size: Int) throws -> [UInt8] {
        var mask = BinaryMask(width: size, height: size)
        for y in 0..<(size / 2) { for x in 0..<(size / 2) { mask.bits[y * size + x] = true } }
        return try ImageFile.encodePNG(mask.image, name: "painted")
    }

    /// The first pool items of each truth class.
    static func poolItems(_ session: LoopSession) throws -> (defects: [String], ok: [String]) {
        var defects: [String] = [], ok: [String] = []
        for prediction in session.pool.predictions {
            let truth = try SimulatedExpert.truth(of: prediction.path, in: session.workspace)
            if truth.label == .nok, truth.maskPath != nil { defects.append(prediction.path) } else if truth.label == .ok { ok.append(prediction.path) }
        }
        return (defects, ok)
    }

    func quickRound() -> TrainingOptions {
        var options = TrainingOptions()
        options.epochs = 1
        return options
    }

    @Test func aRollbackKeepsEveryAnswerAndItsPaintedMask() throws {
        let directory = TemporaryDirectory("rollback-keeps")
        defer { directory.remove() }
        let workspace = try QuerySelectionTests.trainedWorkspace(directory)
        let session = try LoopSession(workspace: workspace, user: "ines")
        let (defects, ok) = try Self.poolItems(session)
        let size = session.classifier.inputSize
        let painted = try Self.paintedMask(size: size)
        _ = try session.submit(FeedbackEvent(itemPath: defects[0], user: "ines", predictedLabel: .nok, prediction: .right,
                                             explanation: .wrong, correctedMask: painted))
        _ = try session.submit(FeedbackEvent(itemPath: ok[0], user: "ines", predictedLabel: .nok, prediction: .wrong))
        try session.retrain(options: quickRound())
        #expect(try session.pendingFeedback() == 0)

        #expect(try workspace.answersTrained(after: 1).count == 2)
        try session.rollback(to: 1)
        // The model is round 1's again; the answers are all standing, waiting for the next round.
        #expect(try workspace.rounds().map(\.status) == [.active, .rolledBack])
        let log = try workspace.feedbackLog()
        #expect(log.count == 2 && log.allSatisfy { !$0.reverted && $0.roundNumber == nil })
        #expect(try session.pendingFeedback() == 2)
        // What round 2 learnt is still known: the operator can select (and revert) it.
        #expect(log.allSatisfy { $0.trainedInto == [2] })
        #expect(try workspace.answers(matching: AnswerSelection(round: 2)).count == 2)
        #expect(try workspace.item(at: defects[0])?.label == .nok && workspace.item(at: ok[0])?.label == .ok)
        // The export carries the mask the inspector painted, not the data set's own.
        let out = directory.file("export")
        _ = try workspace.export(to: out, format: .folders)
        let exported = try BinaryFile.read(out + "/masks/" + ClassFolderDataset.baseName(defects[0].replacingOccurrences(of: "/", with: "_")) + ".png")
        #expect(exported == painted)
        // And the next round trains on them.
        let (round, _) = try session.retrain(options: quickRound())
        let trainedOn = try workspace.feedbackLog().map(\.roundNumber)
        #expect(round.number == 3 && trainedOn == [3, 3])
        #expect(try workspace.feedbackLog().allSatisfy { $0.trainedInto == [2, 3] })
        // Each round knows the round it replaced: round 3 replaced round 1, not the row above.
        #expect(try workspace.rounds().map(\.replacedNumber) == [nil, 1, 1])
    }

    @Test func revertingIsSelectiveShownFirstAndUndoesTheAnswersEffects() throws {
        let directory = TemporaryDirectory("revert")
        defer { directory.remove() }
        let workspace = try QuerySelectionTests.trainedWorkspace(directory)
        let session = try LoopSession(workspace: workspace, user: "ines")
        let (defects, ok) = try Self.poolItems(session)
        let painted = try Self.paintedMask(size: session.classifier.inputSize)
        // ines confirms a defect and paints it (refutations are made), otto labels an OK part.
        let inesAnswer = try session.submit(FeedbackEvent(itemPath: defects[0], user: "ines", predictedLabel: .nok, prediction: .right,
                                                          explanation: .wrong, correctedMask: painted))
        #expect(!inesAnswer.refutations.isEmpty)
        let otto = try LoopSession(workspace: workspace, user: "otto")
        _ = try otto.submit(FeedbackEvent(itemPath: ok[0], user: "otto", predictedLabel: .ok, prediction: .right))

        // Nothing is selected without a condition.
        #expect(try workspace.answers(matching: AnswerSelection()).isEmpty)
        #expect(try workspace.revert(AnswerSelection()).isEmpty)
        // What will be reverted is seen first, and is exactly what is reverted.
        let selection = AnswerSelection(user: "ines")
        let preview = try workspace.answers(matching: selection)
        #expect(preview.map(\.itemPath) == [defects[0]])
        #expect(try workspace.revert(selection) == preview)

        // ines's item is back in the pool, unlabelled, to be asked again; her refutations left
        // training; her answer stays in the log, marked reverted, and no longer exports a mask.
        let item = try #require(try workspace.item(at: defects[0]))
        #expect(item.split == .pool && item.label == nil)
        #expect(try workspace.labelledItems(in: .train).allSatisfy { !inesAnswer.refutations.contains($0.path) })
        #expect(try workspace.feedbackLog().map(\.reverted) == [true, false])
        let fresh = try LoopSession(workspace: workspace, user: "ines")
        #expect(fresh.pool.predictions.contains { $0.path == defects[0] })
        // otto's answer is untouched.
        #expect(try workspace.item(at: ok[0])?.label == .ok && workspace.item(at: ok[0])?.split == .train)
        #expect(try workspace.pendingFeedbackCount() == 1)
        // A wrong prediction's near hit and near miss were asked because of that answer:
        // reverting it withdraws the reviews too.
        _ = try otto.submit(FeedbackEvent(itemPath: ok[1], user: "otto", predictedLabel: .nok, prediction: .wrong))
        #expect(try otto.reviewQueue().contains { $0.of == ok[1] })
        try workspace.revert(AnswerSelection(user: "otto", since: Date().addingTimeInterval(-60)))
        #expect(try otto.reviewQueue().isEmpty)
        // By time: nothing before the first answer, everything after it.
        #expect(try workspace.answers(matching: AnswerSelection(until: Date(timeIntervalSince1970: 0))).isEmpty)
        #expect(try workspace.answers(matching: AnswerSelection(since: Date(timeIntervalSince1970: 0))).isEmpty)
        #expect(AnswerSelection(round: 3).description == "answers trained into round 3")
        #expect(AnswerSelection(user: "ines", round: 3).description == "ines's answers trained into round 3")
    }

    @Test func answersCarryTheirRoleAndSkipsAreNoInteractions() throws {
        let directory = TemporaryDirectory("roles")
        defer { directory.remove() }
        let workspace = try QuerySelectionTests.trainedWorkspace(directory)
        let session = try LoopSession(workspace: workspace, user: "sam")
        let (_, ok) = try Self.poolItems(session)
        // A wrong prediction queues its near hit and near miss; the supervisor answers one.
        let outcome = try session.submit(FeedbackEvent(itemPath: ok[0], user: "sam", predictedLabel: .nok, prediction: .wrong))
        let review = try #require(try session.reviewQueue().first)
        _ = try session.answerReview(review, try SimulatedExpert(name: "sam").answer(try session.view(of: review.path), in: workspace))
        _ = try session.submit(FeedbackEvent(itemPath: ok[1], user: "sam", role: .operator, prediction: .skip, explanation: .skip))
        #expect(outcome.queuedReviews.count == 2)
        #expect(try workspace.feedbackLog().map(\.role) == [.inspector, .supervisor, .operator])
        // The skip is stored but is no interaction: two answers wait for the next round.
        #expect(try workspace.feedbackLog().count == 3 && session.pendingFeedback() == 2)
    }
}
