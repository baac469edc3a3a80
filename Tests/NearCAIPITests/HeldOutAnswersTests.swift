import Foundation
@testable import NearCAIPI
import NeuralNet
import Testing
import TestSupport

/// A validation split that grows with the work: every fifth answered part of each class
/// validates, never trains — no refutation is made from it and no round learns it.
@Suite(.serialized) struct HeldOutAnswersTests {
    @Test func everyFifthAnswerOfAClassValidatesAndNeverTrains() throws {
        let directory = TemporaryDirectory("held-out")
        defer { directory.remove() }
        let workspace = try QuerySelectionTests.trainedWorkspace(directory)
        #expect(try workspace.answersForValidation == 0.2)
        let session = try LoopSession(workspace: workspace, user: "ines")
        let (defects, ok) = try RollbackAndRevertTests.poolItems(session)
        try #require(defects.count >= 10 && ok.count >= 4)
        let validationBefore = try workspace.items(in: .validation).count
        let painted = try RollbackAndRevertTests.paintedMask(size: session.classifier.inputSize)
        var held: [String] = []
        // Ten defects, each confirmed with its defect painted (refutations from the trained ones).
        for (index, path) in defects.prefix(10).enumerated() {
            let outcome = try session.submit(FeedbackEvent(itemPath: path, user: "ines", predictedLabel: .nok, prediction: .right,
                                                           explanation: .wrong, correctedMask: painted))
            #expect(outcome.heldForValidation == ((index + 1) % 5 == 0), "answer \(index + 1)")
            if outcome.heldForValidation {
                held.append(path)
                #expect(outcome.refutations.isEmpty)
            } else {
                #expect(!outcome.refutations.isEmpty)
            }
        }
        // Four good parts: the count is per class, so none of them is held out yet.
        for path in ok.prefix(4) {
            #expect(try !session.submit(FeedbackEvent(itemPath: path, user: "ines", predictedLabel: .ok, prediction: .right)).heldForValidation)
        }
        #expect(held == [defects[4], defects[9]])
        #expect(try workspace.items(in: .validation).count == validationBefore + 2 && workspace.answersHeldForValidation() == 2)
        let training = Set(try workspace.labelledItems(in: .train).map(\.path))
        #expect(held.allSatisfy { !training.contains($0) })
        // No refutation made from a held-out part trains either.
        let heldIDs = Set(try held.map { try #require(try workspace.item(at: $0)).id })
        let trainItems = try workspace.items(in: .train)
        #expect(trainItems.contains { $0.origin == .refutation })
        #expect(trainItems.allSatisfy { $0.parentID.map { !heldIDs.contains($0) } ?? true })
        // The next round trains on the twelve others and is judged with the two.
        let (round, metrics) = try session.retrain(options: RollbackAndRevertTests().quickRound())
        #expect(metrics.validation.count == validationBefore + 2)
        #expect(round.trainingSize == training.count)
        // Reverting a held-out answer sends the part back to the pool, as any answer.
        let heldID = try #require(try workspace.feedbackLog().last { $0.itemPath == held[0] }?.id)
        try workspace.store.revert([heldID])
        #expect(try workspace.item(at: held[0])?.split == .pool)
        // Off (0): every answer trains, as in the paper.
        try workspace.setAnswersForValidation(0)
        for path in defects.dropFirst(10).prefix(5) {
            #expect(try !session.submit(FeedbackEvent(itemPath: path, user: "ines", predictedLabel: .nok, prediction: .right)).heldForValidation)
        }
    }
}
