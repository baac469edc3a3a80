import Foundation
import Imaging
@testable import InspectorUI
@testable import NearCAIPI
import Testing

/// The screens' state machine, without a terminal or a workspace: keys in, state and effects
/// out, against facts the test fixes. Each test is a defect a new user met.
@Suite struct ScreenStateTests {
    struct Facts: ScreenFacts {
        var isTraining = false
        var roundList: [Round] = []
        var reviews = 0
        var users: [String] = []
        var answers = 0
        var waiting = 0
        var refutationList: [(path: String, transform: String)] = []
        var top: BinaryMask?
        var peak: (x: Double, y: Double)?
        var isPretraining = false
        var pretraining: PretrainingSummary?
        var pretrainingImages = 160
        func pretrainingImageCount() throws -> Int { pretrainingImages }
        func rounds() throws -> [Round] { roundList }
        func reviewCount() throws -> Int { reviews }
        func usersWithAnswers() throws -> [String] { users }
        func answerCount(matching selection: AnswerSelection) throws -> Int { answers }
        func answersWaiting(afterRollbackTo number: Int) throws -> Int { waiting }
        func refutations(of path: String) throws -> [(path: String, transform: String)] { refutationList }
        func heatmapTopRegion(of path: String, width: Int, height: Int) -> BinaryMask? { top }
        func heatmapPeak(of path: String) -> (x: Double, y: Double)? { peak }
        var status = HeatmapStatus.finished
        func heatmapStatus(of path: String) -> HeatmapStatus { status }
        var ownMap = false
        func hasOwnMap(of path: String) -> Bool { ownMap }
    }

    /// An item the model predicts `label` with 0.8.
    static func view(_ path: String = "data/nok/weld_0012.png", predicted label: ClassLabel = .nok) -> ItemView {
        ItemView(path: path, image: Image(width: 64, height: 64, channels: 1, filledWith: 0.5),
                 probabilities: label == .ok ? [0.8, 0.2] : [0.2, 0.8], embedding: [], knownLabel: nil)
    }

    static func showing(_ view: ItemView = view(), role: Role = .inspector) -> ScreenState {
        var state = ScreenState(user: "tess", role: role)
        state.showQuery(.init(view: view, query: Query(itemID: 1, path: view.path, predictedLabel: view.predictedLabel,
                                                       confidence: view.confidence, expires: 0), review: nil))
        return state
    }

    static func round(_ number: Int, _ status: RoundStatus) -> Round {
        Round(number: number, checkpoint: "rounds/\(number).ckpt", status: status, trainingSize: 20, metrics: nil)
    }

    @discardableResult
    static func press(_ state: inout ScreenState, _ keys: CursesScreen.Input..., facts: Facts = Facts(),
                      isTooSmall: Bool = false) throws -> [ScreenEffect] {
        var effects: [ScreenEffect] = []
        for key in keys { effects += try state.handle(key, facts: facts, isTooSmall: isTooSmall) }
        return effects
    }

    static func stored(_ effects: [ScreenEffect]) -> Submission? {
        for case .store(let submission) in effects { return submission }
        return nil
    }

    static func quits(_ effects: [ScreenEffect]) -> Bool { effects.contains { if case .quit = $0 { true } else { false } } }

    @Test func belowTheMinimumSizeOnlyQActs() throws {
        var state = Self.showing()
        let effects = try Self.press(&state, .character("y"), .enter, .character("s"), .tab, isTooSmall: true)
        #expect(effects.isEmpty && state.answer.prediction == nil)
        #expect(Self.quits(try Self.press(&state, .character("q"), isTooSmall: true)))
    }

