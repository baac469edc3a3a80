import Explanations
import Foundation
import Imaging
import NearCAIPI
import NeuralNet
#if canImport(Glibc)
import Glibc
#endif

/// Who is at the terminal. Each role has its own screen (the inspector's queries, the
/// supervisor's reviews, the operator's rounds), and a role also gets the screens of the roles
/// below it.
extension Role {
    /// The screens this role may switch between (Tab), its own last.
    var screens: [Role] {
        switch self {
        case .inspector: [.inspector]
        case .supervisor: [.inspector, .supervisor]
        case .operator: [.inspector, .supervisor, .operator]
        }
    }
}

/// A picture written to the terminal outside ncurses, where it went and what it showed.
struct RawImage {
    var row: Int, column: Int, columns: Int, rows: Int
    var key: Int
    var bytes: [UInt8]

    struct Place: Hashable { var row: Int, column: Int, columns: Int, rows: Int }
    struct Identity: Hashable { var place: Place, key: Int }
    var place: Place { Place(row: row, column: column, columns: columns, rows: rows) }
    var identity: Identity { Identity(place: place, key: key) }
}

/// Set by the signal handlers; the UI loop polls it and leaves cleanly (endwin, mouse off).
nonisolated(unsafe) private var pendingSignal: Int32 = 0

/// `nearcaipi label`: the interactive loop in the terminal. One UI thread owns curses and the
/// session; heatmaps and retraining run on worker threads and hand results back through
/// locked state that the loop polls every 50 ms.
public final class LabelApp {
    struct Answer {
        var prediction: Verdict?
        var explanation: Verdict?
        var mask: BinaryMask?
    }

    struct Shown {
        var view: ItemView
        var query: Query?
        var review: Review?
    }

    let session: LoopSession
    let workspacePath: String
    let role: Role
    let graphics: GraphicsMode
    let truecolor: Bool
    let terminal: TerminalReport
    var screen: CursesScreen!
    var terminalOutput: UnsafeMutablePointer<FILE>?
    var terminalInput: UnsafeMutablePointer<FILE>?
    var heatmaps: HeatmapWorker!
    let retrainer = RetrainWorker()

    /// Whose screen is shown: the role's own, or one below it.
    var current: Role
    var shown: Shown?
    var upcoming: [ItemView] = []
    var answer = Answer()
    var editor: MaskEditor?
    var showOverlay = true
    var showOutline = false
    var showHelp = false
    var message = ""
    /// Shown in the message line until the first key.
    let notice: String?
    /// Queries and reviews this session answered, and skipped: what the person did, as they
    /// count it.
    var queriesAnswered = 0
    var reviewsAnswered = 0
    var queriesSkipped = 0
    // Supervisor
    var reviewIndex = 0
    var refutationBrowser: (list: [(path: String, transform: String)], index: Int)?
    var showLog = false
    var reviewPanels: [ItemView?] = []
    var logUser: String?
    // Operator
    var selectedRound = 0
    /// The region painted on the query of the open review, read with its panels.
    var queryMask: BinaryMask?
    /// A question asked before something that loses work or cannot be undone; while it is
    /// open, y does it and any other key cancels.
    var confirmation: Confirmation?

    enum Confirmation: Equatable {
        /// Make round `to` active again; `waiting` answers of later rounds wait for the next.
        case rollback(to: Int, waiting: Int)
        /// Quit while a round trains: the round is lost.
        case quitWhileTraining
        /// Quit with an answer given but not submitted.
        case quitWithUnsubmittedAnswer
        /// Train a round from random weights.
        case retrainFromScratch
        /// Revert the answers `selection` picks (`count` of them, listed on the screen).
        case revert(AnswerSelection, count: Int)
        /// Make a candidate round active.
        case promote(Int)
    }
    var lastRetrainVersion = 0
    var seenHeatmapVersion = -1
    /// Pictures written straight to the terminal after ncurses' refresh (sixel, 24-bit
    /// half-block), this frame's and the previous frame's.
    var rawImages: [RawImage] = []
    var sentImages: [RawImage] = []
    /// Set after a resize or anything else that repaints the whole terminal.
    var resendImages = true
    /// Encoded sixel pictures by content, so a redraw that does not change a picture does not
    /// encode it again.
    var sixelCache: [Int: [UInt8]] = [:]
    var mouseTarget: (box: Layout.Panel, width: Int, height: Int, columns: Int, rows: Int)?

    /// `notice`: a first message for the person (why the pictures are drawn as they are).
    public init(workspace: Workspace, user: String, role: Role, graphics: GraphicsMode, truecolor: Bool,
                terminal: TerminalReport = TerminalReport(), notice: String? = nil) throws {
        session = try LoopSession(workspace: workspace, user: user)
        workspacePath = workspace.path
        self.role = role
        self.graphics = graphics
        self.truecolor = truecolor
        self.terminal = terminal
        // Everyone starts on the inspector screen; Tab reaches the others the role has.
        current = .inspector
        self.notice = notice
    }

