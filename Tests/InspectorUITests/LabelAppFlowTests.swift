import Foundation
import Imaging
@testable import InspectorUI
@testable import NearCAIPI
import NeuralNet
import Testing
import TestSupport

/// The screens' decisions, driven in-process on a pseudo-terminal (real curses, real workers,
/// real workspace): what a person's keys store, and what the screens ask before work is lost.
@Suite(.serialized) struct LabelAppFlowTests {
    /// A workspace over the bundled weld seams at 32 px with one quickly trained round.
    static func workspace(_ directory: TemporaryDirectory) throws -> Workspace {
        var options = WorkspaceOptions()
        options.inputSize = 32
        let (workspace, _) = try Workspace.create(at: directory.file("ws"), dataRoot: repositoryRoot() + "/SampleData/weld", options: options)
        try workspace.setRetrainEpochs(1)
        // About the screens' decisions, not the promotion rule: every round goes live.
        try workspace.setPromotion(.always)
        _ = try workspace.trainRound(options: quickRound(), fromScratch: true) { _ in true }
        return workspace
    }

    /// A clock the test moves by hand (the screens look at the workspace once a second by it).
    final class Clock: @unchecked Sendable { var now = Date(timeIntervalSince1970: 1_000_000) }

    static func quickRound() -> TrainingOptions {
        var options = TrainingOptions()
        options.epochs = 1
        return options
    }

    /// The app on a `columns`×`rows` pseudo-terminal, started (first query shown).
    final class Driven {
        let terminal: PseudoTerminal
        let app: LabelApp

        init(_ workspace: Workspace, role: Role, columns: Int = 120, rows: Int = 40, clock: @escaping () -> Date = Date.init) throws {
            terminal = try PseudoTerminal(columns: columns, rows: rows, cellSize: .assumed)
            app = try LabelApp(workspace: workspace, user: "tess", role: role, graphics: .ascii, truecolor: false,
                               terminal: TerminalReport(cellSize: .assumed), clock: clock)
            try app.start(terminalType: "xterm-256color", inputDescriptor: terminal.follower, outputDescriptor: terminal.follower)
        }

        /// Presses the keys in order; false once a key quit.
        @discardableResult
        func press(_ keys: CursesScreen.Input...) throws -> Bool {
            for key in keys where try app.step(key) == false { return false }
            return true
        }

        func close() {
            app.finish()
            terminal.close()
        }
    }

    /// A round another station (another process) puts in use reaches the screens at the
    /// next look at the workspace, which the screens' clock spaces a second apart.
    @Test func aRoundTrainedElsewhereIsTakenUpAtTheNextLookAtTheWorkspace() throws {
        let directory = TemporaryDirectory("flow-clock")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let clock = Clock()
        let driven = try Driven(workspace, role: .operator, clock: { clock.now })
        defer { driven.close() }
        try driven.press(.none)
        #expect(driven.app.loadedRound == 1)
        let elsewhere = try Workspace(opening: workspace.path)
        _ = try elsewhere.trainRound(options: Self.quickRound(), fromScratch: false) { _ in true }
        clock.now += 0.5
        try driven.press(.none)
        #expect(driven.app.loadedRound == 1, "looked again within the second")
        clock.now += 0.6
        try driven.press(.none)
        #expect(driven.app.loadedRound == 2)
        #expect(driven.app.state.message == "Round 2 is now in use (changed outside this screen).")
    }