    /// A mask painted before the prediction's verdict: the message said "Enter to submit",
    /// and Enter then refused. It asks for the verdict, in the terms of the painted defect.
    @Test func aMaskPaintedFirstAsksForThePrediction() throws {
        var state = Self.showing(Self.view(predicted: .ok))
        try Self.press(&state, .character("b"), .character(" "), .character("l"), .enter)
        #expect(state.answer.mask != nil && state.answer.prediction == nil)
        #expect(state.message.contains("Now the prediction: n: predicted OK, but a defect makes it NOK") && !state.message.contains("Enter to submit"),
                "\(state.message)")
        var called = Self.showing()
        try Self.press(&called, .character("b"), .character(" "), .character("l"), .enter)
        #expect(called.message.contains("y if the part is NOK, as predicted"), "\(called.message)")
    }

    /// `g` on a flat map of a part called NOK confirmed nothing a refutation could be cut
    /// from, and said only "Explanation right": it now says the map is flat and what to do.
    @Test func confirmingAFlatMapOfADefectSaysItIsFlat() throws {
        var facts = Facts()
        facts.status = .flat
        var state = Self.showing()
        try Self.press(&state, .character("g"), facts: facts)
        #expect(state.answer.explanation == .right && state.message.contains("The map is flat") && state.message.contains("b paints the defect"))
        // On a part called OK a flat map is what a good part shows: nothing added.
        var good = Self.showing(Self.view(predicted: .ok))
        try Self.press(&good, .character("g"), facts: facts)
        #expect(!good.message.contains("flat"), "\(good.message)")
        // A map with a region: as before.
        var shown = Self.showing()
        try Self.press(&shown, .character("g"))
        #expect(!shown.message.contains("flat"))
    }

    /// `m` swaps the explanation for the network's own defect map — only where the round has
    /// one, and says how to get one where it has not; the answer is untouched either way.
    @Test func theOwnMapIsShownOnlyWhereThereIsOne() throws {
        var state = Self.showing()
        try Self.press(&state, .character("y"), .character("m"))
        #expect(!state.showOwnMap && state.message.contains("No defect map of the network's own") && state.message.contains("--mask-loss on"))
        var facts = Facts()
        facts.ownMap = true
        try Self.press(&state, .character("m"), facts: facts)
        #expect(state.showOwnMap && state.message.contains("InvRISE is what you judge and correct"))
        try Self.press(&state, .character("m"), facts: facts)
        #expect(!state.showOwnMap && state.message == "The explanation (InvRISE) again.")
        #expect(state.answer.prediction == .right)
    }

    @Test func anAnswerCarriesThePersonAndTheScreensRole() throws {
        var state = Self.showing(role: .operator)
        let submission = try #require(Self.stored(try Self.press(&state, .character("n"), .character("g"), .enter)))
        #expect(submission.event.user == "tess" && submission.event.role == .inspector)
        #expect(submission.event.prediction == .wrong && submission.event.establishedLabel == .ok)
    }

    @Test func skipsAreCountedApartFromAnswers() throws {
        var state = Self.showing()
        let outcome = SubmitOutcome(feedbackID: 1, refutations: [], queuedReviews: [], pending: 1, retrainDue: false)
        for keys in [[CursesScreen.Input.character("y"), .enter], [.character("s")], [.character("y"), .enter]] {
            var effects: [ScreenEffect] = []
            for key in keys { effects += try state.handle(key, facts: Facts()) }
            let submission = try #require(Self.stored(effects))
            let next = state.stored(submission, outcome: outcome, interactionsPerRound: 10)
            #expect(next.count == 1 && { if case .openNextQuery = next[0] { true } else { false } }())
            state = { var s = Self.showing(); s.counts = state.counts; return s }()
        }
        #expect(state.counts == .init(queriesAnswered: 2, reviewsAnswered: 0, queriesSkipped: 1))
        #expect(state.counts.summary == "this session: 2 answered, 1 skipped")
    }

    @Test func quittingAsksWhenWorkWouldBeLost() throws {
        var state = Self.showing()
        // Nothing begun, nothing training: q quits.
        #expect(Self.quits(try Self.press(&state, .character("q"))))
        // Training: asked; any key but y stays.
        #expect(try Self.press(&state, .character("q"), facts: Facts(isTraining: true)).isEmpty)
        #expect(state.confirmation == .quitWhileTraining && state.message.contains("no round recorded"))
        #expect(try Self.press(&state, .character("n")).isEmpty && state.confirmation == nil)
        // An answer begun: asked, naming the item by file name only.
        try Self.press(&state, .character("y"))
        #expect(try Self.press(&state, .character("q")).isEmpty && state.confirmation == .quitWithUnsubmittedAnswer)
        #expect(state.message.contains("weld_0012.png") && !state.message.contains("nok/"))
        #expect(Self.quits(try Self.press(&state, .character("y"))))
    }

    @Test func retrainingFromScratchIsConfirmed() throws {
        var state = Self.showing(role: .operator)
        try Self.press(&state, .tab, .tab)
        #expect(state.current == .operator)
        #expect(try Self.press(&state, .character("T")).isEmpty && state.confirmation == .retrainFromScratch)
        let effects = try Self.press(&state, .character("y"))
        #expect(effects.count == 1 && { if case .startRetraining(fromScratch: true) = effects[0] { true } else { false } }())
    }

    @Test func pretrainingIsConfirmedResumedAndStoppedKeepingItsEpochs() throws {
        var state = Self.showing(role: .operator)
        try Self.press(&state, .tab, .tab)
        func pretrains(_ effects: [ScreenEffect], restart: Bool) -> Bool {
            effects.count == 1 && { if case .startPretraining(restart) = effects[0] { true } else { false } }()
        }
        // Never pretrained: asked, naming how many images it learns from.
        #expect(try Self.press(&state, .character("B")).isEmpty && state.confirmation == .pretrain(restart: false))
        #expect(state.message.contains("160 images outside the test split, labels unread"))
        #expect(pretrains(try Self.press(&state, .character("y")), restart: false))
        // Stopped half-way: B resumes where it stopped, and says at which epoch.
        let half = PretrainingSummary(images: 160, epochsDone: 12, epochs: 60, losses: [], seconds: 50, resumedAfter: 0)
        #expect(try Self.press(&state, .character("B"), facts: Facts(pretraining: half)).isEmpty)
        #expect(state.message.contains("epoch 13 of 60"))
        #expect(pretrains(try Self.press(&state, .character("y")), restart: false))
        // Finished: B offers to start again from random weights; n changes nothing.
        var done = half
        done.epochsDone = 60
        try Self.press(&state, .character("B"), facts: Facts(pretraining: done))
        #expect(state.confirmation == .pretrain(restart: true) && state.message.contains("again from random weights"))
        #expect(try Self.press(&state, .character("n")).isEmpty && state.message.contains("nothing changed"))
        // T then says it starts from round 0.
        try Self.press(&state, .character("T"), facts: Facts(pretraining: done))
        #expect(state.message.contains("from the pretrained round 0"))
        try Self.press(&state, .character("n"))
        // While it runs: rounds wait, c stops it keeping the epochs, q asks first.
        let running = Facts(isTraining: true, isPretraining: true, pretraining: half)
        #expect(try Self.press(&state, .character("r"), facts: running).isEmpty && state.message.contains("Pretraining round 0 runs"))
        #expect(try Self.press(&state, .character("B"), facts: running).isEmpty && state.confirmation == nil)
        let stop = try Self.press(&state, .character("c"), facts: running)
        #expect(stop.count == 1 && { if case .cancelTraining = stop[0] { true } else { false } }())
        #expect(state.message.contains("epochs done are kept"))
        #expect(try Self.press(&state, .character("q"), facts: running).isEmpty && state.confirmation == .quitWhileTraining)
        #expect(state.message.contains("resumes"))
        // The operator's line for round 0: running is not "stopped", though the saved state
        // is half-way.
        #expect(OperatorScreen.roundZero(half, running: true).contains("in the background"))
        #expect(OperatorScreen.roundZero(half).contains("stopped after epoch 12 of 60 (B resumes)"))
        #expect(OperatorScreen.roundZero(nil).contains("none"))
        // Finished by the defect pretext: how the pool ranks by its anomaly score.
        let finished = PretrainingSummary(images: 160, epochsDone: 60, epochs: 60, losses: [0.3], seconds: 50, resumedAfter: 0)
        #expect(!OperatorScreen.roundZero(finished).contains("anomaly"))
        let ranking = OperatorScreen.anomalyRanking((31, 103))
        #expect(ranking.contains("31 of 103 pool parts stand out") && ranking.contains("--query anomaly"))
        // It fits the 150-column screen it was cut off on, margin included.
        #expect(ranking.count + 2 <= 150)
    }

    @Test func tabOnlyReachesTheRolesScreens() throws {
        var state = Self.showing(role: .inspector)
        try Self.press(&state, .tab)
        #expect(state.current == .inspector)
        var supervisor = Self.showing(role: .supervisor)
        let effects = try Self.press(&supervisor, .tab)
        #expect(supervisor.current == .supervisor && { if case .openReview = effects.first { true } else { false } }())
    }

    /// The mask editor says what a key did: the pen, the first rectangle corner, a start from
    /// the heatmap, or why not.
    @Test func theMaskEditorSaysWhatEachKeyDid() throws {
        var state = Self.showing()
        try Self.press(&state, .character("y"), .character("b"))
        #expect(state.editor != nil)
        try Self.press(&state, .character(" "))
        #expect(state.message.contains("Pen down"))
        try Self.press(&state, .character(" "), .character("r"))
        #expect(state.message.contains("Corner set"))
        try Self.press(&state, .character("t"), facts: Facts(status: .computing(masksDone: 300)))
        #expect(state.message == "No top 10 % to start from: the heatmap is still computing (300 masks so far).")
        try Self.press(&state, .character("t"), facts: Facts(status: .flat))
        #expect(state.message == "No top 10 % to start from: the heatmap is flat: no region decides the prediction.")
        var top = BinaryMask(width: 64, height: 64)
        top[3, 4] = true
        try Self.press(&state, .character("t"), facts: Facts(top: top))
        #expect(state.editor?.mask == top && state.message.contains("top 10 %"))
        try Self.press(&state, .character("q"))
        #expect(state.editor != nil && state.message.contains("Esc"))
        #expect(InspectorScreen.editorStatus(state.editor!).contains("pen up"))
    }

    /// A defect painted on a part the answer calls OK is flagged when the editor closes, and
    /// the answer is not stored until it is resolved.
    @Test func aDefectPaintedOnAnOKAnswerIsFlaggedAtOnce() throws {
        var state = Self.showing(Self.view(predicted: .ok))
        try Self.press(&state, .character("y"), .character("b"), .character(" "), .right, .enter)
        #expect(state.answer.mask?.isEmpty == false)
        #expect(state.message.contains("yet a defect is painted"), "\(state.message)")
        #expect(Self.stored(try Self.press(&state, .enter)) == nil)
        // n makes it NOK: now it is stored with the mask.
        let submission = try #require(Self.stored(try Self.press(&state, .character("n"), .enter)))
        #expect(submission.mask?.isEmpty == false && submission.event.establishedLabel == .nok)
    }

    @Test func theSupervisorsAnswerIsTheSupervisorsAndTheNextReviewOpens() throws {
        let view = Self.view("data/pool/weld_0040.png")
        var state = ScreenState(user: "sam", role: .supervisor)
        state.current = .supervisor
        let review = Review(id: 3, path: view.path, reason: .nearHit, of: "data/pool/weld_0007.png", isOpen: true)
        state.showReview(.init(view: view, query: nil, review: review), index: 0)
        #expect(state.message.contains("Near hit weld_0040.png") && state.message.contains("right (y) or wrong (n)?"))
        let submission = try #require(Self.stored(try Self.press(&state, .character("y"), .enter)))
        #expect(submission.review == review && submission.event.role == .supervisor && submission.event.user == "sam")
        let next = state.stored(submission, outcome: SubmitOutcome(feedbackID: 9, refutations: [], queuedReviews: [], pending: 2,
                                                                    retrainDue: false), interactionsPerRound: 10)
        #expect({ if case .openReview = next.first { true } else { false } }())
        #expect(state.counts.reviewsAnswered == 1 && state.counts.queriesAnswered == 0)
    }

    @Test func refutationsAreBrowsedAndLeftWithF() throws {
        let view = Self.view("data/pool/weld_0040.png")
        var state = ScreenState(user: "sam", role: .supervisor)
        state.current = .supervisor
        state.showReview(.init(view: view, query: nil, review: Review(id: 3, path: view.path, reason: .nearMiss, of: "q.png", isOpen: true)),
                         index: 0)
        try Self.press(&state, .character("f"))
        #expect(state.refutationBrowser == nil && state.message.contains("No refutations were made from q.png"))
        let facts = Facts(refutationList: [("r1.png", "zoom"), ("r2.png", "flip")])
        try Self.press(&state, .character("f"), .down, facts: facts)
        #expect(state.refutationBrowser?.index == 1 && ScreenFrame.hints(for: state).contains("f back"))
        try Self.press(&state, .character("f"))
        #expect(state.refutationBrowser == nil)
    }

    /// The operator's keys explain themselves on rounds they do not apply to.
    @Test func roundKeysSayWhyTheyDoNotApply() throws {
        var state = Self.showing(role: .operator)
        state.current = .operator
        let facts = Facts(roundList: [Self.round(1, .superseded), Self.round(2, .active), Self.round(3, .candidate)], answers: 2, waiting: 4)
        state.selectedRound = 2
        try Self.press(&state, .down, facts: facts)
        #expect(state.selectedRound == 2 && state.message == "Round 3 is the newest.")
        try Self.press(&state, .character("v"), facts: facts)
        #expect(state.confirmation == nil && state.message.contains("never went live"))
        try Self.press(&state, .character("R"), facts: facts)
        #expect(state.confirmation == nil && state.message.contains("P promotes"))
        state.selectedRound = 1
        try Self.press(&state, .character("R"), facts: facts)
        #expect(state.message.contains("in use: nothing to roll back"))
        try Self.press(&state, .character("P"), facts: facts)
        #expect(state.confirmation == nil && state.message.contains("Select a candidate"))
        state.selectedRound = 0
        try Self.press(&state, .character("R"), facts: facts)
        #expect(state.confirmation == .rollback(to: 1, waiting: 4))
        #expect(try Self.press(&state, .character("y"), facts: facts).count == 1)
        try Self.press(&state, .character("v"), facts: facts)
        #expect(state.confirmation == .revert(AnswerSelection(round: 1), count: 2))
        try Self.press(&state, .character("c"), facts: facts)
        #expect(state.confirmation == nil && state.message.contains("Cancelled"))
        // A round with no standing answer: v says where the answers not trained yet are reverted.
        try Self.press(&state, .character("v"), facts: Facts(roundList: facts.roundList))
        #expect(state.confirmation == nil && state.message.contains("Nothing to revert") && state.message.contains("nearcaipi revert WS --user NAME"))
        #expect(TextLines.wrapped(state.message, columns: 78, lines: 99).count <= Layout.messageLines, "\(state.message)")
        try Self.press(&state, .character("c"), facts: facts)
        #expect(state.message == "No round is training.")
        // A round in training is stopped only after y: its minutes of training would be lost.
        let training = Facts(isTraining: true)
        #expect(try Self.press(&state, .character("c"), facts: training).isEmpty && state.confirmation == .cancelRoundInTraining)
        #expect(state.message.contains("training so far is lost") && state.message.contains("answers stay pending"))
        #expect(try Self.press(&state, .character("n"), facts: training).isEmpty && state.message.contains("goes on training"))
        try Self.press(&state, .character("c"), facts: training)
        let cancel = try Self.press(&state, .character("y"), facts: training)
        #expect(cancel.count == 1 && { if case .cancelTraining = cancel[0] { true } else { false } }())
        // A round that ended while the question was open is not cancelled afterwards.
        try Self.press(&state, .character("c"), facts: training)
        #expect(try Self.press(&state, .character("y"), facts: facts).isEmpty && state.message.contains("ended meanwhile"))
    }

    /// A long message wraps at spaces onto the two message lines; only what does not fit in
    /// both is cut, visibly.
    @Test func longMessagesWrapAtSpaces() {
        let message = "saved weld_0012.png (#12) · this session: 3 answered · Next: Near hit weld_0040.png (most like the query, same class): NOK 0.83 — right (y) or wrong (n)?"
        let lines = TextLines.wrapped(message, columns: 100, lines: 2)
        #expect(lines.count == 2 && lines.allSatisfy { $0.count <= 100 })
        #expect(lines.joined(separator: " ") == message)
        let cut = TextLines.wrapped(message, columns: 60, lines: 2)
        #expect(cut.count == 2 && cut[1].hasSuffix("…") && cut.allSatisfy { $0.count <= 60 })
        #expect(TextLines.wrapped("short", columns: 60, lines: 2) == ["short"])
    }

    // MARK: Nothing begun is lost (a new user's pass at 80×24 and 160×48)

    /// Paints a small defect: b, pen down, two steps right, pen up, Enter.
    static func paint(_ state: inout ScreenState, facts: Facts = Facts()) throws {
        try press(&state, .character("b"), .character(" "), .character("l"), .character("l"), .character(" "), .enter, facts: facts)
    }

    /// g after painting dropped the mask for good; it is set aside and b brings it back.
    @Test func gSetsAPaintedMaskAsideAndBBringsItBack() throws {
        var state = Self.showing()
        try Self.press(&state, .character("y"))
        try Self.paint(&state)
        let painted = try #require(state.answer.mask)
        try Self.press(&state, .character("g"))
        #expect(state.answer.mask == nil && state.message.contains("set aside (b brings it back)"))
        try Self.press(&state, .character("b"))
        #expect(state.editor?.mask == painted)
        // Esc now goes back to "explanation right" with the mask still set aside — it was
        // lost here once (g, b, Esc, b showed an empty mask).
        try Self.press(&state, .escape)
        #expect(state.answer.explanation == .right && state.setAsideMask == painted)
        #expect(state.message.contains("stays set aside (b brings it back)"), "\(state.message)")
        try Self.press(&state, .character("b"))
        #expect(state.editor?.mask == painted)
    }

    /// Keys with nothing to act on say why: no review waiting, no candidate round.
    @Test func keysWithNothingToActOnSayWhy() throws {
        var supervisor = ScreenState(user: "sue", role: .supervisor)
        supervisor.current = .supervisor
        #expect(try Self.press(&supervisor, .right).isEmpty && supervisor.message.hasPrefix("No reviews wait"))
        try Self.press(&supervisor, .character("f"))
        #expect(supervisor.message.hasPrefix("No reviews wait"))
        var operating = Self.showing(role: .operator)
        operating.current = .operator
        try Self.press(&operating, .character("P"), facts: Facts(roundList: [Self.round(1, .active)]))
        #expect(operating.message.hasPrefix("No round is a candidate"))
        // The key line of a part too small to judge starts with the key that still works.
        var small = Self.showing()
        small.answerPicture = 14
        #expect(ScreenFrame.hints(for: small).hasPrefix(" s skip · too small to judge (14 of 24 needed)"))
        // Whole at 80 columns: the reason is on the screen before a key is pressed.
        #expect(ScreenFrame.fitted(ScreenFrame.hints(for: small), columns: 80).contains("enlarge the terminal"))
    }

    /// s threw away a begun answer and its mask without asking; it asks, as q does.
    @Test func skippingABegunAnswerAsksFirst() throws {
        var state = Self.showing()
        try Self.press(&state, .character("y"))
        try Self.paint(&state)
        #expect(try Self.press(&state, .character("s")).isEmpty && state.confirmation == .skipDroppingAnswer)
        #expect(state.message.contains("drop the answer begun on it and its painted mask"))
        #expect(try Self.press(&state, .character("n")).isEmpty && state.answer.mask != nil && state.message == "Not skipped: your answer stays.")
        try Self.press(&state, .character("s"))
        let skip = try #require(Self.stored(try Self.press(&state, .character("y"))))
        #expect(skip.isSkip)
        // Nothing begun: s skips at once.
        var fresh = Self.showing()
        #expect(Self.stored(try Self.press(&fresh, .character("s")))?.isSkip == true)
    }

    /// Tab to another screen and back dropped the answer; it waits, and the query is not
    /// released meanwhile.
    @Test func anAnswerBegunBeforeTabWaitsForTheReturn() throws {
        var state = Self.showing(role: .operator)
        try Self.press(&state, .character("n"))
        try Self.paint(&state)
        let answer = state.answer
        let away = try Self.press(&state, .tab)
        #expect(state.current == .supervisor && away.count == 1 && { if case .openReview = away[0] { true } else { false } }())
        #expect(state.parked[.inspector] != nil)
        state.showReview(nil, index: 0)
        let back = try Self.press(&state, .tab, .tab)
        #expect(state.current == .inspector && back.contains { if case .resumeQuery = $0 { true } else { false } })
        #expect(state.answer == answer && state.shown?.view.path == Self.view().path)
        #expect(state.message.hasPrefix("Back to your answer on weld_0012.png"))
        // A mask g set aside comes back with its answer: b after the return brings it back.
        var aside = Self.showing(role: .operator)
        try Self.press(&aside, .character("y"))
        try Self.paint(&aside)
        let painted = try #require(aside.answer.mask)
        try Self.press(&aside, .character("g"))
        #expect(aside.answer.mask == nil && aside.setAsideMask == painted)
        try Self.press(&aside, .tab)
        aside.showReview(nil, index: 0)
        try Self.press(&aside, .tab, .tab)
        #expect(aside.current == .inspector && aside.setAsideMask == painted)
        try Self.press(&aside, .character("b"), .enter)
        #expect(aside.answer.mask == painted && aside.answer.explanation == .wrong)
        // While parked, quitting asks too.
        var leaving = Self.showing(role: .operator)
        try Self.press(&leaving, .character("y"), .tab)
        leaving.showReview(nil, index: 0)
        #expect(try Self.press(&leaving, .character("q")).isEmpty && leaving.confirmation == .quitWithUnsubmittedAnswer)
    }

    /// Esc in an editor opened on a painted mask left "explanation ?" with the mask, and that
    /// was stored; it now goes back to the answer as it was before b.
    @Test func escapeInTheEditorGoesBackToTheAnswerBeforeIt() throws {
        var state = Self.showing()
        try Self.press(&state, .character("y"))
        try Self.paint(&state)
        let before = state.answer
        try Self.press(&state, .character("b"), .character("c"), .escape)
        // The paint changed (cleared): Esc asks before dropping that; n paints on, y drops it.
        #expect(state.confirmation == .cancelEditorDroppingPaint && state.message.contains("the mask goes back to"))
        try Self.press(&state, .character("n"))
        #expect(state.editor != nil && state.message.hasPrefix("Painting goes on"))
        try Self.press(&state, .escape, .character("y"))
        #expect(state.answer == before && state.message.contains("the mask painted before stays"))
        let submission = try #require(Self.stored(try Self.press(&state, .enter)))
        #expect(submission.event.explanation == .wrong && submission.mask != nil)
        // A first opening cancelled: no explanation, no mask.
        var first = Self.showing()
        try Self.press(&first, .character("y"), .character("b"), .character(" "), .character("l"), .escape, .character("y"))
        #expect(first.answer.explanation == nil && first.answer.mask == nil)
        // Nothing painted since b: Esc closes at once.
        var untouched = Self.showing()
        try Self.press(&untouched, .character("y"), .character("b"), .escape)
        #expect(untouched.editor == nil && untouched.confirmation == nil)
    }

    /// "n if it is NOK" was said when the model predicted NOK, where n makes the part OK.
    @Test func theKeyThatMakesThePartNOKIsNamedRight() throws {
        var state = Self.showing(Self.view(predicted: .nok))
        try Self.press(&state, .character("n"))
        try Self.paint(&state)
        #expect(state.message.contains("y if it is NOK"), "\(state.message)")
        var other = Self.showing(Self.view(predicted: .ok))
        try Self.press(&other, .character("y"))
        try Self.paint(&other)
        #expect(other.message.contains("n if it is NOK"), "\(other.message)")
    }

    /// "Enter: submit" was said after g with no verdict on the prediction, and Enter then refused.
    @Test func theMessageAsksForWhatIsMissing() throws {
        var state = Self.showing()
        try Self.press(&state, .character("g"))
        #expect(state.message.contains("Now y / n") && !state.message.contains("Enter: submit"))
        try Self.press(&state, .character("g"), facts: Facts(status: .computing(masksDone: 384)))
        #expect(state.message.contains("still computing, 384 masks"))
    }

    /// Below the legible size a part takes no verdict, but may be skipped; a question asked
    /// before the terminal shrank is answered there; the feedback log takes no verdict.
    @Test func smallPicturesStillSkipAndQuestionsStillAnswer() throws {
        var state = Self.showing()
        state.answerPicture = 12
        try Self.press(&state, .character("y"))
        #expect(state.answer.prediction == nil && state.message.contains("s skips"))
        #expect(Self.stored(try Self.press(&state, .character("s")))?.isSkip == true)
        var asking = Self.showing()
        try Self.press(&asking, .character("y"), .character("q"))
        #expect(Self.quits(try Self.press(&asking, .character("y"), isTooSmall: true)))
        var supervisor = Self.showing(role: .supervisor)
        supervisor.current = .supervisor
        try Self.press(&supervisor, .character("L"), .character("y"))
        #expect(supervisor.answer.prediction == nil && supervisor.message.contains("L closes it"))
    }

    /// A round recorded as a candidate because another was put in use while it trained
    /// names the round in use now (it named the one it was compared with), and the promotion
    /// question says what it was compared with.
    @Test func aCandidateFromAChangedModelNamesTheRoundInUse() throws {
        var state = Self.showing(role: .operator)
        state.current = .operator
        var round = Self.round(3, .candidate)
        round.metrics = try JSONDecoder().decode(RoundMetrics.self, from: Data("""
            {"validation": {"accuracy": 0.5, "f1": 0.5, "mcc": 0.5, "count": 20},
             "test": {"accuracy": 0.5, "f1": 0.5, "mcc": 0, "count": 40}, "epochs": 1, "bestEpoch": 1, "seconds": 1,
             "inUseChangedTo": 1}
            """.utf8))
        let previous = Self.round(2, .rolledBack)
        state.jobEnded(.roundTrained(round, previous: previous, reason: Workspace.promotionReason(round, previous: previous)), roundCount: 3)
        #expect(state.message.contains("round 1 was put in use while it trained") && state.message.contains("round 1 stays in use"),
                "\(state.message)")
        state.selectedRound = 2
        try Self.press(&state, .character("P"), facts: Facts(roundList: [Self.round(1, .active), previous, round]))
        #expect(state.message.contains("compared with the round in use when it started training"), "\(state.message)")
    }

    /// A round preparing its first epoch read "epoch 0/20 loss 0.000" for half a minute.
    @Test func theTrainingLineSaysWhenARoundIsPreparing() {
        #expect(ScreenFrame.trainingLine(("training", 0, 20, 0)) == "training [....................] preparing epoch 1 of 20: reading what it trains on")
        #expect(ScreenFrame.trainingLine(("training", 5, 20, 0.25)) == "training [#####...............] epoch 5/20 loss 0.250")
    }

    /// ←/→ on the supervisor screen dropped a begun answer and its mask without a word: asked.
    @Test func movingToAnotherReviewAsksBeforeDroppingAnAnswer() throws {
        var state = Self.showing(role: .supervisor)
        state.current = .supervisor
        try Self.press(&state, .character("n"))
        try Self.paint(&state)
        let facts = Facts(reviews: 3)
        #expect(try Self.press(&state, .right, facts: facts).isEmpty && state.confirmation == .moveDroppingAnswer(forward: true))
        #expect(state.message.contains("drop the answer begun on weld_0012.png and its painted mask"))
        #expect(try Self.press(&state, .character("n"), facts: facts).isEmpty && state.answer.mask != nil)
        try Self.press(&state, .right, facts: facts)
        let moved = try Self.press(&state, .character("y"), facts: facts)
        #expect(state.reviewIndex == 1 && moved.contains { if case .openReview = $0 { true } else { false } })
        // The only review: nothing to move to, so nothing is asked and the answer stays.
        var alone = Self.showing(role: .supervisor)
        alone.current = .supervisor
        alone.showReview(.init(view: Self.view("data/ok/weld_0077.png", predicted: .ok), query: nil,
                               review: Review(id: 4, path: "data/ok/weld_0077.png", reason: .nearHit, of: "data/nok/weld_0012.png", isOpen: true)),
                         index: 0)
        try Self.press(&alone, .character("y"))
        #expect(try Self.press(&alone, .left, facts: Facts(reviews: 1)).isEmpty && alone.confirmation == nil)
        #expect(alone.message == "This is the only review waiting." && alone.answer.prediction == .right)
    }

    /// Quitting while a round trains said "every answer is saved" and dropped the answer on
    /// screen: the question names every begun answer, the shown one and one left with Tab.
    @Test func theQuitQuestionNamesEveryBegunAnswer() throws {
        var state = Self.showing(role: .operator)
        try Self.press(&state, .character("n"))
        try Self.paint(&state)
        try Self.press(&state, .tab)
        state.showReview(.init(view: Self.view("data/ok/weld_0077.png", predicted: .ok), query: nil,
                               review: Review(id: 4, path: "data/ok/weld_0077.png", reason: .nearHit, of: "data/nok/weld_0012.png", isOpen: true)),
                         index: 0)
        try Self.press(&state, .character("y"))
        var training = Facts()
        training.isTraining = true
        try Self.press(&state, .character("q"), facts: training)
        #expect(state.confirmation == .quitWhileTraining)
        #expect(state.message.contains("Unsubmitted answers on weld_0077.png and weld_0012.png would be dropped"), "\(state.message)")
    }

    /// A supervisor's "prediction wrong → NOK", left with Tab while a new round turned the
    /// part's prediction to NOK, came back as "wrong → OK" and was stored so: the verdict
    /// keeps the prediction it was given on.
    @Test func aParkedReviewVerdictKeepsThePredictionItJudged() throws {
        let review = Review(id: 7, path: "data/ok/weld_0067.png", reason: .nearMiss, of: "data/nok/weld_0012.png", isOpen: true)
        var state = ScreenState(user: "sue", role: .operator)
        state.current = .supervisor
        state.showReview(.init(view: Self.view(review.path, predicted: .ok), query: nil, review: review), index: 0)
        try Self.press(&state, .character("n"))
        #expect(state.answeredLabel == .nok)
        try Self.press(&state, .tab, .backTab)
        state.showReview(.init(view: Self.view(review.path, predicted: .nok), query: nil, review: review), index: 0)
        #expect(state.answeredLabel == .nok && state.shown?.view.predictedLabel == .ok, "\(state.message)")
        let stored = try #require(Self.stored(try Self.press(&state, .character("g"), .enter)))
        #expect(stored.event.establishedLabel == .nok)
    }
}