    /// Runs until the user quits or a signal arrives; returns the exit status. The terminal
    /// is restored on every path.
    public func run() throws -> Int32 {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number) { pendingSignal = $0 }
        }
        defer { finish() }
        try start(terminalType: ProcessInfo.processInfo.environment["TERM"] ?? "xterm",
                  inputDescriptor: STDIN_FILENO, outputDescriptor: STDOUT_FILENO)
        while pendingSignal == 0 {
            if try step(screen.read()) == false { return 0 }
        }
        // Interrupted: everything confirmed is already stored; the lease expires on its own.
        if let query = shown?.query { try? session.release(query) }
        return pendingSignal == SIGINT ? 130 : 128 + pendingSignal
    }

    /// Starts the heatmap worker and curses on the terminal behind the two descriptors (the
    /// process's own, or a pseudo-terminal in the benchmark) and draws the first query.
    /// `finish()` undoes it, also after a failure half-way.
    func start(terminalType: String, inputDescriptor: Int32, outputDescriptor: Int32) throws {
        guard let round = try session.workspace.activeRound() else {
            throw WorkspaceError.noTrainedModel(workspacePath)
        }
        heatmaps = try HeatmapWorker(checkpoint: session.workspace.checkpointPath(of: round), explainer: try session.explainer())
        guard let output = fdopen(dup(outputDescriptor), "w"), let input = fdopen(dup(inputDescriptor), "r") else {
            throw TerminalError(message: "cannot open the terminal streams")
        }
        terminalOutput = output
        terminalInput = input
        screen = try CursesScreen(terminalType: terminalType, output: output, input: input)
        screen.configureForInteraction(timeout: 50, mouse: true)
        writeRaw("\u{1B}[?1002h")
        // Sixel scrolling mode (DECSDM reset): a picture starts at the cursor. With DECSDM
        // set (xterm's sixelScrolling: false) every picture would land at the top left.
        if graphics == .sixel { writeRaw("\u{1B}[?80l") }
        try nextQuery()
        if let notice { message = notice }
        draw()
    }

    /// One turn of the loop: handles `input`, takes the workers' results, redraws what
    /// changed. false when the user quits.
    func step(_ input: CursesScreen.Input) throws -> Bool {
        var changed = false
        switch input {
        case .none: break
        case .resize:
            screen.invalidate()
            resendImages = true
            changed = true
        default:
            // Below the minimum size nothing is shown, so nothing may be answered: only q acts
            // (a key answered blind would store a verdict on an image nobody saw).
            let (rows, columns) = screen.size
            if Layout(rows: rows, columns: columns).isTooSmall, input != .character("q") {
                break
            }
            if try handle(input) == false { return false }
            changed = true
        }
        if try pollWorkers() { changed = true }
        if changed { draw() }
        return true
    }

    /// Restores the terminal first (mouse reporting off, `endwin`), then stops the workers
    /// and waits for them, so no thread is inside OpenBLAS when the process exits.
    func finish() {
        if let screen {
            writeRaw("\u{1B}[?1002l\u{1B}[?1006l")
            screen.end()
        }
        heatmaps?.stop()
        retrainer.cancelAndWait()
        for stream in [terminalOutput, terminalInput] { if let stream { fclose(stream) } }
        terminalOutput = nil
        terminalInput = nil
    }

    // MARK: Work

    func nextQuery() throws {
        if let query = shown?.query { try? session.release(query) }
        answer = Answer()
        editor = nil
        guard let query = try session.nextQuery() else {
            shown = nil
            message = "The pool has nothing left to ask. Tab to the other screens, q to quit."
            return
        }
        let view = try session.view(of: query.path)
        shown = Shown(view: view, query: query, review: nil)
        // The next queries by the same ranking, so their heatmaps are ready when reached.
        upcoming = try session.upcoming(after: query, count: 2).compactMap { try? session.view(of: $0.path) }
        requestHeatmaps()
    }

    func requestHeatmaps() {
        var views: [ItemView] = []
        if let shown { views.append(shown.view) }
        if current == .supervisor, shown?.review != nil { views += reviewPanels.compactMap { $0 } }
        views += upcoming
        heatmaps.request(views.map { HeatmapWorker.Item(path: $0.path, image: $0.image, target: LoopSession.explainedClass.classIndex) })
    }

    func submit() throws {
        guard let shown, let prediction = answer.prediction else {
            message = "First say whether the prediction is right (y) or wrong (n)."
            return
        }
        var event = FeedbackEvent(itemPath: shown.view.path, user: session.user, role: current, predictedLabel: shown.view.predictedLabel,
                                  predictedConfidence: Double(shown.view.confidence), prediction: prediction,
                                  explanation: answer.explanation)
        // A painted defect on a part the answer calls OK contradicts itself: ask, store nothing.
        if event.establishedLabel == .ok, let mask = answer.mask, !mask.isEmpty {
            message = "Your answer makes this part OK, but a defect is painted on it: n if it is NOK, else b c Enter Enter clears it."
            return
        }
        if let mask = answer.mask, !mask.isEmpty {
            event.correctedMask = try ImageFile.encodePNG(mask.image, name: "painted mask")
        }
        // A confirmed map becomes refutations only when it is complete and not flat: a flat
        // map's top 10 % is noise, not a region.
        let heatmap = heatmaps.result(for: shown.view.path).flatMap { $0.complete && !$0.display.isFlat ? $0.heatmap : nil }
        // Stored (committed to disk) before the screen moves on.
        let outcome: SubmitOutcome
        if let review = shown.review {
            do {
                outcome = try session.answerReview(review, event, heatmap: heatmap)
                reviewsAnswered += 1
            } catch let taken as ReviewAlreadyAnswered {
                message = "\(taken)."
                answer = Answer()
                editor = nil
                self.shown = nil
                try showReview()
                return
            }
        } else {
            outcome = try session.submit(event, heatmap: heatmap)
            queriesAnswered += 1
        }
        var parts = ["saved (#\(outcome.feedbackID))", sessionCounts]
        if !outcome.refutations.isEmpty { parts.append("\(outcome.refutations.count) refutations made from it") }
        if !outcome.queuedReviews.isEmpty { parts.append("near hit and near miss queued for the supervisor") }
        if outcome.retrainDue { parts.append("retraining due (\(outcome.pending)/\(session.settings.interactionsPerRound))") }
        message = parts.joined(separator: " · ")
        if shown.review != nil {
            // The next review slides into this place: open it at once.
            self.shown = nil
            let done = message
            try showReview()
            message = done + (self.shown == nil ? " · no more reviews waiting." : "")
        } else {
            try nextQuery()
        }
    }

    /// What this person did in this session, in their words.
    var sessionCounts: String {
        "this session: \(queriesAnswered + reviewsAnswered) answered" + (queriesSkipped > 0 ? ", \(queriesSkipped) skipped" : "")
    }

    /// Whether the shown item has an answer begun but not submitted.
    var hasUnsubmittedAnswer: Bool {
        shown != nil && (answer.prediction != nil || answer.explanation != nil || answer.mask != nil || editor != nil)
    }

    func pollWorkers() throws -> Bool {
        var changed = false
        let version = heatmaps.currentVersion
        if version != seenHeatmapVersion {
            seenHeatmapVersion = version
            changed = true
        }
        let retrainVersion = retrainer.currentVersion
        if retrainVersion != lastRetrainVersion {
            lastRetrainVersion = retrainVersion
            changed = true
            switch retrainer.state {
            case .finished(let round, let previous):
                // The new round is selected, so P / D (or R) act on it at once.
                selectedRound = max(0, (try session.rounds().count) - 1)
                let validation = round.metrics?.validation.mcc ?? .nan, before = previous?.metrics?.validation.mcc ?? .nan
                guard round.status == .active else {
                    message = String(format: "Round %d kept as a candidate: validation MCC %.3f < round %d's %.3f (still in use). "
                                     + "P: use it anyway, D: discard.", round.number, validation, previous?.number ?? 0, before)
                    break
                }
                try session.refresh()
                if shown?.review != nil { loadReviewPanels() }
                try heatmaps.reload(checkpoint: session.workspace.checkpointPath(of: round), explainer: try session.explainer())
                message = String(format: "Round %d trained and active: validation MCC %.3f", round.number, validation)
                    + (previous.map { String(format: " (round %d: %.3f)", $0.number, before) } ?? "")
                    + String(format: ", test MCC %.3f.", round.metrics?.test.mcc ?? .nan)
                if current == .inspector || shown == nil { try nextQuery() }
            case .failed(let reason):
                message = "Retraining stopped: \(reason)"
            default: break
            }
        }
        return changed
    }

    func retrainOptions() throws -> TrainingOptions {
        try session.roundTraining(epochs: try session.workspace.retrainEpochs)
    }

    // MARK: Input

    /// false: quit.
    func handle(_ input: CursesScreen.Input) throws -> Bool {
        if showHelp { showHelp = false; return true }
        if var editing = editor {
            switch input {
            case .up, .character("k"): editing.apply(.move(dx: 0, dy: -1))
            case .down, .character("j"): editing.apply(.move(dx: 0, dy: 1))
            case .left, .character("h"): editing.apply(.move(dx: -1, dy: 0))
            case .right, .character("l"): editing.apply(.move(dx: 1, dy: 0))
            // Capitals jump eight steps: across the image in eight presses.
            case .character("K"): editing.apply(.move(dx: 0, dy: -8))
            case .character("J"): editing.apply(.move(dx: 0, dy: 8))
            case .character("H"): editing.apply(.move(dx: -8, dy: 0))
            case .character("L"): editing.apply(.move(dx: 8, dy: 0))
            case .character(" "): editing.apply(.togglePen)
            case .character("+"), .character("="): editing.apply(.biggerBrush)
            case .character("-"): editing.apply(.smallerBrush)
            case .character("e"): editing.apply(.toggleErase)
            case .character("r"):
                editing.apply(.rectangleCorner)
                message = editing.rectangleStart != nil
                    ? "Corner set. Move to the opposite corner and press r again to fill the rectangle (e: erase it instead)."
                    : "Rectangle \(editing.erasing ? "erased" : "filled"); mask \(editing.mask.area) px."
            case .character("u"): editing.apply(.undo)
            case .character("U"), .character("\u{12}"): editing.apply(.redo)
            case .character("c"): editing.apply(.clear)
            case .character("t"):
                if let path = shown?.view.path, let result = heatmaps.result(for: path) {
                    editing.apply(.replace(SaliencyMetrics.topFraction(result.heatmap)))
                } else {
                    message = "No heatmap yet to start from."
                }
            case .mouse(let row, let column, let pressed, let released):
                if let target = mouseTarget {
                    let x = (column - target.box.column) * target.width / max(1, target.columns)
                    let y = (row - target.box.row) * target.height / max(1, target.rows)
                    editing.apply(pressed ? .press(x: x, y: y) : released ? .release(x: x, y: y) : .drag(x: x, y: y))
                }
            case .enter:
                answer.mask = editing.mask
                editor = nil
                message = editing.mask.isEmpty ? "Empty mask: nothing painted." : "Mask painted (\(editing.mask.area) pixels). Enter to submit."
                return true
            case .escape:
                editor = nil
                answer.explanation = nil
                message = "Mask editing cancelled."
                return true
            default: break
            }
            editor = editing
            return true
        }
        if let asked = confirmation {
            confirmation = nil
            guard input == .character("y") else {
                if case .revert(let selection, _) = asked, input == .character("u") {
                    // u narrows (or widens) the selection to the next person before confirming.
                    try askRevert(AnswerSelection(user: try nextUser(after: selection.user), round: selection.round))
                    return true
                }
                message = "Cancelled; nothing changed."
                return true
            }
            switch asked {
            case .rollback(let round, let waiting):
                try session.rollback(to: round)
                if shown?.review != nil { loadReviewPanels() }
                if let active = try session.workspace.activeRound() {
                    try heatmaps.reload(checkpoint: session.workspace.checkpointPath(of: active), explainer: try session.explainer())
                }
                message = "Rolled back to round \(round); later rounds are kept, marked rolled back. "
                    + "All answers stay: \(waiting) wait for the next round."
                try nextQuery()
            case .quitWhileTraining, .quitWithUnsubmittedAnswer:
                return false
            case .retrainFromScratch:
                try startRetraining(fromScratch: true)
            case .promote(let round):
                try session.promote(round: round)
                if let active = try session.workspace.activeRound() {
                    try heatmaps.reload(checkpoint: session.workspace.checkpointPath(of: active), explainer: try session.explainer())
                }
                message = "Round \(round) is active."
                if current == .inspector || shown == nil { try nextQuery() }
            case .revert(let selection, _):
                let reverted = try session.workspace.revert(selection)
                try session.refresh()
                message = "Reverted \(reverted.count) answer\(reverted.count == 1 ? "" : "s") (\(selection)); "
                    + "their items are asked again."
            }
            return true
        }
        switch input {
        case .character("q"):
            if retrainer.isRunning {
                confirmation = .quitWhileTraining
                message = "A round is training: quitting stops it and no round is recorded (every answer is saved). Quit? y / n"
                return true
            }
            if hasUnsubmittedAnswer {
                confirmation = .quitWithUnsubmittedAnswer
                message = "Your answer on \(Self.shownName(shown!.view.path)) is not submitted (Enter stores it). Quit and drop it? y / n"
                return true
            }
            return false
        case .character("?"): showHelp = true
        case .tab, .backTab:
            let screens = role.screens
            let index = screens.firstIndex(of: current) ?? 0
            current = screens[(index + (input == .tab ? 1 : screens.count - 1)) % screens.count]
            message = ""
            if current == .inspector, shown?.review != nil || shown == nil { try nextQuery() }
            if current == .supervisor { try showReview() }
        case .character("o"): showOverlay.toggle()
        case .character("t") where current != .operator: showOutline.toggle()
        default:
            switch current {
            case .inspector, .supervisor: try handleAnswerKeys(input)
            case .operator: try handleOperatorKeys(input)
            }
        }
        return true
    }

    func handleAnswerKeys(_ input: CursesScreen.Input) throws {
        if current == .supervisor {
            switch input {
            case .left, .right:
                let count = (try? session.reviewQueue().count) ?? 0
                if count > 0 { reviewIndex = (reviewIndex + (input == .right ? 1 : count - 1)) % count }
                try showReview()
                return
            case .character("f"):
                if refutationBrowser == nil, let review = try session.reviewQueue().dropFirst(reviewIndex).first ?? session.reviewQueue().first {
                    let list = try session.refutations(of: review.of)
                    refutationBrowser = list.isEmpty ? nil : (list, 0)
                    message = list.isEmpty ? "No refutations were made from \(review.of)." : ""
                } else {
                    refutationBrowser = nil
                }
                return
            case .down, .up:
                if var browser = refutationBrowser {
                    browser.index = (browser.index + (input == .down ? 1 : browser.list.count - 1)) % browser.list.count
                    refutationBrowser = browser
                }
                return
            case .character("L"):
                showLog.toggle()
                return
            case .character("u") where showLog:
                let users = Array(Set(try session.workspace.feedbackLog().map(\.user))).sorted()
                if let now = logUser, let index = users.firstIndex(of: now) {
                    logUser = index + 1 < users.count ? users[index + 1] : nil
                } else {
                    logUser = users.first
                }
                return
            default: break
            }
        }
        guard shown != nil else { return }
        switch input {
        case .character("y"):
            answer.prediction = .right
            message = "Prediction right. g: explanation right, b: wrong (paint the defect), Enter: submit."
        case .character("n"):
            answer.prediction = .wrong
            message = "Prediction wrong: the label becomes \(shown!.view.predictedLabel.other.displayName). g / b for the explanation, Enter: submit."
        case .character("g"):
            answer.explanation = .right
            answer.mask = nil
        case .character("b"):
            answer.explanation = .wrong
            editor = MaskEditor(width: shown!.view.image.width, height: shown!.view.image.height, start: answer.mask)
            message = "Paint the defect: arrows/hjkl move, space pen, +/- brush, r rectangle, e erase, u undo, t top 10 %, Enter done."
        case .character("s"):
            if let shown {
                let event = FeedbackEvent(itemPath: shown.view.path, user: session.user, role: current,
                                          predictedLabel: shown.view.predictedLabel,
                                          predictedConfidence: Double(shown.view.confidence), prediction: .skip, explanation: .skip)
                if let review = shown.review {
                    do { _ = try session.answerReview(review, event) } catch let taken as ReviewAlreadyAnswered { message = "\(taken)." }
                } else {
                    _ = try session.submit(event)
                    queriesSkipped += 1
                }
                message = "Skipped \(Self.shownName(shown.view.path)) (not counted for training) · \(sessionCounts)."
                if shown.review != nil { self.shown = nil; try showReview() } else { try nextQuery() }
            }
        case .enter: try submit()
        default: break
        }
    }

    func handleOperatorKeys(_ input: CursesScreen.Input) throws {
        let rounds = try session.rounds()
        switch input {
        case .up: selectedRound = max(0, selectedRound - 1)
        case .down: selectedRound = min(max(0, rounds.count - 1), selectedRound + 1)
        case .character("r"):
            try startRetraining(fromScratch: false)
        case .character("T"):
            if retrainer.isRunning { message = "A round is already training."; return }
            confirmation = .retrainFromScratch
            message = "Train the next round from scratch — random weights, not the active round's; it takes longer "
                + "and may start worse. y / n"
        case .character("P"), .character("D"):
            guard rounds.indices.contains(selectedRound), rounds[selectedRound].status == .candidate else {
                message = "Select a candidate round (↑/↓) first."
                return
            }
            let round = rounds[selectedRound]
            if input == .character("D") {
                try session.workspace.discard(round: round.number)
                message = "Round \(round.number) discarded; the active round stays."
            } else {
                confirmation = .promote(round.number)
                message = "Make candidate round \(round.number) active although it did worse on the validation split? y / n"
            }
        case .character("v"):
            guard rounds.indices.contains(selectedRound) else { message = "No round selected."; return }
            try askRevert(AnswerSelection(round: rounds[selectedRound].number))
        case .character("c"):
            if retrainer.isRunning { retrainer.cancel(); message = "Cancelling: no round will be recorded." }
        case .character("R"):
            guard rounds.indices.contains(selectedRound) else { return }
            let round = rounds[selectedRound]
            if round.status == .active { message = "Round \(round.number) is already active."; return }
            let waiting = try session.workspace.answersTrained(after: round.number).count
            confirmation = .rollback(to: round.number, waiting: waiting)
            message = "Roll back to round \(round.number)? Its model becomes active; later rounds are kept. Answers stay "
                + "(\(waiting) wait for the next round). y / n"
        case .character("x"):
            let folder = session.workspace.newExportFolder()
            let summary = try session.workspace.export(to: folder, format: .folders)
            message = "Exported \(summary.images) labelled images and \(summary.masks) masks to \(folder)."
        default: break
        }
    }

    func startRetraining(fromScratch: Bool) throws {
        if retrainer.isRunning { message = "A round is already training."; return }
        retrainer.start(workspacePath: workspacePath, user: session.user, options: try retrainOptions(), fromScratch: fromScratch)
        message = "Training the next round\(fromScratch ? " from scratch" : "") in the background; the other screens stay usable."
    }

    /// Asks before reverting what `selection` picks; the answers are listed on the screen.
    func askRevert(_ selection: AnswerSelection) throws {
        let chosen = try session.workspace.answers(matching: selection)
        guard !chosen.isEmpty else {
            message = "No standing answers for \(selection); nothing to revert."
            return
        }
        confirmation = .revert(selection, count: chosen.count)
        message = "Revert \(chosen.count) answer\(chosen.count == 1 ? "" : "s") (\(selection), listed)? y: revert · u: next person · "
            + "other key: cancel"
    }

    /// The person after `user` among those with answers (nil: everyone, after the last).
    func nextUser(after user: String?) throws -> String? {
        let users = Array(Set(try session.workspace.feedbackLog().map(\.user))).sorted()
        guard let user, let index = users.firstIndex(of: user) else { return users.first }
        return index + 1 < users.count ? users[index + 1] : nil
    }

    func showReview() throws {
        answer = Answer()
        editor = nil
        let reviews = try session.reviewQueue()
        guard !reviews.isEmpty else {
            shown = nil
            return
        }
        reviewIndex = min(reviewIndex, reviews.count - 1)
        let review = reviews[reviewIndex]
        shown = Shown(view: try session.view(of: review.path), query: nil, review: review)
        loadReviewPanels()
        requestHeatmaps()
        message = Self.reviewQuestion(review, view: shown!.view)
    }

    /// How the screens name an item: its file name only. The folders of a labelled data set
    /// (ok/, nok/, test/crack/) would tell the inspector the answer before they look.
    static func shownName(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }

    /// What the supervisor decides on a review, in words.
    static func reviewQuestion(_ review: Review, view: ItemView) -> String {
        let kind = review.reason == .nearHit ? "most like the query, same class" : "most like the query, other class"
        let name = review.reason.displayName
        return "\(name.prefix(1).uppercased() + name.dropFirst()) (\(kind)): model says \(view.predictedLabel.displayName) "
            + String(format: "%.2f", view.confidence) + ". Right (y) or wrong (n)? Then g/b, Enter."
    }

    /// The supervisor's four panels: the query, near hit, near miss, farthest.
    /// Loads the supervisor's four panels — the query, near hit, near miss, farthest — once
    /// per review (and after a model change), not on every redraw: each view reads an image.
    func loadReviewPanels() {
        reviewPanels = (try? supervisorViews()) ?? []
        queryMask = (shown?.review).flatMap { try? session.workspace.paintedMask(of: $0.of) }
    }

    func supervisorViews() throws -> [ItemView?] {
        guard let review = shown?.review else { return [] }
        let query = try? session.view(of: review.of)
        let neighbours = try? session.neighbours(of: review.of)
        let hit = (neighbours?.nearHit?.path).flatMap { try? session.view(of: $0) }
        let miss = (neighbours?.nearMiss?.path).flatMap { try? session.view(of: $0) }
        let far = (neighbours?.farthest?.path).flatMap { try? session.view(of: $0) }
        return [query, review.reason == .nearHit ? shown?.view : hit, review.reason == .nearMiss ? shown?.view : miss, far]
    }

    // MARK: Drawing

    func writeRaw(_ text: String) { writeRaw(Array(text.utf8)) }

    func writeRaw(_ bytes: [UInt8]) {
        guard let output = terminalOutput else { return }
        fflush(output)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fileno(output), $0.baseAddress, $0.count) }
            if written <= 0 { if errno == EINTR { continue } else { return } }
            offset += written
        }
    }

    func draw() {
        screen.clear()
        rawImages = []
        mouseTarget = nil
        let (rows, columns) = screen.size
        let layout = Layout(rows: rows, columns: columns)
        if layout.isTooSmall {
            let text = "Enlarge the terminal to at least \(Layout.minimumColumns)×\(Layout.minimumRows) (now \(columns)×\(rows))."
            screen.put(text, row: rows / 2, column: max(0, (columns - text.count) / 2), bold: true)
            screen.refresh()
            return
        }
        let tabs = role.screens.count > 1
            ? " · screens (Tab): " + role.screens.map { $0 == current ? "[\($0.rawValue)]" : $0.rawValue }.joined(separator: " ") : ""
        let pending = (try? session.pendingFeedback()) ?? 0
        // What a person acts on first; the workspace's folder last, where a long path may be cut.
        screen.put(String(" NearCAIPI · \(session.user), \(role.rawValue)\(tabs) · answers pending \(pending)/\(session.settings.interactionsPerRound) · \(workspacePath)"
                          .prefix(columns)), row: 0, column: 0, reverse: true)
        if case .running(let epoch, let of, let loss) = retrainer.state {
            let done = of > 0 ? epoch * 20 / of : 0
            screen.put("training [" + String(repeating: "#", count: done) + String(repeating: ".", count: 20 - done)
                       + String(format: "] epoch %d/%d loss %.3f", epoch, of, loss), row: 1, column: 1, bold: true)
        }
        if showHelp {
            drawHelp(layout)
        } else {
            switch current {
            case .inspector: drawInspector(layout)
            case .supervisor: drawSupervisor(layout)
            case .operator: drawOperator(layout)
            }
        }
        screen.put(message, row: layout.messageRow, column: 1)
        screen.put(Self.fitted(hints, columns: columns), row: layout.hintRow, column: 0, dim: true)
        // A picture that vanished or changed its place or size leaves pixels that ncurses
        // does not know of: the whole terminal is cleared and repainted, pictures included.
        // Otherwise only pictures that changed are sent: the others are still on the glass,
        // as the text cells under them stayed blank.
        let places = Set(rawImages.map(\.place))
        if sentImages.contains(where: { !places.contains($0.place) }) {
            screen.invalidate()
            resendImages = true
        }
        screen.refresh()
        let previous = Set(sentImages.map(\.identity))
        let due = rawImages.filter { resendImages || !previous.contains($0.identity) }
        if !due.isEmpty {
            var bytes = Array("\u{1B}7".utf8)
            for image in due {
                bytes += Array("\u{1B}[\(image.row + 1);\(image.column + 1)H".utf8)
                bytes += image.bytes
            }
            bytes += Array("\u{1B}8".utf8)
            writeRaw(bytes)
        }
        sentImages = rawImages
        resendImages = false
    }

    /// A key line that fits `columns`: whole items from the start, then "? all keys" — never
    /// a word cut in half.
    static func fitted(_ hints: String, columns: Int) -> String {
        guard hints.count > columns else { return hints }
        let tail = " · ? all keys"
        var kept = ""
        for item in hints.components(separatedBy: " · ") {
            let next = kept.isEmpty ? item : kept + " · " + item
            if next.count + tail.count > columns { break }
            kept = next
        }
        return String((kept + tail).prefix(columns))
    }

    var hints: String {
        if editor != nil { return " arrows/hjkl move (HJKL jump) · space pen · +/- brush · r rect · e erase · u undo · U redo · c clear · t top10% · Enter done · Esc cancel" }
        if let confirmation {
            if case .revert = confirmation { return " y revert them · u next person · any other key cancels" }
            return " y yes · any other key cancels"
        }
        switch current {
        case .inspector: return " y/n prediction right/wrong · g/b explanation right/wrong · Enter submit · s skip · o overlay · t outline · Tab screens · ? help · q quit"
        case .supervisor: return " ←/→ review · y/n g/b Enter answer · f refutations · L log (u user) · o t · Tab · ? · q"
        case .operator: return " r retrain · T from scratch · c cancel · ↑/↓ round · R rollback · P/D promote/discard candidate · v revert · x export · Tab · ? · q"
        }
    }


    /// The overlay of `view`'s heatmap (this map's own min–max, or neutral grey when the map
    /// is flat), with the top-10 % outline of a map that is not flat; and a line saying what
    /// it shows.
    func overlay(for view: ItemView, compact: Bool = false) -> (Image, String) {
        guard let result = heatmaps.result(for: view.path) else { return (view.image.rgb(), "heatmap: computing…") }
        let display = result.display
        var image = display.overlay(on: view.image, heatmap: result.heatmap, colorMap: heatmapColors,
                                    opacity: graphics == .ascii ? 0.85 : 0.5)
        if showOutline && !display.isFlat {
            let top = SaliencyMetrics.topFraction(result.heatmap)
            for y in 0..<top.height { for x in 0..<top.width where top[y, x] {
                let edge = y == 0 || x == 0 || y == top.height - 1 || x == top.width - 1
                    || !top[y - 1, x] || !top[y + 1, x] || !top[y, x - 1] || !top[y, x + 1]
                if edge { for c in 0..<3 { image[c, y, x] = 1 } }
            } }
        }
        // A map that stopped before its last mask was measured well enough (the convergence stop).
        let masks = result.masksDone < heatmaps.masks ? "\(result.masksDone) masks, enough" : "\(result.masksDone) masks"
        let state = result.complete ? (compact ? masks : "InvRISE of NOK, \(masks)") : "heatmap: \(result.masksDone)/\(heatmaps.masks) masks…"
        return (image, "\(state) · \(compact ? display.shortCaption : display.caption)")
    }

    /// Draws `image` fitted into `box`; returns the drawn size in cells.
    @discardableResult
    func drawImage(_ image: Image, in box: Layout.Panel, marking: MaskMarking? = nil) -> (columns: Int, rows: Int) {
        let fit = CellRenderer.fit(width: image.width, height: image.height, columns: box.columns, rows: box.rows)
        guard fit.columns > 0 else { return fit }
        let picture = marking?.drawn(on: image) ?? image.rgb()
        switch graphics {
        case .sixel:
            // Pixels per cell: the kernel's window size follows font changes, then what the
            // terminal reported, then xterm's default.
            let cell = terminalOutput.flatMap { CellSize.fromWindowSize(of: fileno($0)) } ?? terminal.cellSize ?? .assumed
            let room = (width: box.columns * cell.width, height: box.rows * cell.height / 6 * 6)
            let fit = min(Double(room.width) / Double(image.width), Double(room.height) / Double(image.height))
            // Enlarged by a whole factor (every pixel a crisp block, quantised once at its own
            // size), reduced by area averaging; whole sixel bands (6 pixel rows) only, so the
            // last band never reaches below the box.
            var source = picture, scale = max(1, Int(fit))
            while scale > 1, (image.height * scale + 5) / 6 * 6 > room.height { scale -= 1 }
            if fit < 1 {
                source = picture.areaResized(width: max(1, Int(Double(image.width) * fit)),
                                             height: max(6, Int(Double(image.height) * fit) / 6 * 6))
            }
            var hasher = Hasher()
            hasher.combine(scale)
            hasher.combine(source.width)
            source.pixels.withUnsafeBytes { hasher.combine(bytes: $0) }
            let key = hasher.finalize()
            let registers = min(SixelEncoder.defaultRegisters, terminal.colorRegisters ?? SixelEncoder.defaultRegisters)
            let bytes = sixelCache[key] ?? SixelEncoder.encode(source, scale: scale, registers: registers)
            if sixelCache.count > 16 { sixelCache.removeAll() }
            sixelCache[key] = bytes
            let size = (width: source.width * scale, height: source.height * scale)
            let drawn = ((size.width + cell.width - 1) / cell.width, (size.height + cell.height - 1) / cell.height)
            rawImages.append(RawImage(row: box.row, column: box.column, columns: drawn.0, rows: drawn.1, key: key, bytes: bytes))
            return drawn
        case .halfblock:
            let grid = CellRenderer.halfBlock(picture, columns: fit.columns, rows: fit.rows)
            if truecolor {
                let bytes = Array(CellRenderer.truecolorSequence(grid, row: box.row, column: box.column).utf8)
                rawImages.append(RawImage(row: box.row, column: box.column, columns: grid.columns, rows: grid.rows,
                                          key: bytes.hashValue, bytes: bytes))
            } else {
                for row in 0..<grid.rows {
                    for column in 0..<grid.columns {
                        let cell = grid[row, column]
                        let pair = screen.pair(foreground: cell.foreground?.xterm256 ?? -1, background: cell.background?.xterm256 ?? -1)
                        screen.putCell(cell.character, row: box.row + row, column: box.column + column, pair: pair)
                    }
                }
            }
        case .ascii:
            let grid = CellRenderer.ascii(picture, columns: fit.columns, rows: fit.rows)
            for row in 0..<grid.rows {
                var line = String(grid.cells[(row * grid.columns)..<((row + 1) * grid.columns)].map(\.character))
                if let marking {
                    // Painted cells as X, the brush as O: shapes survive without colour.
                    line = String(line.enumerated().map { column, character -> Character in
                        let x = column * image.width / grid.columns, y = row * image.height / grid.rows
                        if let brush = marking.brush, abs(x - brush.x) <= max(brush.radius, image.width / grid.columns / 2)
                            && abs(y - brush.y) <= max(brush.radius, image.height / grid.rows / 2) { return "O" }
                        return marking.mask[min(image.height - 1, y), min(image.width - 1, x)] ? "X" : character
                    })
                }
                screen.put(line, row: box.row + row, column: box.column)
            }
        }
        return fit
    }

    func drawInspector(_ layout: Layout) {
        guard let shown else { return }
        let view = shown.view
        // While painting: the mask, the brush and a rectangle being drawn; once done, the
        // painted region stays marked until the answer is submitted.
        let marking = editor.map(MaskMarking.init(editor:)) ?? answer.mask.flatMap { $0.isEmpty ? nil : MaskMarking(mask: $0) }
        let drawn = drawImage(view.image, in: layout.leftImage, marking: marking)
        mouseTarget = (layout.leftImage, view.image.width, view.image.height, drawn.columns, drawn.rows)
        let (overlayImage, state) = overlay(for: view)
        let overlayDrawn = drawImage(showOverlay ? overlayImage : view.image, in: layout.rightImage)
        // The bar is as tall as the picture beside it, and the text starts right under them.
        var bar = layout.colorBar
        bar.rows = max(2, min(bar.rows, max(drawn.rows, overlayDrawn.rows)))
        drawColorBar(bar, flat: heatmaps.result(for: view.path)?.display.isFlat ?? false)
        var d = layout.details
        d.row = min(d.row, layout.leftImage.row + max(drawn.rows, overlayDrawn.rows, bar.rows) + 1)
        let answered = answer.prediction.map { "prediction \($0.rawValue)" } ?? "prediction ?"
        let explained = answer.explanation.map { "explanation \($0.rawValue)" } ?? "explanation ?"
        screen.put("item: \(Self.shownName(view.path))", row: d.row, column: d.column, bold: true)
        screen.put(String(format: "predicted: %@ %.2f  ·  %@", view.predictedLabel.displayName, view.confidence, state), row: d.row + 1, column: d.column)
        let left = session.pool.predictions.count - queriesAnswered
        screen.put("query \(queriesAnswered + 1) · about \(max(0, left)) in the pool · your answer: \(answered), \(explained)\(answer.mask.map { ", mask \($0.area) px" } ?? "")",
                   row: d.row + 2, column: d.column)
    }

    var heatmapColors: ColorMap { graphics.heatmapColors }

    /// The colour bar beside the overlay; a flat map has no hi and lo, so its bar is the same
    /// neutral grey as its overlay, unlabelled.
    func drawColorBar(_ box: Layout.Panel, flat: Bool = false) {
        // Sixel: one bar pixel per screen pixel, so the bar ends where the picture beside it
        // ends (a whole-factor enlargement of a short bar would stop short of it).
        let cell = terminalOutput.flatMap { CellSize.fromWindowSize(of: fileno($0)) } ?? terminal.cellSize ?? .assumed
        let height = graphics == .sixel ? max(6, box.rows * cell.height / 6 * 6) : max(2, box.rows * 2)
        let width = graphics == .sixel ? max(1, cell.width - 2) : 1
        let bar = flat ? Image(width: width, height: height, channels: 3, filledWith: 0.5) : heatmapColors.bar(width: width, height: height)
        // The bar image runs from high (top) to low.
        drawImage(bar, in: Layout.Panel(row: box.row, column: box.column, rows: box.rows, columns: 1))
        if !flat {
            // One cell clear of the bar: a sixel bar may spill a few pixels past its cell.
            screen.put("hi", row: box.row, column: box.column + 2, dim: true)
            screen.put("lo", row: box.row + box.rows - 1, column: box.column + 2, dim: true)
        }
    }

    func drawSupervisor(_ layout: Layout) {
        if showLog { drawLog(layout); return }
        let reviews = (try? session.reviewQueue()) ?? []
        guard let shown, let review = shown.review else {
            screen.put(reviews.isEmpty ? "No near hits or misses waiting for review. They appear when an inspector says a prediction was wrong."
                                       : "←/→ to open a review.", row: 3, column: 2)
            return
        }
        screen.put("review \(reviewIndex + 1) of \(reviews.count): \(review.reason.displayName) of \(Self.shownName(review.of)), "
                   + "whose prediction an inspector said was wrong", row: 2, column: 1, bold: true)
        let views = reviewPanels
        let names = ["query (as labelled)", "near hit", "near miss", "farthest"]
        // Why a panel can be empty.
        let missing = ["the query is no longer in the workspace", "no other pool part of the query's class",
                       "no pool part of the other class", "no other pool part"]
        for (index, box) in layout.quadrants.enumerated() {
            let title = names[index]
            guard index < views.count, let view = views[index] else {
                screen.put(String("\(title): none — \(missing[index])".prefix(box.columns - 1)), row: box.row - 1, column: box.column, dim: true)
                continue
            }
            if index == 0, let browser = refutationBrowser {
                let item = browser.list[browser.index]
                if let image = try? session.itemImage(item.path) {
                    drawImage(image, in: box)
                    screen.put(String("refutation \(browser.index + 1)/\(browser.list.count): \(item.transform)".prefix(box.columns)),
                               row: box.row - 1, column: box.column, bold: true)
                }
                continue
            }
            if index == 0 {
                // The query as the inspector saw it: the part itself, with the region they
                // painted (if any) — not a heatmap over it.
                let painted = queryMask.flatMap { $0.isEmpty ? nil : $0.resized(width: view.image.width, height: view.image.height) }
                drawImage(view.image, in: box, marking: painted.map(MaskMarking.init(mask:)))
                let label = view.knownLabel.map { "labelled \($0.displayName)" } ?? "not labelled"
                let heading = "\(title): \(label)\(painted != nil ? ", defect painted (red outline)" : ", no defect painted")"
                screen.put(String(heading.prefix(box.columns - 1)), row: box.row - 1, column: box.column)
                continue
            }
            let selected = view.path == shown.view.path
            let (image, state) = overlay(for: view, compact: true)
            let drawn = drawImage(showOverlay ? image : view.image, in: box, marking: selected ? editor.map(MaskMarking.init(editor:)) : nil)
            if selected { mouseTarget = (box, view.image.width, view.image.height, drawn.columns, drawn.rows) }
            let known = view.knownLabel.map { " · labelled \($0.displayName)" } ?? ""
            let heading = String(format: "%@%@: %@ %.2f%@ · %@", selected ? "▶ " : "", title, view.predictedLabel.displayName, view.confidence, known, state)
            // One cell short of the panel: a title never runs into the next panel's.
            screen.put(String(heading.prefix(box.columns - 1)), row: box.row - 1, column: box.column, bold: selected)
        }
    }

    func drawLog(_ layout: Layout) {
        let rows = ((try? session.workspace.feedbackLog()) ?? []).filter { logUser == nil || $0.user == logUser }
        drawAnswers(rows, title: "feedback log\(logUser.map { " of \($0)" } ?? " (all users)")", layout: layout)
    }

    /// Answers as a table with headings, newest last, times in the local time zone.
    func drawAnswers(_ rows: [FeedbackRecord], title: String, layout: Layout) {
        screen.put("\(title) — \(rows.count) answer\(rows.count == 1 ? "" : "s")", row: 2, column: 1, bold: true)
        let lines = Self.answersTable(rows)
        screen.put(lines[0], row: 3, column: 1, bold: true)
        let room = max(0, layout.messageRow - 5)
        for (offset, line) in lines.dropFirst().suffix(room).enumerated() {
            screen.put(line, row: 4 + offset, column: 1, dim: line.hasSuffix("reverted"))
        }
    }

    static func answersTable(_ rows: [FeedbackRecord]) -> [String] {
        let parse = ISO8601DateFormatter()
        let local = DateFormatter()
        local.dateFormat = "yyyy-MM-dd HH:mm"
        func cell(_ text: String, _ width: Int) -> String { text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }
        let itemWidth = min(40, max(4, rows.map(\.itemPath.count).max() ?? 4) + 1)
        var lines = [cell("#", 6) + cell("time", 17) + cell("who", 14) + cell("role", 11) + cell("item", itemWidth)
                     + cell("prediction", 11) + cell("explanation", 12) + cell("label", 6) + "mask"]
        for row in rows {
            let time = parse.date(from: row.time).map(local.string(from:)) ?? row.time
            lines.append(cell(String(row.id), 6) + cell(time, 17) + cell(row.user, 14) + cell(row.role?.rawValue ?? "–", 11)
                         + cell(row.itemPath, itemWidth) + cell(row.prediction?.rawValue ?? "–", 11)
                         + cell(row.explanation?.rawValue ?? "–", 12) + cell(row.establishedLabel?.displayName ?? "–", 6)
                         + (row.hasCorrectedMask ? "yes" : "–") + (row.reverted ? "  reverted" : ""))
        }
        return lines
    }

    /// The rounds as a table in fixed columns (numbers right-aligned under their headings), with
    /// each round's change in test MCC from the round before it.
    static func roundsTable(_ rounds: [Round]) -> [String] {
        func cell(_ text: String, _ width: Int, left: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + padding : padding + text
        }
        func number(_ value: Double?) -> String { value.map { $0.isFinite ? String(format: "%.3f", $0) : "–" } ?? "–" }
        func change(_ value: Double?, from previous: Double?) -> String {
            guard let value, let previous, value.isFinite, previous.isFinite else { return "" }
            return String(format: "%+.3f", value - previous)
        }
        let widths = (round: 5, status: 12, size: 10, number: 9)
        var lines = [cell("round", widths.round) + "  " + cell("status", widths.status, left: true) + cell("train size", widths.size)
                     + cell("val MCC", widths.number) + cell("test acc", widths.number) + cell("F1", widths.number)
                     + cell("MCC", widths.number) + cell("Δ MCC", widths.number)]
        for (index, round) in rounds.enumerated() {
            // Compared with the model in use before it: the last earlier round that went live
            // (a candidate or a discarded round never was).
            let before = rounds[..<index].last { ![.candidate, .discarded, .failed].contains($0.status) }?.metrics
            let m = round.metrics
            lines.append(cell(String(round.number), widths.round) + "  " + cell(round.status.displayName, widths.status, left: true)
                         + cell(String(round.trainingSize), widths.size) + cell(number(m?.validation.mcc), widths.number)
                         + cell(number(m?.test.accuracy), widths.number) + cell(number(m?.test.f1), widths.number)
                         + cell(number(m?.test.mcc), widths.number) + cell(change(m?.test.mcc, from: before?.test.mcc), widths.number))
        }
        return lines
    }

    func drawOperator(_ layout: Layout) {
        let rounds = (try? session.rounds()) ?? []
        let metrics = rounds.map(\.metrics)
        if case .revert(let selection, _) = confirmation {
            drawAnswers((try? session.workspace.answers(matching: selection)) ?? [], title: "would be reverted: \(selection)", layout: layout)
            return
        }
        let table = Self.roundsTable(rounds)
        screen.put(table[0], row: 3, column: 2, bold: true)
        for (index, line) in table.dropFirst().enumerated() {
            screen.put(line, row: 4 + index, column: 2, reverse: index == selectedRound)
            if 4 + index >= layout.messageRow - 6 { break }
        }
        let chartRow = min(layout.messageRow - 5, 5 + rounds.count)
        let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        for (offset, (name, key)) in [("acc", \ClassificationMetrics.accuracy), ("F1 ", \ClassificationMetrics.f1), ("MCC", \ClassificationMetrics.mcc)].enumerated() {
            let line = metrics.map { m -> Character in
                guard let value = m?.test[keyPath: key], value.isFinite else { return " " }
                return bars[max(0, min(7, Int((max(0, value) * 7).rounded())))]
            }
            screen.put("\(name) across rounds  \(String(line))", row: chartRow + offset, column: 2)
        }
        let pending = (try? session.pendingFeedback()) ?? 0
        screen.put("answers pending: \(pending) of \(session.settings.interactionsPerRound) per round\(pending >= session.settings.interactionsPerRound ? " — retraining due" : "")",
                   row: chartRow + 3, column: 2)
        let settings = session.settings
        if chartRow + 4 < layout.messageRow {
            screen.put("heatmaps: InvRISE of NOK, fill \(settings.heatmapFill.rawValue), up to \(settings.heatmapMasks) masks, grid \(settings.heatmapGrid) (nearcaipi label --fill NAME changes the fill)",
                       row: chartRow + 4, column: 2, dim: true)
        }
    }

    func drawHelp(_ layout: Layout) {
        let lines = [
            "Inspector: y / n  the prediction is right / wrong (wrong flips the label)",
            "           g / b  the explanation is right / wrong (b opens the mask editor)",
            "           Enter  submit (stored at once) · s skip · o overlay · t top-10 % outline",
            "Mask editor: arrows or hjkl move the brush · space pen down/up · mouse paints",
            "           HJKL jump eight steps · + / - brush size · r rectangle corners · e erase mode",
            "           u undo · U redo",
            "           c clear · t start from the heatmap's top 10 % · Enter done · Esc cancel",
            "Supervisor: ←/→ next review · y/n g/b Enter answer it · f refutations (↑/↓)",
            "           L feedback log · u filter by user",
            "Operator:  r retrain (fine-tune) · T from scratch · c cancel · ↑/↓ select round",
            "           R roll back to the selected round (asks; answers stay) · x export",
            "           v revert the answers the selected round trained on (lists them, asks; u: by person)",
            "           P / D promote / discard the selected candidate (a round worse on validation)",
            "Everywhere: Tab next screen · ? this help · q quit          (any key closes help)",
            "Heatmap:   red (hi) = hiding that region behind a normal part's pixels lowers P(NOK)",
            "           most: what the NOK decision hinges on; blue (lo) = lowers it least. The",
            "           line below says by how much, and the contrast (over the noise of the",
            "           random masks). Grey \"flat\" = no region decides it.",
        ]
        for (offset, line) in lines.enumerated() where 2 + offset < layout.messageRow {
            screen.put(line, row: 2 + offset, column: 2)
        }
    }
}
