import Foundation
import NearCAIPI

/// `nearcaipi expert`: the simulated expert answering a workspace's queries through the same
/// session as the screens — a second inspector for demonstrations, a load for several people
/// at once, and the subject of the crash tests.
enum ExpertCommand: Command {
    static let name = "expert"
    static let summary = "answer a workspace's queries as the simulated expert (truth from the data set), retraining on the way"
    static let discussion = """
    Takes the next query as an inspector would (leased to NAME), answers it from the data
    set's truth — the class from its folder, a painted mask from its mask file where the
    prediction says NOK or the class is NOK — and submits it through the session: feedback,
    refutations, near hits and near misses as the workspace's strategy says. Answers the
    supervisor's open reviews too. Prints "stored ID ITEM" for each answer once it is
    committed; whatever was printed survives a crash. Progress goes to standard error.
    """

    static let user = Option<String>(name: "--user", placeholder: "NAME", help: "who answers", format: .personName,
                                     default: "simulated-expert")
    static let answers = Option<Int?>(name: "--answers", placeholder: "N", help: "how many queries to answer",
                                      format: .wholeNumber(in: 1...100_000), defaultDescription: "until the pool is empty")
    static let retrainEvery = Option<Int?>(
        name: "--retrain-every", placeholder: "K",
        help: "train a round (fine-tuning, balanced class weights) after every K answers of this run",
        format: .wholeNumber(in: 1...100_000), defaultDescription: "never")
    static let epochs = Option<Int>(name: "--epochs", placeholder: "E", help: "epochs per round", format: .wholeNumber(in: 1...500),
                                    default: 3)
    static let leaseSeconds = Option<Int?>(name: "--lease-seconds", placeholder: "S", help: "how long a query stays reserved",
                                           format: .wholeNumber(in: 1...86_400), defaultDescription: "the workspace's")
    static let parameters: [any Parameter] = [Positional.workspace, user, answers, retrainEvery, epochs, leaseSeconds]

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let user = try arguments[Self.user]
        // Not given: answer until the pool has nothing left to ask.
        let answers = try arguments[Self.answers] ?? .max
        let retrainEvery = try arguments[Self.retrainEvery]
        let epochs = try arguments[Self.epochs]
        let leaseSeconds = try arguments[Self.leaseSeconds]

        do {
            let opening = monotonicSeconds()
            let workspace = try Workspace(opening: path)
            try workspace.refuseIfReadOnly()
            let session = try LoopSession(workspace: workspace, user: user)
            printError(String(format: "session open: %d pool items ready in %.2f s", session.pool.predictions.count,
                              monotonicSeconds() - opening))
            if let leaseSeconds { session.settings.leaseSeconds = Double(leaseSeconds) }
            let expert = SimulatedExpert(name: user)
            var answered = 0, sinceRound = 0
            while answered < answers {
                for (review, outcome) in try expert.answerOpenReviews(in: session) {
                    if let outcome {
                        printNow("stored \(outcome.feedbackID) \(review.path) review")
                    } else {
                        printError("the review of '\(review.path)' was answered first by someone else; that answer stands")
                    }
                }
                let picking = monotonicSeconds()
                guard let query = try session.nextQuery(seed: UInt64(answered + 1)) else {
                    printError("nearcaipi expert: the pool has nothing left to ask")
                    break
                }
                printError(String(format: "answering %@ (picked in %.1f ms)", query.path, (monotonicSeconds() - picking) * 1000))
                let view = try session.view(of: query.path)
                let answer = try expert.answer(view, in: workspace)
                let storing = monotonicSeconds()
                let outcome: SubmitOutcome
                do {
                    outcome = try session.submit(answer, seed: UInt64(answered + 1), firstAnswerOnly: true)
                } catch let taken as PartAnsweredMeanwhile {
                    // Another station answered it first (its lease had expired): that answer stands.
                    printError("\(taken)")
                    try? session.release(query)
                    continue
                }
                printNow("stored \(outcome.feedbackID) \(query.path)")
                printError(String(format: "stored in %.1f ms (%d refutations, %d reviews queued)", (monotonicSeconds() - storing) * 1000,
                                  outcome.refutations.count, outcome.queuedReviews.count))
                answered += 1
                sinceRound += 1
                if let retrainEvery, sinceRound >= retrainEvery {
                    let options = try session.roundTraining(epochs: epochs)
                    printError("retraining")
                    var shownEpoch = 0
                    let (round, metrics) = try session.retrain(options: options) { progress in
                        if progress.epoch != shownEpoch {
                            shownEpoch = progress.epoch
                            printError("retraining epoch \(progress.epoch)/\(epochs)")
                        }
                        return true
                    }
                    printError(String(format: "round %d trained (test MCC %.3f)", round.number, metrics.test.mcc))
                    sinceRound = 0
                }
            }
        } catch {
            throw RuntimeFailure(error)
        }
    }
}
