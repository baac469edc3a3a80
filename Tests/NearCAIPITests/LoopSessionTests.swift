import Foundation
import FileAccess
import Imaging
@testable import NearCAIPI
import NeuralNet
import Testing
import TestSupport

@Suite struct NeighbourSearchTests {
    func item(_ id: Int64, _ embedding: [Float], predicted: ClassLabel) -> PoolPrediction {
        PoolPrediction(itemID: id, path: "p\(id)", probabilities: predicted == .nok ? [0.2, 0.8] : [0.8, 0.2], embedding: embedding)
    }

    @Test func nearHitMissAndFarthestFollowCosineSimilarity() {
        let query = item(0, [1, 0, 0], predicted: .nok)
        let candidates = [
            item(1, [0.9, 0.1, 0], predicted: .nok),   // same class, very similar → near hit
            item(2, [0.5, 0.5, 0], predicted: .nok),   // same class, less similar
            item(3, [0.8, 0.3, 0], predicted: .ok),   // other class, most similar of them → near miss
            item(4, [0, 1, 0], predicted: .ok),       // other class, orthogonal
            item(5, [-1, 0.1, 0], predicted: .ok),    // pointing away → farthest
            query,                                   // the query itself is never its own neighbour
        ]
        let found = Neighbours.search(for: query, among: candidates) { $0.predictedLabel }
        #expect(found.nearHit?.path == "p1" && found.nearMiss?.path == "p3" && found.farthest?.path == "p5")
        #expect(abs(found.nearHit!.similarity - cosine([1, 0, 0], [0.9, 0.1, 0])) < 1e-6)
        // Scale does not matter to cosine similarity.
        let scaled = candidates.map { item($0.itemID, $0.embedding.map { $0 * 7 }, predicted: $0.predictedLabel) }
        #expect(Neighbours.search(for: query, among: scaled) { $0.predictedLabel } == found)
        // Known labels override predictions: p1 known OK makes p2 the near hit and p1 the near miss.
        let known = Neighbours.search(for: query, among: candidates) { $0.itemID == 1 ? .ok : $0.predictedLabel }
        #expect(known.nearHit?.path == "p2" && known.nearMiss?.path == "p1")
        // One class only: no near miss.
        let alone = Neighbours.search(for: query, among: [candidates[0], candidates[1]]) { $0.predictedLabel }
        #expect(alone.nearMiss == nil && alone.nearHit?.path == "p1" && alone.farthest?.path == "p2")
    }

    @Test func querySelectorsRankHandMadeProbabilities() {
        let items: [[Float]] = [[0.99, 0.01], [0.6, 0.4], [0.5, 0.5], [0.2, 0.8], [0.45, 0.55]]
        func order(_ strategy: QueryStrategy) -> [Int] {
            items.indices.sorted { strategy.informativeness(items[$0]) > strategy.informativeness(items[$1]) }
        }
        #expect(order(.leastConfidence) == [2, 4, 1, 3, 0])
        #expect(order(.margin) == [2, 4, 1, 3, 0])
        #expect(order(.entropy) == [2, 4, 1, 3, 0])
        // Three classes: margin and least confidence disagree where the runner-up is close.
        let a: [Float] = [0.5, 0.45, 0.05], b: [Float] = [0.4, 0.3, 0.3]
        #expect(QueryStrategy.leastConfidence.informativeness(b) > QueryStrategy.leastConfidence.informativeness(a))
        #expect(QueryStrategy.margin.informativeness(a) > QueryStrategy.margin.informativeness(b))
    }

    @Test func strategiesAreTheirSwitches() {
        #expect(LoopStrategy.allCases.map(\.rawValue) == ["random", "al", "near-al", "caipi", "near-caipi"])
        #expect(LoopStrategy.randomAdd.querySelection == .random && LoopStrategy.al.querySelection == .leastConfidence)
        #expect(LoopStrategy.allCases.filter(\.makesRefutations) == [.caipi, .nearCAIPI])
        #expect(LoopStrategy.allCases.filter(\.asksNeighbours) == [.nearAL, .nearCAIPI])
    }
}

