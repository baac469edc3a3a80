import FileAccess
import Imaging
@testable import NearCAIPI
import Storage
import Testing
import TestSupport

@Suite(.serialized) struct InspectionSessionTests {
    @Test func submittingAnswersFeedsTrainingRefutationsAndTheSupervisor() throws {
        let directory = TemporaryDirectory("session")
        defer { directory.remove() }
        let workspace = try QuerySelectionTests.trainedWorkspace(directory)
        let pool = try PoolModel(workspace: workspace)
        let session = InspectionSession(workspace: workspace, pool: pool)
        session.interactionsPerRound = 2
        let truth = { (path: String) throws -> (label: Int, mask: String?) in
            let row = try workspace.database.query("SELECT truth_label, truth_mask_path FROM items WHERE path = ?", [.text(path)])[0]
            guard case .integer(let label) = row[0] else { return (0, nil) }
            if case .text(let mask) = row[1] { return (Int(label), mask) }
            return (Int(label), nil)
        }
        // The first query whose truth is a defect with a mask.
        var query = try #require(try pool.nextQuery(for: "anna"))
        while try truth(query.path).mask == nil {
            try pool.release(query, for: "anna")
            try workspace.recordFeedback(FeedbackEvent(itemPath: query.path, user: "test", prediction: .skip))
            query = try #require(try pool.nextQuery(for: "anna"))
        }
        let painted = try BinaryFile.read(try workspace.dataRoot + "/" + truth(query.path).mask!)
        let event = FeedbackEvent(itemPath: query.path, user: "anna", predictedLabel: query.predictedLabel,
                                  prediction: .wrong, explanation: .wrong, correctedLabel: 1, correctedMask: painted)
        let outcome = try session.submit(event, for: query)
        // Accepted: labelled NOK and moved from the pool into training.
        let row = try workspace.database.query("SELECT split, label FROM items WHERE path = ?", [.text(query.path)])[0]
        #expect(row == [.text("train"), .integer(1)])
        // Refutations from the painted region, stored and pointing at their parent.
        #expect(outcome.refutations.count == 4)
        #expect(outcome.refutations.allSatisfy { BinaryFile.exists(workspace.path + "/" + $0) })
        // A wrong prediction sends its near hit (and near miss, if the pool has the other class) to the supervisor.
        #expect(!outcome.queuedReviews.isEmpty)
        let reviews = try session.reviewQueue()
        #expect(reviews.count == outcome.queuedReviews.count && reviews.allSatisfy { $0.of == query.path })
        #expect(reviews.first?.reason == "near-hit")
        let skips = try workspace.database.query("SELECT count(*) FROM feedback WHERE prediction_verdict = 'skip'")
        guard case .integer(let skipped)? = skips.first?.first else { return }
        #expect(outcome.pending == Int(skipped) + 1)
        #expect(outcome.retrainDue == (outcome.pending >= 2))

        // A confirmed explanation: refutations from the heatmap's top 10 %.
        let second = try #require(try pool.nextQuery(for: "ben"))
        var heat = Image(width: 32, height: 32, channels: 1)
        for y in 4..<12 { for x in 4..<12 { heat[0, y, x] = 1 } }
        let confirmed = try session.submit(FeedbackEvent(itemPath: second.path, user: "ben", predictedLabel: second.predictedLabel,
                                                         prediction: .right, explanation: .right), for: second, heatmap: heat)
        #expect(confirmed.refutations.count == 4 && confirmed.queuedReviews.isEmpty && confirmed.retrainDue)
    }
}
