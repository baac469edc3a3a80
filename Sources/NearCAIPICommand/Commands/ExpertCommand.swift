import Foundation
import NearCAIPI
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT / SIGTERM: the expert stops once the answer in hand is stored.
nonisolated(unsafe) private var expertStopRequested: Int32 = 0

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
    supervisor's open reviews too, or only those with --role supervisor (waiting for them
    when none is open). Prints "stored ID ITEM" for each answer once it is committed;
    whatever was printed survives a crash. Progress and the time each query took to lease
    and each answer to store go to standard error. SIGINT or SIGTERM stops it once the
    answer in hand is stored. When a workspace's server goes away, or its store stays busy,
    it waits (up to two minutes a time) and goes on; an answer whose commit was cut off is
    looked up, not sent twice.
    """

    static let user = Option<String>(name: "--user", placeholder: "NAME", help: "who answers", format: .personName,
                                     default: "simulated-expert")
    static let role = Option<String?>(name: "--role", placeholder: "ROLE", help: "which work to take",
                                      format: .oneOf(["inspector", "supervisor"]),
                                      defaultDescription: "both: the reviews waiting, then the next query")
    static let answers = Option<Int?>(name: "--answers", placeholder: "N", help: "how many queries (reviews, as supervisor) to answer",
                                      format: .wholeNumber(in: 1...100_000), defaultDescription: "until the pool is empty")
    static let retrainEvery = Option<Int?>(
        name: "--retrain-every", placeholder: "K",
        help: "train a round (fine-tuning, balanced class weights) after every K answers of this run",
        format: .wholeNumber(in: 1...100_000), defaultDescription: "never")
    static let epochs = Option<Int>(name: "--epochs", placeholder: "E", help: "epochs per round", format: .wholeNumber(in: 1...500),
                                    default: 3)
    static let leaseSeconds = Option<Int?>(name: "--lease-seconds", placeholder: "S", help: "how long a query stays reserved",
                                           format: .wholeNumber(in: 1...86_400), defaultDescription: "the workspace's")
    static let thinkSeconds = Option<Double>(
        name: "--think-seconds", placeholder: "S",
        help: "look at each part for a while before answering, as a person does: a time drawn evenly between S/2 and 3S/2",
        format: .number(.between(0, 600)), default: 0)
    static let parameters: [any Parameter] = [Positional.workspace, user, role, answers, retrainEvery, epochs, leaseSeconds,
                                              thinkSeconds]

    /// How long the expert waits for a workspace's server that went away before it gives up.
    static let serverPatience = 120.0

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let user = try arguments[Self.user]
        let role = try arguments[Self.role]
        let (asksQueries, answersReviews) = (role != "supervisor", role != "inspector")
        // Not given: answer until the pool has nothing left to ask.
        let answers = try arguments[Self.answers] ?? .max
        let retrainEvery = try arguments[Self.retrainEvery]
        let epochs = try arguments[Self.epochs]
        let leaseSeconds = try arguments[Self.leaseSeconds]
        let thinkSeconds = try arguments[Self.thinkSeconds]
        var thinking = SystemRandomNumberGenerator()
        /// The pause before an answer, as a person looking at the part.
        func think() {
            guard thinkSeconds > 0 else { return }
            usleep(UInt32(Double.random(in: 0.5 * thinkSeconds...1.5 * thinkSeconds, using: &thinking) * 1_000_000))
        }

        expertStopRequested = 0
        catchStopSignals { expertStopRequested = $0 }
        defer { releaseStopSignals() }
        do {
            let opening = monotonicSeconds()
            // A server that goes away while the station opens (it copies files, reads the pool)
            // is waited for like one that goes away later.
            let (workspace, session) = try waitingForTheStore { () throws -> (Workspace, LoopSession) in
                let workspace = try Workspace(opening: path)
                try workspace.refuseIfReadOnly()
                return (workspace, try LoopSession(workspace: workspace, user: user))
            }
            printError(String(format: "session open: %d pool items ready in %.2f s", session.pool.predictions.count,
                              monotonicSeconds() - opening))
            if let leaseSeconds { session.settings.leaseSeconds = Double(leaseSeconds) }
            let expert = SimulatedExpert(name: user)
            var answered = 0, sinceRound = 0
            while answered < answers && expertStopRequested == 0 {
                if answersReviews {
                    let reviewed = try answerReviews(session, expert: expert, limit: asksQueries ? .max : answers - answered,
                                                     think: think)
                    if !asksQueries {
                        answered += reviewed
                        // Nothing open: wait for the inspectors' next wrong prediction.
                        if reviewed == 0 { usleep(100_000) }
                        continue
                    }
                }
                let picking = monotonicSeconds()
                guard let query = try waitingForTheStore({ try session.nextQuery(seed: UInt64(answered + 1)) }) else {
                    printError("nearcaipi expert: the pool has nothing left to ask")
                    break
                }
                printError(String(format: "answering %@ (picked in %.1f ms)", query.path, (monotonicSeconds() - picking) * 1000))
                let view = try waitingForTheStore { try session.view(of: query.path) }
                let answer = try waitingForTheStore { try expert.answer(view, in: workspace) }
                think()
                let storing = monotonicSeconds()
                let stored: StoredAnswer
                do {
                    stored = try submitting(answer, in: session) {
                        try session.submit(answer, seed: UInt64(answered + 1), firstAnswerOnly: true)
                    }
                } catch let taken as PartAnsweredMeanwhile {
                    // Another station answered it first (its lease had expired): that answer stands.
                    printError("\(taken)")
                    try? session.release(query)
                    continue
                }
                printNow("stored \(stored.id) \(query.path)")
                printError(String(format: "stored in %.1f ms (%@)", (monotonicSeconds() - storing) * 1000, stored.detail))
                answered += 1
                sinceRound += 1
                if let retrainEvery, sinceRound >= retrainEvery, expertStopRequested == 0 {
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
            if expertStopRequested != 0 { printError("nearcaipi expert: stopped on request after \(answered) answers") }
        } catch {
            throw RuntimeFailure(error)
        }
    }

    /// Answers the open near hit / near miss reviews, at most `limit`, each timed; how many
    /// were stored. A review answered first by someone else is skipped: that answer stands.
    private static func answerReviews(_ session: LoopSession, expert: SimulatedExpert, limit: Int,
                                      think: () -> Void) throws -> Int {
        var stored = 0
        for review in try waitingForTheStore({ try session.reviewQueue() }) {
            guard stored < limit, expertStopRequested == 0 else { break }
            let view = try waitingForTheStore { try session.view(of: review.path) }
            let answer = try waitingForTheStore { try expert.answer(view, in: session.workspace) }
            think()
            let storing = monotonicSeconds()
            do {
                let outcome = try submitting(answer, in: session) { try session.answerReview(review, answer) }
                printNow("stored \(outcome.id) \(review.path) review")
                printError(String(format: "review stored in %.1f ms (%@)", (monotonicSeconds() - storing) * 1000, outcome.detail))
                stored += 1
            } catch is ReviewAlreadyAnswered, is PartAnsweredMeanwhile {
                printError("the review of '\(review.path)' was answered first by someone else; that answer stands")
            }
        }
        return stored
    }

    /// An answer in the store: its feedback id, and what came with it.
    struct StoredAnswer {
        var id: Int64
        var detail: String
    }

    /// Stores `answer` through `submit`, waiting for a server that went away. When the
    /// connection broke while the answer was sent, its commit may or may not have happened:
    /// the store is asked first, so the answer is neither lost nor sent twice.
    private static func submitting(_ answer: FeedbackEvent, in session: LoopSession,
                                   _ submit: () throws -> SubmitOutcome) throws -> StoredAnswer {
        var inDoubt = false
        return try waitingForTheStore {
            if inDoubt, let id = try session.workspace.latestAnswer(by: answer.user, on: answer.itemPath) {
                return StoredAnswer(id: id, detail: "its commit was cut off by the server going away; found stored")
            }
            inDoubt = true
            let outcome = try submit()
            return StoredAnswer(id: outcome.feedbackID, detail: String(format: "committed in %.1f ms; %d refutations, %d reviews queued",
                                                                        outcome.secondsToCommit * 1000, outcome.refutations.count,
                                                                        outcome.queuedReviews.count))
        }
    }

    /// Runs `body`; while the workspace's server is away, or its store busy past its own
    /// retries (many writers on one SQLite file), says so and tries again every second, for up
    /// to `serverPatience` seconds in a row.
    private static func waitingForTheStore<T>(_ body: () throws -> T) throws -> T {
        var since: Double?
        while true {
            do {
                let result = try body()
                if since != nil { printError("the store answers again") }
                return result
            } catch where Workspace.lostTheServer(error) || Workspace.storeWasBusy(error) {
                let now = monotonicSeconds()
                if since == nil {
                    since = now
                    let what = Workspace.lostTheServer(error) ? "the server went away" : "the store stayed busy"
                    printError("\(what) (\(error)): trying again every second")
                }
                if now - since! > serverPatience { throw error }
                usleep(1_000_000)
            }
        }
    }
}