@Suite(.serialized) struct LoopSessionTests {
    /// The first pool item whose truth is a NOK part with a mask, and one that is OK.
    static func poolItems(_ session: LoopSession) throws -> (defect: String, ok: String) {
        var defect: String?, ok: String?
        for prediction in session.pool.predictions {
            let truth = try SimulatedExpert.truth(of: prediction.path, in: session.workspace)
            if truth.label == .nok, truth.maskPath != nil, defect == nil { defect = prediction.path }
            if truth.label == .ok, ok == nil { ok = prediction.path }
        }
        return (try #require(defect), try #require(ok))
    }

    /// A smooth heatmap centred on `region`, as InvRISE draws one: 1 / (1 + distance to the
    /// nearest region pixel).
    static func heatmap(from region: BinaryMask) -> Image {
        var image = Image(width: region.width, height: region.height, channels: 1)
        let inside = region.bits.indices.filter { region.bits[$0] }
        for i in image.pixels.indices {
            let (y, x) = (i / region.width, i % region.width)
            var distance = Float.infinity
            for j in inside {
                let dy = Float(j / region.width - y), dx = Float(j % region.width - x)
                distance = min(distance, (dx * dx + dy * dy).squareRoot())
            }
            image.pixels[i] = 1 / (1 + distance)
        }
        return image
    }

    @Test func algorithmOneBranchesWithTheSimulatedExpert() throws {
        let directory = TemporaryDirectory("loop")
        defer { directory.remove() }
        let workspace = try QuerySelectionTests.trainedWorkspace(directory)
        var settings = LoopSettings(strategy: .nearCAIPI)
        settings.interactionsPerRound = 3
        let session = try LoopSession(workspace: workspace, user: "anna", settings: settings)
        let expert = SimulatedExpert(name: "anna")
        let (defect, ok) = try Self.poolItems(session)
        let size = session.classifier.inputSize
        let truthMask = BinaryMask(thresholding: try ImageFile.read(try workspace.dataRoot + "/" + SimulatedExpert.truth(of: defect, in: workspace).maskPath!).image)
            .resized(width: size, height: size)

        // 1. Right prediction, right explanation: the heatmap points at the true defect.
        let rightRight = try expert.answer(path: defect, predictedLabel: .nok, confidence: 0.9, heatmap: Self.heatmap(from: truthMask), in: workspace)
        #expect(rightRight.prediction == .right && rightRight.explanation == .right && rightRight.correctedMask == nil)
        // 2. Right prediction, wrong explanation: the heatmap points at the opposite corner.
        var elsewhere = BinaryMask(width: size, height: size)
        let far = truthMask.boundingBox!.center.x < Float(size) / 2 ? size - 6 : 0
        for y in 0..<6 { for x in far..<(far + 6) { elsewhere.bits[y * size + x] = true } }
        let rightWrong = try expert.answer(path: defect, predictedLabel: .nok, confidence: 0.9, heatmap: Self.heatmap(from: elsewhere), in: workspace)
        #expect(rightWrong.prediction == .right && rightWrong.explanation == .wrong && rightWrong.correctedMask != nil)
        let outcome = try session.submit(rightWrong, heatmap: Self.heatmap(from: elsewhere))
        // Accepted into training with its label; refutations from the painted (true) region.
        let accepted = try #require(try workspace.item(at: defect))
        #expect(accepted.split == .train && accepted.label == .nok)
        #expect(outcome.refutations.count == 4 && outcome.queuedReviews.isEmpty)
        for file in outcome.refutations {
            let mask = BinaryMask(thresholding: try ImageFile.read(workspace.path + "/" + file.replacingOccurrences(of: ".png", with: "_mask.png")).image)
            // Every refutation's region overlaps where the defect is (or was moved to).
            #expect(!mask.isEmpty)
        }
        #expect(try session.refutations(of: defect).map(\.path) == outcome.refutations)

        // 3. Wrong prediction: the OK item predicted NOK → corrected label, near hit and miss queued.
        let wrong = try expert.answer(path: ok, predictedLabel: .nok, confidence: 0.7, in: workspace)
        #expect(wrong.prediction == .wrong && wrong.correctedLabel == .ok && wrong.explanation == nil && wrong.correctedMask == nil)
        let queued = try session.submit(wrong)
        #expect(queued.refutations.isEmpty)  // an OK item without a region: label only
        #expect(queued.queuedReviews.count == 2 && queued.pending == 2 && !queued.retrainDue)
        let reviews = try session.reviewQueue()
        #expect(reviews.map(\.reason) == [.nearHit, .nearMiss] && reviews.allSatisfy { $0.of == ok })
        // The near hit is of the expert's class (OK), not of the wrong prediction's.
        let neighbours = try session.neighbours(of: ok)
        #expect(reviews[0].path == neighbours.nearHit?.path && reviews[1].path == neighbours.nearMiss?.path)
        // While they wait for the supervisor, no inspector is asked them as plain queries
        // (they were among the least confident parts, so they came first).
        let ida = try LoopSession(workspace: workspace, user: "ida", settings: settings)
        var offered: [Query] = []
        while let query = try ida.nextQuery(), !offered.contains(where: { $0.path == query.path }) { offered.append(query) }
        #expect(!offered.isEmpty && reviews.allSatisfy { review in !offered.contains { $0.path == review.path } }, "\(offered.map(\.path))")
        for query in offered { try ida.release(query) }
        // After a restart (a fresh session, whose pool no longer holds the answered query) the
        // supervisor still sees the same neighbours: the query is run through the model again.
        let restarted = try LoopSession(workspace: workspace, user: "sam")
        #expect(!restarted.pool.predictions.contains { $0.path == ok })
        let again = try restarted.neighbours(of: ok)
        #expect(again.nearHit?.path == neighbours.nearHit?.path && again.nearMiss?.path == neighbours.nearMiss?.path)
        #expect(again.farthest?.path == neighbours.farthest?.path)

        // The supervisor answers the near hit: feedback, training data, review closed at once.
        let supervisor = SimulatedExpert(name: "sam")
        let hit = try session.view(of: reviews[0].path)
        let answered = try session.answerReview(reviews[0], try supervisor.answer(hit, in: workspace))
        #expect(answered.pending == 3 && answered.retrainDue && answered.queuedReviews.isEmpty)
        #expect(try session.reviewQueue().map(\.id) == [reviews[1].id])
        #expect(try workspace.item(at: reviews[0].path)?.split == .train)
        #expect(throws: WorkspaceError.self) { try session.answerReview(reviews[1], try supervisor.answer(hit, in: workspace)) }
        // A second supervisor who had the same review open answers after the first: refused,
        // nothing recorded, no refutation made.
        let log = try workspace.feedbackLog()
        let training = try workspace.labelledItems(in: .train).map(\.path)
        let other = try LoopSession(workspace: workspace, user: "otto", settings: settings)
        #expect(throws: ReviewAlreadyAnswered.self) { try other.answerReview(reviews[0], try supervisor.answer(hit, in: workspace)) }
        #expect(try workspace.feedbackLog() == log)
        #expect(try workspace.labelledItems(in: .train).map(\.path) == training)

        // A retrain trains on all three answers, refreshes the pool and leaves nothing pending.
        var roundTraining = TrainingOptions()
        roundTraining.epochs = 1
        let (round, _) = try session.retrain(options: roundTraining)
        #expect(try round.number == 2 && session.pendingFeedback() == 0)
        #expect(!session.pool.predictions.contains { $0.path == defect || $0.path == ok })
        // The rounds as records: statuses from the schema's vocabulary, metrics decoded.
        let trained = try session.rounds()
        #expect(trained.map(\.status) == [.superseded, .active])
        #expect(trained.allSatisfy { $0.metrics != nil } && trained[1].metrics?.epochs == 1)
        try session.rollback(to: 1)
        // The model is round 1's again; the three answers stay and wait for the next round.
        #expect(try session.pendingFeedback() == 3 && !session.pool.predictions.isEmpty)
        #expect(try session.rounds().map(\.status) == [.active, .rolledBack])
    }

    /// One answer per part: whoever answers second — an inspector who had the part open on
    /// another station, a supervisor answering it as a near hit after an inspector answered it
    /// as a query — is refused and nothing is recorded. And a part kept for validation makes
    /// no refutations, even answered again: copies of a part the rounds are judged on would
    /// train on it.
    @Test func aPartIsAnsweredOnceAndValidationPartsMakeNoRefutations() throws {
        let directory = TemporaryDirectory("loop-once")
        defer { directory.remove() }
        let workspace = try QuerySelectionTests.trainedWorkspace(directory)
        try workspace.setAnswersForValidation(0.5)
        let settings = LoopSettings(strategy: .nearCAIPI)
        let anna = try LoopSession(workspace: workspace, user: "anna", settings: settings)
        let otto = try LoopSession(workspace: workspace, user: "otto", settings: settings)
        let expert = SimulatedExpert(name: "anna")
        var defects: [String] = [], goodOnes: [String] = []
        for prediction in anna.pool.predictions {
            let truth = try SimulatedExpert.truth(of: prediction.path, in: workspace)
            if truth.label == .nok, truth.maskPath != nil { defects.append(prediction.path) }
            if truth.label == .ok { goodOnes.append(prediction.path) }
        }
        #expect(defects.count >= 2 && goodOnes.count >= 1)

        // Two inspectors answer the same part: the second is refused, nothing recorded.
        let first = try anna.submit(try expert.answer(path: defects[0], predictedLabel: .nok, confidence: 0.7, in: workspace),
                                    firstAnswerOnly: true)
        let log = try workspace.feedbackLog()
        #expect(throws: PartAnsweredMeanwhile.self) {
            try otto.submit(try SimulatedExpert(name: "otto").answer(path: defects[0], predictedLabel: .nok, confidence: 0.7, in: workspace),
                            firstAnswerOnly: true)
        }
        #expect(try workspace.feedbackLog() == log)

        // With half the answers kept for validation, one of the two NOK parts validates and
        // the other trains and makes refutations from its mask.
        let second = try anna.submit(try expert.answer(path: defects[1], predictedLabel: .nok, confidence: 0.7, in: workspace),
                                     firstAnswerOnly: true)
        let answers = [(defects[0], first), (defects[1], second)]
        let held = try #require(answers.first { $0.1.heldForValidation }), trained = try #require(answers.first { !$0.1.heldForValidation })
        #expect(try workspace.item(at: held.0)?.split == .validation && held.1.refutations.isEmpty)
        #expect(try workspace.item(at: trained.0)?.split == .train && !trained.1.refutations.isEmpty)
        // Answered again where late answers are not refused (simulate's path): still no copies.
        let again = try anna.submit(try expert.answer(path: held.0, predictedLabel: .nok, confidence: 0.7, in: workspace))
        #expect(again.refutations.isEmpty)
        #expect(try workspace.item(at: held.0)?.split == .validation)
        #expect(try anna.refutations(of: held.0).isEmpty)

        // A wrong prediction queues its near hit; an inspector answers that part as a query
        // first; the supervisor's answer on the review is refused.
        let wrong = try anna.submit(try expert.answer(path: goodOnes[0], predictedLabel: .nok, confidence: 0.7, in: workspace),
                                    firstAnswerOnly: true)
        let review = try #require(try anna.reviewQueue().first)
        #expect(wrong.queuedReviews.contains(review.path))
        // While an inspector has the part open as a query, its review waits.
        let itemID = try #require(try workspace.item(at: review.path)).id
        try workspace.store.lease(itemID, to: "otto", until: Date().timeIntervalSince1970 + 600)
        #expect(try !anna.reviewQueue().contains { $0.id == review.id })
        let beforeReview = try workspace.feedbackLog()
        _ = try otto.submit(try SimulatedExpert(name: "otto").answer(try otto.view(of: review.path), in: workspace), firstAnswerOnly: true)
        #expect(try !anna.reviewQueue().contains { $0.id == review.id })
        // Answering the part closed its review (it stayed open, unseen, for ever).
        #expect(try workspace.store.reviews(openOnly: false).first { $0.id == review.id }?.isOpen == false)
        let supervisor = SimulatedExpert(name: "sam")
        #expect(throws: ReviewAlreadyAnswered.self) {
            try anna.answerReview(review, try supervisor.answer(try anna.view(of: review.path), in: workspace))
        }
        #expect(try workspace.feedbackLog().count == beforeReview.count + 1)
    }

    @Test func labelOnlyStrategiesMakeNoRefutationsAndAskNoNeighbours() throws {
        let directory = TemporaryDirectory("loop-al")
        defer { directory.remove() }
        let workspace = try QuerySelectionTests.trainedWorkspace(directory)
        let session = try LoopSession(workspace: workspace, user: "al", settings: LoopSettings(strategy: .al))
        let (defect, ok) = try Self.poolItems(session)
        let expert = SimulatedExpert(name: "al")
        var stored = try session.submit(try expert.answer(path: defect, predictedLabel: .ok, confidence: 0.6, in: workspace))
        #expect(stored.secondsToCommit > 0)
        stored.secondsToCommit = 0   // a time, not part of what the strategy decides
        #expect(stored == SubmitOutcome(feedbackID: 1, refutations: [], queuedReviews: [], pending: 1, retrainDue: false))
        _ = try session.submit(try expert.answer(path: ok, predictedLabel: .nok, confidence: 0.6, in: workspace))
        #expect(try session.reviewQueue().isEmpty)
        #expect(try workspace.labelledItems(in: .train).allSatisfy { $0.origin == .original })
    }

    @Test func settingsAreStoredAndBadStoredValuesNamed() throws {
        let directory = TemporaryDirectory("loop-settings")
        defer { directory.remove() }
        let workspace = try QuerySelectionTests.trainedWorkspace(directory)
        #expect(try LoopSettings.stored(in: workspace) == LoopSettings())
        var settings = LoopSettings(strategy: .nearAL)
        settings.interactionsPerRound = 27
        try settings.store(in: workspace)
        #expect(try LoopSettings.stored(in: workspace) == settings)
        try workspace.setSettings([(.interactionsPerRound, "many")])
        #expect(throws: WorkspaceError(workspace.path, "setting 'interactions_per_round' has an unusable value 'many' (a whole number from 1)")) {
            try LoopSettings.stored(in: workspace)
        }
    }
}