    /// While this station trains a round, another station's rollback is taken up at once
    /// (answers judged the rolled-back model until the training ended); the round then
    /// finishes as a candidate, saying which round is in use.
    @Test func aRollbackElsewhereIsTakenUpWhileThisStationTrains() throws {
        let directory = TemporaryDirectory("flow-rollback-while-training")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        _ = try workspace.trainRound(options: Self.quickRound(), fromScratch: false) { _ in true }
        try workspace.setRetrainEpochs(40)
        let clock = Clock()
        let driven = try Driven(workspace, role: .operator, clock: { clock.now })
        defer { driven.close() }
        #expect(driven.app.loadedRound == 2)
        try driven.press(.tab, .tab, .character("r"))
        #expect(driven.app.retrainer.isRunning)
        // Rolled back once the round is under way (it read the round in use when it began).
        let begun = Date().addingTimeInterval(120)
        while Date() < begun {
            if case .running(_, let epoch, _, _) = driven.app.retrainer.state, epoch >= 1 { break }
            usleep(20_000)
        }
        try Workspace(opening: workspace.path).rollback(to: 1)
        clock.now += 1.1
        try driven.press(.none)
        #expect(driven.app.loadedRound == 1 && driven.app.state.message == "Round 1 is now in use (changed outside this screen).")
        let deadline = Date().addingTimeInterval(300)
        while driven.app.retrainer.isRunning, Date() < deadline { try driven.press(.none); usleep(20_000) }
        clock.now += 1.1
        try driven.press(.none)
        let inUse = try workspace.activeRound()?.number
        #expect(driven.app.loadedRound == 1 && inUse == 1)
        #expect(driven.app.state.message.contains("Round 3 kept as a candidate — round 1 was put in use while it trained")
                && driven.app.state.message.contains("round 1 stays in use"), "\(driven.app.state.message)")
    }

    /// Home in the mask editor arrived as Esc (closing it, dropping the strokes) then "[1~"
    /// (1: the 1:1 view): a sequence curses does not know is read whole, and a lone Esc is Esc.
    @Test func anUnknownKeySequenceIsOneKeyNotEscAndCharacters() throws {
        let directory = TemporaryDirectory("flow-sequences")
        defer { directory.remove() }
        let driven = try Driven(try Self.workspace(directory), role: .inspector)
        defer { driven.close() }
        func read(after bytes: String) -> CursesScreen.Input {
            _ = bytes.withCString { write(driven.terminal.leader, $0, strlen($0)) }
            for _ in 0..<100 {
                let input = driven.app.screen.read()
                if input != .none { return input }
            }
            return .none
        }
        for sequence in ["\u{1B}[1~", "\u{1B}[5~", "\u{1B}[15~", "\u{1B}[1;5H", "\u{1B}x"] {
            #expect(read(after: sequence) == .unrecognised, "\(sequence.debugDescription)")
            #expect(driven.app.screen.read() == .none, "bytes of \(sequence.debugDescription) left over")
        }
        #expect(read(after: "\u{1B}") == .escape)
        try driven.press(.character("y"), .character("b"), .unrecognised)
        #expect(driven.app.state.editor != nil && driven.app.state.message.hasPrefix("That key has no use in the mask editor"))
    }

    @Test func belowTheMinimumSizeNoKeyAnswersAndQStillQuits() throws {
        let directory = TemporaryDirectory("flow-small")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let driven = try Driven(workspace, role: .inspector, columns: 40, rows: 12)
        defer { driven.close() }
        let shown = driven.app.state.shown?.view.path
        try driven.press(.character("y"), .enter, .character("n"), .character("g"), .enter, .character("s"))
        #expect(try workspace.feedbackLog().isEmpty, "an answer was stored for an image nobody saw")
        #expect(driven.app.state.shown?.view.path == shown)
        #expect(try driven.press(.character("q")) == false)
    }

    /// At 62×20 the part was drawn 22 half-cells across and answers were taken; now the
    /// screen says why it takes none, and at 80×24 (30 across) it does.
    @Test func aPartDrawnTooSmallToJudgeTakesNoAnswer() throws {
        let directory = TemporaryDirectory("flow-legible")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let small = try Driven(workspace, role: .inspector, columns: 62, rows: 20)
        try small.press(.character("y"), .enter)
        #expect(try workspace.feedbackLog().isEmpty, "an answer was taken on a part drawn too small to judge")
        #expect(small.app.state.message.hasPrefix("Drawn 22 picture elements across, 24 needed to judge it: s skips"), "\(small.app.state.message)")
        // Skipping judges nothing: it is taken (a small terminal is not stuck on one part).
        try small.press(.character("s"))
        #expect(try workspace.feedbackLog().map(\.prediction) == [.skip])
        // Quitting still works.
        #expect(try small.press(.character("q")) == false)
        small.close()
        let usual = try Driven(workspace, role: .inspector, columns: 80, rows: 24)
        defer { usual.close() }
        try usual.press(.character("y"), .enter)
        #expect(try workspace.feedbackLog().count == 2)
    }

    /// The wheel over the picture zooms about the photo pixel under the pointer (which stays
    /// under it); over text it does nothing; turned back, the whole photo returns.
    @Test func theWheelZoomsAboutThePixelUnderThePointer() throws {
        let directory = TemporaryDirectory("flow-wheel")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let driven = try Driven(workspace, role: .inspector)
        defer { driven.close() }
        let target = try #require(driven.app.mouseTarget)
        let (row, column) = (target.box.row + target.rows / 4, target.box.column + target.columns * 3 / 4)
        let pointed = target.pixel(row: row, column: column)
        try driven.press(.wheel(row: target.box.row + target.rows + 5, column: column, up: true))
        #expect(driven.app.state.viewport?.isZoomed == false)
        try driven.press(.wheel(row: row, column: column, up: true))
        let view = try #require(driven.app.state.viewport)
        #expect(view.zoom == 2 && view.visible.contains(x: pointed.x, y: pointed.y))
        // The same cell shows (nearly) the same pixel after the zoom.
        let after = try #require(driven.app.mouseTarget).pixel(row: row, column: column)
        #expect(abs(after.x - pointed.x) <= view.visible.width / max(1, target.columns) + 1)
        #expect(abs(after.y - pointed.y) <= view.visible.height / max(1, target.rows) + 1)
        try driven.press(.wheel(row: row, column: column, up: false))
        #expect(driven.app.state.viewport?.isZoomed == false)
    }

    @Test func answersCountWhatThePersonDidAndCarryTheScreensRole() throws {
        let directory = TemporaryDirectory("flow-counts")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let driven = try Driven(workspace, role: .operator)
        defer { driven.close() }
        try driven.press(.character("y"), .enter, .character("s"), .character("y"), .enter)
        #expect(driven.app.state.message.contains("this session: 2 answered, 1 skipped"), "\(driven.app.state.message)")
        let log = try workspace.feedbackLog()
        #expect(log.map(\.prediction) == [.right, .skip, .right])
        // Answered on the inspector screen: in the inspector's role, whatever the person's.
        #expect(log.allSatisfy { $0.user == "tess" && $0.role == .inspector })
        #expect(try workspace.pendingFeedbackCount() == 2)
        // An answer begun but not submitted: q asks before dropping it.
        try driven.press(.character("n"))
        #expect(try driven.press(.character("q")) && driven.app.state.confirmation == .quitWithUnsubmittedAnswer)
        try driven.press(.character("n"))
        #expect(driven.app.state.confirmation == nil && driven.app.state.answer.prediction == .wrong)
    }

    /// The store refuses an answer (here: the connection turned read-only, as an I/O error
    /// would): the answer and its painted mask stay on screen with the reason, wait in a file
    /// of their own, and Enter stores them once the store takes writes again. A kept answer
    /// the screens never got to store goes in when they next start.
    @Test func anAnswerTheStoreRefusesIsKeptAndStoredLater() throws {
        let directory = TemporaryDirectory("flow-refused")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        var driven = try Driven(workspace, role: .inspector)
        let database = driven.app.session.workspace.store.database
        try database.execute("PRAGMA query_only = 1")
        let first = try #require(driven.app.state.shown?.view.path)
        // Wrong prediction, wrong map, a defect painted: a whole answer.
        try driven.press(.character("n"), .character("b"), .character(" "), .right, .right, .enter)
        #expect(driven.app.state.answer.mask != nil)
        try driven.press(.enter)
        #expect(driven.app.state.message.hasPrefix("Not stored:") && driven.app.state.message.contains("Enter tries again"),
                "\(driven.app.state.message)")
        #expect(driven.app.state.shown?.view.path == first && driven.app.state.answer.mask != nil)
        let kept = driven.app.session.unstoredAnswerFiles()
        #expect(kept.count == 1)
        // q says the answer is kept, not dropped.
        try driven.press(.character("q"))
        #expect(driven.app.state.message.contains("kept in unstored-answers/"), "\(driven.app.state.message)")
        try driven.press(.character("n"))
        // Writable again: Enter stores it, mask and all, and the kept copy goes.
        try database.execute("PRAGMA query_only = 0")
        try driven.press(.enter)
        var log = try workspace.feedbackLog()
        #expect(log.count == 1 && log[0].itemPath == first && log[0].hasCorrectedMask)
        #expect(driven.app.session.unstoredAnswerFiles().isEmpty)

        // Refused again, and the screens end without storing it (a crash, a closed window).
        let second = try #require(driven.app.state.shown?.view.path)
        try driven.app.session.workspace.store.database.execute("PRAGMA query_only = 1")
        try driven.press(.character("y"), .enter)
        #expect(driven.app.session.unstoredAnswerFiles().count == 1)
        driven.close()
        // The next start finds the store writable (the same connection serves both here).
        try database.execute("PRAGMA query_only = 0")
        driven = try Driven(workspace, role: .inspector)
        defer { driven.close() }
        #expect(driven.app.state.message.contains("1 answer kept when the store refused them is stored now"), "\(driven.app.state.message)")
        log = try workspace.feedbackLog()
        #expect(log.map(\.itemPath) == [first, second] && log[1].prediction == .right)
        #expect(driven.app.session.unstoredAnswerFiles().isEmpty)
        #expect(driven.app.state.shown?.view.path != second)
    }

    /// Ctrl-C asks as q does when an answer is begun — painting included — and a second
    /// Ctrl-C while asking quits; with nothing begun it quits at once.
    @Test func ctrlCAsksWhenAnAnswerIsBegun() throws {
        let directory = TemporaryDirectory("flow-interrupt")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let driven = try Driven(workspace, role: .inspector)
        defer { driven.close() }
        let facts = driven.app.facts
        #expect(driven.app.state.interrupted(facts: facts).contains { if case .quit = $0 { true } else { false } })
        driven.app.state.confirmation = nil
        try driven.press(.character("n"), .character("b"), .character(" "), .right)
        #expect(driven.app.state.editor != nil)
        #expect(driven.app.state.interrupted(facts: facts).isEmpty)
        #expect(driven.app.state.confirmation == .quitWithUnsubmittedAnswer && driven.app.state.message.hasPrefix("Ctrl-C (again: quit): "))
        // n: back to painting, nothing lost.
        try driven.press(.character("n"))
        #expect(driven.app.state.confirmation == nil && driven.app.state.editor != nil && driven.app.state.answer.prediction == .wrong)
        _ = driven.app.state.interrupted(facts: facts)
        #expect(driven.app.state.interrupted(facts: facts).contains { if case .quit = $0 { true } else { false } })
    }

    /// A defect painted on a part the answer calls OK is a contradiction: nothing is stored and
    /// the screen says how to resolve it. The painted region stays marked after the editor
    /// closes, until the answer is submitted.
    @Test func aPaintedDefectOnAnOKPartIsNotStored() throws {
        let directory = TemporaryDirectory("flow-ok-mask")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let driven = try Driven(workspace, role: .inspector)
        defer { driven.close() }
        let predictedOK = driven.app.state.shown?.view.predictedLabel == .ok
        // "Prediction right" on a part predicted OK, or "wrong" on one predicted NOK: OK either way.
        try driven.press(.character(predictedOK ? "y" : "n"), .character("b"), .character(" "), .right, .enter)
        let painted = try #require(driven.app.state.answer.mask)
        #expect(!painted.isEmpty && driven.app.state.editor == nil)
        try driven.press(.enter)
        #expect(try workspace.feedbackLog().isEmpty)
        #expect(driven.app.state.message.contains("a defect is painted on it"))
        // Cleared, the same answer is stored.
        try driven.press(.character("b"), .character("c"), .enter, .enter)
        #expect(try workspace.feedbackLog().count == 1)
    }

    /// The supervisor sees what is decided, the query as the inspector labelled and painted
    /// it, and after an answer the next review opens by itself.
    @Test func theSupervisorIsAskedPlainlyAndMovesOn() throws {
        let directory = TemporaryDirectory("flow-supervisor")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let driven = try Driven(workspace, role: .supervisor)
        defer { driven.close() }
        // The inspector says the prediction is wrong and paints a region: two reviews queued.
        let query = try #require(driven.app.state.shown?.view.path)
        try driven.press(.character("n"), .character("b"), .character(" "), .right, .right, .enter, .enter)
        if driven.app.state.message.contains("a defect is painted") {  // corrected to OK: no painting then
            try driven.press(.character("b"), .character("c"), .enter, .enter)
        }
        try driven.press(.tab)
        #expect(driven.app.state.current == .supervisor)
        let first = try #require(driven.app.state.shown?.review)
        #expect(first.of == query && driven.app.state.message.contains("right (y) or wrong (n)?"))
        #expect(driven.app.state.message.contains((first.reason == .nearHit ? "Near hit " : "Near miss ") + ScreenState.shownName(first.path)))
        // The question is read whole on the two message lines of a 120-column screen.
        #expect(TextLines.wrapped(driven.app.state.message, columns: 118, lines: 2).last?.hasSuffix("…") == false)
        #expect(try driven.app.queryMask == workspace.paintedMask(of: query))
        try driven.press(.character("y"), .enter)
        // Answered in the supervisor's role; the next review is open at once.
        #expect(try workspace.feedbackLog().last?.role == .supervisor)
        let next = try #require(driven.app.state.shown?.review)
        #expect(next.id != first.id && driven.app.state.reviewIndex == 0)
        // What was stored and the next question, both on the message lines.
        #expect(driven.app.state.message.hasPrefix("saved ") && driven.app.state.message.contains("Next: Near "),
                "\(driven.app.state.message)")
        #expect(TextLines.wrapped(driven.app.state.message, columns: 118, lines: 2).last?.hasSuffix("…") == false)
        // A supervisor who starts while reviews wait opens on them, told how many.
        let again = try Driven(workspace, role: .supervisor)
        defer { again.close() }
        #expect(again.app.state.current == .supervisor && again.app.state.shown?.review?.id == next.id)
        #expect(again.app.state.message.hasPrefix("1 review waiting"), "\(again.app.state.message)")
    }

    /// y / n judge the model; the answer line says what they make of the part.
    @Test func theAnswerLineSaysWhatTheVerdictMakesOfThePart() throws {
        var state = ScreenStateTests.showing(ScreenStateTests.view(predicted: .ok))
        #expect(InspectorScreen.answerWords(state) == "prediction ?, explanation ?")
        state.answer.prediction = .wrong
        #expect(InspectorScreen.answerWords(state) == "prediction wrong → NOK, explanation ?")
        state.answer.prediction = .right
        state.answer.explanation = .right
        #expect(InspectorScreen.answerWords(state) == "prediction right → OK, explanation right")
    }

    @Test func retrainingFromScratchAndQuittingWhileTrainingAsk() throws {
        let directory = TemporaryDirectory("flow-confirm")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let driven = try Driven(workspace, role: .operator)
        defer { driven.close() }
        try driven.press(.tab, .tab)
        #expect(driven.app.state.current == .operator)
        try driven.press(.character("T"))
        #expect(driven.app.state.confirmation == .retrainFromScratch && !driven.app.retrainer.isRunning)
        #expect(driven.app.state.message.contains("from scratch"))
        try driven.press(.character("n"))
        #expect(driven.app.state.confirmation == nil && !driven.app.retrainer.isRunning)
        try driven.press(.character("r"))
        #expect(driven.app.retrainer.isRunning)
        #expect(try driven.press(.character("q")) && driven.app.state.confirmation == .quitWhileTraining)
        #expect(driven.app.state.message.contains("no round recorded"))
        try driven.press(.character("x"))  // anything but y: stay
        #expect(driven.app.retrainer.isRunning && driven.app.state.confirmation == nil)
        try driven.press(.character("q"))
        #expect(try driven.press(.character("y")) == false)
    }

    @Test func theOperatorPretrainsRoundZeroStopsItAndResumesIt() throws {
        let directory = TemporaryDirectory("flow-pretrain")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let driven = try Driven(workspace, role: .operator)
        defer { driven.close() }
        try driven.press(.tab, .tab, .character("B"))
        #expect(driven.app.state.confirmation == .pretrain(restart: false) && !driven.app.retrainer.isRunning)
        try driven.press(.character("y"))
        #expect(driven.app.retrainer.runningJob == .pretraining(restart: false))
        // A round cannot start meanwhile; once an epoch is done, c stops it and keeps it.
        try driven.press(.character("r"))
        #expect(driven.app.state.message.contains("Pretraining round 0 runs"))
        let deadline = Date().addingTimeInterval(120)
        while (try workspace.pretrainingSummary()?.epochsDone ?? 0) < 1, Date() < deadline { try driven.press(.none); usleep(20_000) }
        try driven.press(.character("c"))
        while driven.app.retrainer.isRunning, Date() < deadline { try driven.press(.none); usleep(20_000) }
        try driven.press(.none)
        let saved = try #require(try workspace.pretrainingSummary())
        #expect(saved.epochsDone >= 1 && !saved.isFinished && !workspace.hasPretrainedBackbone)
        #expect(driven.app.state.message.contains("Pretraining stopped after epoch \(saved.epochsDone)"))
        // B again offers to resume where it stopped.
        try driven.press(.character("B"))
        #expect(driven.app.state.message.contains("Resume pretraining round 0 at epoch \(saved.epochsDone + 1) of \(saved.epochs)"))
        try driven.press(.character("n"))
        #expect(!driven.app.retrainer.isRunning)
    }

    /// The normal parts a heatmap's fill draws from are read on the heatmap worker's thread,
    /// once per model, not on the screens' thread: reading and resizing up to 256 large
    /// photos there froze the screens for seconds each time a round went live. The map is
    /// the one the session's complete explainer gives.
    @Test func theHeatmapWorkerReadsTheNormalPartsOnItsOwnThread() throws {
        let directory = TemporaryDirectory("flow-normal-parts")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let session = try LoopSession(workspace: workspace, user: "tess")
        let partial = session.explainerWithoutNormalParts()
        #expect(partial.fill.needsNormalParts && partial.normalParts == nil, "the default fill draws from normal parts")
        final class Reads: @unchecked Sendable {
            let lock = NSLock()
            var threads: [pthread_t] = []
            func record() { lock.lock(); threads.append(pthread_self()); lock.unlock() }
            var all: [pthread_t] { lock.lock(); defer { lock.unlock() }; return threads }
        }
        let reads = Reads(), path = workspace.path
        let checkpoint = try workspace.checkpointPath(of: #require(try workspace.activeRound()))
        let worker = try HeatmapWorker(checkpoint: checkpoint, explainer: partial) { classifier in
            reads.record()
            return try Workspace(opening: path).normalParts(for: classifier)
        }
        defer { worker.stop() }
        let views = try workspace.store.items(in: .pool, labelledOnly: false).prefix(2).map { try session.view(of: $0.path) }
        for view in views {
            worker.request([HeatmapWorker.Item(path: view.path, image: view.image, target: LoopSession.explainedClass.classIndex)])
            let deadline = Date().addingTimeInterval(120)
            while worker.result(for: view.path)?.complete != true, Date() < deadline { usleep(20_000) }
        }
        #expect(reads.all.count == 1, "read once for the model, not per map")
        #expect(reads.all.allSatisfy { pthread_equal($0, pthread_self()) == 0 }, "read on the caller's thread")
        for view in views {
            let map = try #require(worker.result(for: view.path)?.heatmap)
            let expected = try session.explain(view).heatmap
            let largest = zip(map.pixels, expected.pixels).map { abs($0 - $1) }.max() ?? .infinity
            #expect(map.pixels.count == expected.pixels.count && largest < 1e-4, "\(view.path): differs by \(largest)")
        }
    }

    /// A part answered elsewhere while it was on screen (another station here; the person's
    /// own other screen the same way) is not answered twice: Enter says who answered first,
    /// stores nothing and opens the next query.
    @Test func aPartAnsweredElsewhereMeanwhileIsNotAnsweredTwice() throws {
        let directory = TemporaryDirectory("flow-answered-meanwhile")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let driven = try Driven(workspace, role: .inspector)
        defer { driven.close() }
        let shown = try #require(driven.app.state.shown?.view.path)
        try driven.press(.character("y"), .character("g"))
        let otto = try LoopSession(workspace: workspace, user: "otto")
        _ = try otto.submit(try SimulatedExpert(name: "otto").answer(try otto.view(of: shown), in: workspace), firstAnswerOnly: true)
        let log = try workspace.feedbackLog()
        try driven.press(.enter)
        #expect(try workspace.feedbackLog() == log)
        #expect(driven.app.state.message.contains("\(ScreenState.shownName(shown)) was answered meanwhile by otto; that answer stands"))
        #expect(driven.app.state.shown?.view.path != shown && !driven.app.state.hasUnsubmittedAnswer)
    }

    /// A round going live under a begun answer keeps the prediction the answer judges and
    /// shows what the new round says beside it (the map was the new round's while the line
    /// named the old prediction and the old decision); storing the answer forgets it.
    @Test func aBegunAnswerShowsTheJudgedAndTheNewPrediction() throws {
        let directory = TemporaryDirectory("flow-prediction-now")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let driven = try Driven(workspace, role: .inspector)
        defer { driven.close() }
        let judged = try #require(driven.app.state.shown?.view)
        try driven.press(.character("y"))
        _ = try workspace.trainRound(options: Self.quickRound(), fromScratch: true) { _ in true }
        try driven.app.modelChanged()
        #expect(driven.app.state.shown?.view.path == judged.path && driven.app.state.shown?.view.probabilities == judged.probabilities)
        let now = try #require(driven.app.state.predictionsNow[judged.path])
        let fresh = try LoopSession(workspace: workspace, user: "x").view(of: judged.path)
        #expect(now == fresh.probabilities)
        let line = InspectorScreen.predictionLine(judged, cuts: nil, now: now)
        #expect(line.contains(String(format: "predicted (judged): %@ %.2f", judged.predictedLabel.displayName, judged.confidence)))
        #expect(line.contains(String(format: "now: %@ %.2f", fresh.predictedLabel.displayName, fresh.confidence)))
        try driven.press(.character("g"), .enter)
        #expect(driven.app.state.predictionsNow.isEmpty)
    }

    /// An answer begun on a review and left with Tab: the inspector screen does not ask the
    /// same part as a query (the review's answer was dropped when it did); if the part is
    /// answered elsewhere meanwhile, the return says the begun answer was not stored.
    @Test func aBegunReviewAnswerIsNotAskedAgainAndItsLossIsSaid() throws {
        let directory = TemporaryDirectory("flow-review-parked")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let otto = try LoopSession(workspace: workspace, user: "otto")
        let asked = try #require(try otto.nextQuery())
        let wrong = FeedbackEvent(itemPath: asked.path, user: "otto", predictedLabel: asked.predictedLabel, prediction: .wrong)
        #expect(!(try otto.submit(wrong, firstAnswerOnly: true)).queuedReviews.isEmpty)
        let driven = try Driven(workspace, role: .operator)
        defer { driven.close() }
        try driven.press(.tab)
        let part = try #require(driven.app.state.shown?.review?.path)
        try driven.press(.character("y"), .tab, .tab)
        #expect(driven.app.state.current == .inspector && driven.app.state.shown?.view.path != part)
        #expect(driven.app.state.parked[.supervisor]?.shown.view.path == part)
        _ = try otto.submit(FeedbackEvent(itemPath: part, user: "otto", predictedLabel: .ok, prediction: .right), firstAnswerOnly: true)
        try driven.press(.tab)
        #expect(driven.app.state.current == .supervisor && driven.app.state.parked[.supervisor] == nil)
        #expect(driven.app.state.message.contains("Your begun answer on the review of \(ScreenState.shownName(part)) was not stored: "
                                                  + "the part was answered meanwhile by otto"), "\(driven.app.state.message)")
    }

    /// A cancelled round reaches the screens as a cancellation, not as a failure whose text
    /// happens to contain "cancelled".
    @Test func aCancelledRoundIsToldAsCancelledAndRecordsNothing() throws {
        let directory = TemporaryDirectory("flow-cancel")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        try workspace.setRetrainEpochs(400)
        let driven = try Driven(workspace, role: .operator)
        defer { driven.close() }
        try driven.press(.tab, .tab, .character("r"))
        #expect(driven.app.retrainer.runningJob == .round(fromScratch: false))
        try driven.press(.character("c"))
        #expect(driven.app.state.confirmation == .cancelRoundInTraining && driven.app.retrainer.isRunning)
        try driven.press(.character("y"))
        let deadline = Date().addingTimeInterval(120)
        while driven.app.retrainer.isRunning, Date() < deadline { try driven.press(.none); usleep(20_000) }
        try driven.press(.none)
        #expect({ if case .cancelled(.round) = driven.app.retrainer.state { true } else { false } }(), "\(driven.app.retrainer.state)")
        #expect(driven.app.state.message == "Training stopped as asked; no round recorded, the answers stay pending.")
        #expect(try workspace.rounds().count == 1)
    }

    @Test func theOperatorsRollbackKeepsAnswersAndRevertListsBeforeActing() throws {
        let directory = TemporaryDirectory("flow-operator")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        // Two answers trained into round 2.
        let session = try LoopSession(workspace: workspace, user: "ines")
        for prediction in session.pool.predictions.prefix(2) {
            _ = try session.submit(FeedbackEvent(itemPath: prediction.path, user: "ines", predictedLabel: prediction.predictedLabel,
                                                 prediction: .right))
        }
        try session.retrain(options: Self.quickRound())
        let driven = try Driven(workspace, role: .operator)
        defer { driven.close() }
        try driven.press(.tab, .tab)

        // Roll back to round 1: asked, with what happens to the answers; they all stay.
        driven.app.state.selectedRound = 0
        try driven.press(.character("R"))
        #expect(driven.app.state.confirmation == .rollback(to: 1, waiting: 2) && driven.app.state.message.contains("Answers stay"))
        try driven.press(.character("y"))
        #expect(try workspace.activeRound()?.number == 1)
        #expect(try workspace.feedbackLog().allSatisfy { !$0.reverted } && workspace.pendingFeedbackCount() == 2)

        // Revert needs answers a round trained on: train round 3, then revert its answers.
        try session.refresh()
        try session.retrain(options: Self.quickRound())
        driven.app.state.selectedRound = 2
        try driven.press(.character("v"))
        #expect(driven.app.state.confirmation == .revert(AnswerSelection(round: 3), count: 2))
        // u narrows to one person (ines), then y reverts exactly those.
        try driven.press(.character("u"))
        #expect(driven.app.state.confirmation == .revert(AnswerSelection(user: "ines", round: 3), count: 2))
        try driven.press(.character("y"))
        #expect(try workspace.feedbackLog().allSatisfy(\.reverted))
        #expect(driven.app.state.message.contains("Reverted 2 answers"))

        // Another process (the command line) makes round 2 active: within a second, with no
        // key pressed, the screens use its model and say so.
        let elsewhere = try Workspace(opening: workspace.path)
        try elsewhere.rollback(to: 2)
        driven.app.changesReadAt = .distantPast
        try driven.press(.none)
        #expect(driven.app.loadedRound == 2 && driven.app.state.message.contains("Round 2 is now in use"), "\(driven.app.state.message)")
    }
}
