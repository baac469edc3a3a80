import Explanations
import Foundation
import Imaging
import NearCAIPI
import NeuralNet
#if canImport(Glibc)
import Glibc
#endif

/// Set by the signal handlers; the UI loop polls it and leaves cleanly (endwin, mouse off).
nonisolated(unsafe) private var pendingSignal: Int32 = 0

/// `nearcaipi label`: the interactive loop in the terminal. The shell around `ScreenState`:
/// it owns curses and the workers, reads keys into the state machine, carries out the effects
/// it returns against the session, and draws the state through the per-screen renderers. One
/// UI thread owns curses and the session; heatmaps and retraining run on worker threads and
/// hand results back through locked state that the loop polls every 50 ms.
public final class LabelApp {
    let session: LoopSession
    /// What the workers open their own connections with: the folder, or the server address
    /// (which may hold a password: never shown — the screens show `workspace.name`).
    let workspacePath: String
    let graphics: GraphicsMode
    let truecolor: Bool
    let terminal: TerminalReport
    var screen: CursesScreen!
    var painter: Painter!
    var terminalOutput: UnsafeMutablePointer<FILE>?
    var terminalInput: UnsafeMutablePointer<FILE>?
    var heatmaps: HeatmapWorker!
    let retrainer = TrainingWorker()

    /// Everything keys change.
    var state: ScreenState
    /// Shown in the message line until the first key.
    let notice: String?
    /// The next queries by the same ranking, whose heatmaps are computed ahead.
    var upcoming: [ItemView] = []
    /// The query whose followers are still to be read (`loadUpcoming`).
    var upcomingDue: Query?
    /// The open review's four panels (query, near hit, near miss, farthest) and the region
    /// painted on its query, read once per review and after a model change.
    var reviewPanels: [ItemView?] = []
    var queryMask: BinaryMask?
    /// The picture the mouse paints on in this frame.
    var mouseTarget: MouseTarget?

    var lastRetrainVersion = 0
    /// What the saved pretraining state says, for the operator's round 0 line: read when the
    /// screens start, when the worker's job changes and when the workspace changed — not per
    /// frame (the state file holds the whole network).
    var savedPretraining: PretrainingSummary?
    /// Round 0's anomaly scores of the pool: standing out, and scored (defect pretext only).
    var savedAnomaly: (above: Int, pool: Int)?

    /// Reads what the operator's round 0 line says: the pretraining state and, when round 0
    /// scored the parts, how the pool ranks (read once per change, not per frame).
    func readRoundZero() {
        savedPretraining = try? session.workspace.pretrainingSummary()
        let scores = (try? session.workspace.poolAnomalyScores()) ?? []
        savedAnomaly = scores.isEmpty ? nil : (scores.filter(\.standsOut).count, scores.count)
    }
    var seenHeatmapVersion = -1
    /// The round whose model the heatmaps and the pool predictions come from.
    var loadedRound = 0
    /// That round's pass / review / reject cuts (nil: it has none), read when it is loaded.
    var loadedCuts: OperatingPoint?
    /// The workspace's change counter when last read, and when it was read.
    var seenChanges = -1
    var changesReadAt = Date.distantPast
    /// On a server workspace, the thread that hears other stations' commits (`NewsListener`);
    /// nil on a folder, whose change counter is read once a second.
    var news: NewsListener?
    /// Where the screens read the time.
    let clock: () -> Date
    /// Pictures written straight to the terminal after ncurses' refresh (sixel, 24-bit
    /// half-block) in the previous frame.
    var sentImages: [RawImage] = []
    /// Set after a resize or anything else that repaints the whole terminal.
    var resendImages = true

    /// `notice`: a first message for the person (why the pictures are drawn as they are).
    /// `clock`: the time, as the screens read it (tests move it by hand).
    public init(workspace: Workspace, user: String, role: Role, graphics: GraphicsMode, truecolor: Bool,
                terminal: TerminalReport = TerminalReport(), notice: String? = nil, clock: @escaping () -> Date = Date.init) throws {
        session = try LoopSession(workspace: workspace, user: user)
        self.clock = clock
        // Workers open their own connections with it: a folder, or a server address.
        workspacePath = workspace.address.text
        self.graphics = graphics
        self.truecolor = truecolor
        self.terminal = terminal
        // Everyone starts on the inspector screen — a supervisor on the reviews when some wait
        // (`start`); Tab reaches the others the role has.
        state = ScreenState(user: user, role: role)
        self.notice = notice
    }

    /// Runs until the user quits or a signal arrives; returns the exit status. The terminal
    /// is restored on every path.
    public func run() throws -> Int32 {
        // Ctrl-\ (SIGQUIT) is taken as Ctrl-C: by default it printed the runtime's crash
        // report over the screen and ended the program on the next key, answer and all.
        // Unblocked too: a blocked mask is inherited across exec, and a request that stays
        // pending is never seen.
        var caught = sigset_t()
        sigemptyset(&caught)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            sigaddset(&caught, number)
            signal(number) { pendingSignal = $0 == SIGQUIT ? SIGINT : $0 }
        }
        pthread_sigmask(SIG_UNBLOCK, &caught, nil)
        defer { finish() }
        try start(terminalType: ProcessInfo.processInfo.environment["TERM"] ?? "xterm",
                  inputDescriptor: STDIN_FILENO, outputDescriptor: STDOUT_FILENO)
        var interrupted = false
        while true {
            if pendingSignal == SIGINT {
                // Ctrl-C asks as q does when an answer is begun or a run trains.
                pendingSignal = 0
                if try perform(state.interrupted(facts: LiveFacts(app: self))) == false { interrupted = true; break }
                draw()
                continue
            }
            if pendingSignal != 0 { break }
            if try step(screen.read()) == false { break }
        }
        // Everything confirmed is already stored (or kept in unstored-answers/); the lease is
        // given back (or expires on its own).
        if let query = state.shown?.query { try? session.release(query) }
        if pendingSignal != 0 { return 128 + pendingSignal }
        return interrupted ? 130 : 0
    }

    /// Starts the heatmap worker and curses on the terminal behind the two descriptors (the
    /// process's own, or a pseudo-terminal in the benchmark) and draws the first query.
    /// `finish()` undoes it, also after a failure half-way.
    func start(terminalType: String, inputDescriptor: Int32, outputDescriptor: Int32) throws {
        guard let round = try session.workspace.activeRound() else {
            throw WorkspaceError.noTrainedModel(session.workspace.name)
        }
        heatmaps = try HeatmapWorker(checkpoint: session.workspace.checkpointPath(of: round), ownMaps: round.trainedItsDefectMap,
                                     explainer: session.explainerWithoutNormalParts(), readNormalParts: normalPartsReader)
        loadedRound = round.number
        loadedCuts = round.metrics?.operatingPoint
        readRoundZero()
        guard let output = fdopen(dup(outputDescriptor), "w"), let input = fdopen(dup(inputDescriptor), "r") else {
            throw TerminalError(message: "cannot open the terminal streams")
        }
        terminalOutput = output
        terminalInput = input
        screen = try CursesScreen(terminalType: terminalType, output: output, input: input)
        painter = Painter(screen: screen, graphics: graphics, truecolor: truecolor, terminal: terminal, outputDescriptor: fileno(output))
        screen.configureForInteraction(timeout: 50, mouse: true)
        writeRaw("\u{1B}[?1002h")
        // Sixel scrolling mode (DECSDM reset): a picture starts at the cursor. With DECSDM
        // set (xterm's sixelScrolling: false) every picture would land at the top left.
        if graphics == .sixel { writeRaw("\u{1B}[?80l") }
        // Answers the store refused in an earlier session go in first.
        let kept = session.storeKeptAnswers()
        let waitingReviews = state.role == .supervisor ? try session.reviewQueue().count : 0
        if waitingReviews > 0 {
            state.current = .supervisor
            try openReview()
            state.keepingMessage("\(waitingReviews) review\(waitingReviews == 1 ? "" : "s") waiting", then: state.message)
        } else {
            try openNextQuery()
            if state.role == .supervisor {
                state.message = "No near hit or near miss waits for review yet: inspector queries meanwhile (Tab: the supervisor screen)."
            }
        }
        if let notice { state.message = notice }
        if let report = Self.keptAnswersMessage(kept) { state.message = state.message.isEmpty ? report : report + " · " + state.message }
        if session.workspace.isOnServer {
            news = NewsListener(workspaceAddress: workspacePath)
            seenChanges = 0
        } else {
            seenChanges = (try? session.workspace.changesByOthers) ?? -1
        }
        draw()
    }

    /// One turn of the loop: hands `input` to the state machine, carries out what it asks,
    /// takes the workers' results, redraws what changed. false when the user quits.
    func step(_ input: CursesScreen.Input) throws -> Bool {
        try loadUpcoming()
        var changed = false
        let layout = Layout(rows: screen.size.rows, columns: screen.size.columns)
        switch input {
        case .none: break
        case .resize:
            screen.invalidate()
            resendImages = true
            changed = true
        case .wheel(let row, let column, let up) where !layout.isTooSmall:
            // Zooms about the photo pixel under the pointer, when it is over the picture.
            if let target = mouseTarget, target.covers(row: row, column: column) {
                let pixel = target.pixel(row: row, column: column)
                state.zoom(in: up, about: pixel)
                changed = true
            }
        case .mouse(let row, let column, let pressed, let released) where state.editor != nil && !layout.isTooSmall:
            if let target = mouseTarget {
                let pixel = target.pixel(row: row, column: column)
                state.paint(atPixel: pixel.x, pixel.y, pressed: pressed, released: released)
                changed = true
            }
        default:
            // A key on a query is work on it: its lease is kept (a part taken meanwhile is
            // left to the store's one-answer rule, which says so on Enter).
            if let query = state.shown?.query, let kept = try? session.keepLeased(query), kept.expires != query.expires {
                state.shown?.query = kept
            }
            let effects = try state.handle(input, facts: LiveFacts(app: self), isTooSmall: layout.isTooSmall)
            if try perform(effects) == false { return false }
            // Below the minimum size a key can still ask (q) or answer a question: redrawn,
            // so the question shown there comes and goes with it.
            changed = true
        }
        if try pollWorkers() { changed = true }
        if try pollWorkspace() { changed = true }
        if changed { draw() }
        return true
    }

    /// Restores the terminal first (mouse reporting off, `endwin`), then stops the workers
    /// and waits for them, so no thread is inside OpenBLAS when the process exits.
    func finish() {
        if let screen {
            writeRaw("\u{1B}[?1002l\u{1B}[?1006l")
            if graphics == .kitty { writeRaw(KittyEncoder.deleteAll) }
            screen.end()
        }
        heatmaps?.stop()
        news?.stop()
        retrainer.cancelAndWait()
        for stream in [terminalOutput, terminalInput] { if let stream { fclose(stream) } }
        terminalOutput = nil
        terminalInput = nil
    }

    // MARK: Effects

    /// Carries out `effects` in order; false: quit.
    func perform(_ effects: [ScreenEffect]) throws -> Bool {
        for effect in effects {
            switch effect {
            case .quit:
                return false
            case .store(let submission):
                try store(submission)
            case .openNextQuery:
                try openNextQuery()
            case .resumeQuery:
                upcomingDue = state.shown?.query
                requestHeatmaps()
            case .openReview:
                try openReview()
            case .startRetraining(let fromScratch):
                roundsBeforeTraining = (try session.rounds().map(\.number).max()) ?? 0
                retrainer.start(workspacePath: workspacePath, user: session.user, options: try retrainOptions(fromScratch: fromScratch),
                                  fromScratch: fromScratch)
            case .startPretraining(let restart):
                retrainer.startPretraining(workspacePath: workspacePath, options: try session.workspace.suggestedPretrainingOptions(),
                                           restart: restart)
            case .cancelTraining:
                retrainer.cancel()
            case .rollback(let round):
                // Loading a round's model and the pool's predictions takes seconds: said first.
                showWorking("Rolling back to round \(round): loading its model and the pool's predictions…")
                let waiting = try session.workspace.answersTrained(after: round).count
                try session.rollback(to: round)
                try modelChanged()
                state.carriedOut(.rolledBack(to: round, waiting: waiting, pending: (try? session.pendingFeedback()) ?? waiting))
            case .promote(let round):
                showWorking("Making round \(round) active: loading its model and the pool's predictions…")
                try session.promote(round: round)
                try modelChanged()
                state.carriedOut(.promoted(round))
            case .discard(let round):
                try session.discard(round: round)
                state.carriedOut(.discarded(round, pending: (try? session.pendingFeedback()) ?? 0))
            case .revert(let selection):
                showWorking("Reverting \(selection)…")
                let reverted = try session.revert(selection)
                state.carriedOut(.reverted(count: reverted.count, selection))
            case .export:
                showWorking("Exporting the labelled images and masks…")
                let folder = session.workspace.newExportFolder()
                let summary = try session.workspace.export(to: folder, format: .folders)
                state.carriedOut(.exported(images: summary.images, masks: summary.masks, folder: folder))
            }
        }
        return true
    }

    /// Says what is being done, on screen at once, before work that takes seconds.
    func showWorking(_ text: String) {
        state.message = text
        if screen != nil { draw() }
    }

    /// A round as the workspace's settings say (epochs per round).
    func retrainOptions(fromScratch: Bool = false) throws -> TrainingOptions {
        try session.roundTraining(epochs: try session.workspace.retrainEpochs, fromScratch: fromScratch)
    }

    /// Stores an answer (committed to disk before the screen moves on), then opens what
    /// comes next, keeping the message of what was stored beside the next review's question.
    func store(_ submission: Submission) throws {
        var event = submission.event
        if let mask = submission.mask {
            event.correctedMask = try ImageFile.encodePNG(mask.image, name: "painted mask")
        }
        // A confirmed map becomes refutations only when it is complete and not flat: a flat
        // map's top 10 % is noise, not a region.
        let heatmap = submission.isSkip ? nil
            : heatmaps.result(for: event.itemPath).flatMap { $0.complete && !$0.display.isFlat ? $0.heatmap : nil }
        let outcome: SubmitOutcome
        // Reviews of the same part (near hit of one query, near miss of another): one answer
        // labels the part, and the others leave the queue with it — said, not silent.
        let sameDoneToo = submission.review.map { review in
            ((try? session.reviewQueue()) ?? []).filter { $0.path == review.path && $0.id != review.id }.count
        } ?? 0
        do {
            if let review = submission.review {
                outcome = try session.answerReview(review, event, heatmap: heatmap)
            } else {
                outcome = try session.submit(event, heatmap: heatmap, firstAnswerOnly: true)
            }
        } catch let taken as ReviewAlreadyAnswered {
            // By file name, as the screens name parts: the folder would give the class away.
            let reason = "The review of \(ScreenState.shownName(taken.path)) was answered meanwhile \(answeredBy(taken.path)); that answer stands."
            _ = try perform(state.reviewTaken(reason))
            state.keepingMessage(reason, then: state.shown == nil ? "" : state.message)
            return
        } catch let taken as PartAnsweredMeanwhile {
            // The part left the pool since it was shown: answered on another station, or on
            // this person's other screen (a query there, a near hit or miss here). One answer
            // per part: the first stands, and this one is said not to be stored.
            let reason = "\(ScreenState.shownName(taken.path)) was answered meanwhile \(answeredBy(taken.path)); that answer stands and this one is not stored."
            _ = try perform(submission.review == nil ? state.queryTaken(reason) : state.reviewTaken(reason))
            state.keepingMessage(reason, then: state.shown == nil ? "" : state.message)
            return
        } catch {
            // The store refused it (disk full, I/O error, busy past the retries): nothing the
            // person confirmed is dropped — it stays on screen for Enter, and waits in a file
            // of its own (unless that cannot be written either) for the next start.
            if let kept = state.keptAnswer { session.forgetUnstored(kept) }
            let kept = try? session.keepUnstored(event, review: submission.review)
            state.notStored(reason: "\(error)", kept: kept)
            return
        }
        // Stored: the copy kept after an earlier refusal is not needed any more.
        if let kept = state.keptAnswer { session.forgetUnstored(kept); state.keptAnswer = nil }
        let next = state.stored(submission, outcome: outcome, interactionsPerRound: session.settings.interactionsPerRound)
        if sameDoneToo > 0, !submission.isSkip {
            state.message += " · it answers \(sameDoneToo) other review\(sameDoneToo == 1 ? "" : "s") of the same part too"
        }
        let done = state.message
        _ = try perform(next)
        if submission.review != nil {
            if state.shown == nil { state.message = done + " · no more reviews waiting." } else { state.keepingMessage(done, then: state.message) }
        } else if state.shown != nil {
            state.message = done
        }
    }

    /// What the state machine may ask about the workspace and the workers, live.
    var facts: LiveFacts { LiveFacts(app: self) }

    /// What storing the answers kept in unstored-answers/ came to, in words (nil: none waited).
    static func keptAnswersMessage(_ report: LoopSession.KeptAnswersReport) -> String? {
        var parts: [String] = []
        if report.stored > 0 { parts.append("\(report.stored) answer\(report.stored == 1 ? "" : "s") kept when the store refused them \(report.stored == 1 ? "is" : "are") stored now") }
        if report.alreadyAnswered > 0 { parts.append("\(report.alreadyAnswered) kept answer\(report.alreadyAnswered == 1 ? "" : "s") dropped: \(report.alreadyAnswered == 1 ? "its part was" : "their parts were") answered by someone else first") }
        if !report.problems.isEmpty { parts.append("still not stored: " + report.problems.joined(separator: "; ")) }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }

    /// Who gave the answer that labels the part at `path`, in words: "by ann", "by you on the
    /// inspector screen".
    func answeredBy(_ path: String) -> String {
        guard let first = (try? session.workspace.feedbackLog())?.last(where: { $0.itemPath == path && $0.establishedLabel != nil }) else {
            return "by someone else"
        }
        return first.user == session.user ? "by you on the \(first.role == .supervisor ? "supervisor" : "inspector") screen" : "by \(first.user)"
    }

    func openNextQuery() throws {
        if let query = state.shown?.query { try? session.release(query) }
        // A part whose review this person has begun answering on the supervisor screen is
        // not asked here too (one part, one answer): it waits in the review queue, which
        // queries leave out.
        guard let query = try session.nextQuery() else {
            upcoming = []
            state.showQuery(nil)
            return
        }
        let view = try session.view(of: query.path)
        state.showQuery(ScreenState.Shown(view: view, query: query, review: nil))
        // The next queries are read at the next turn of the loop, after this one is drawn:
        // reading a camera-sized photo takes tens of milliseconds the inspector need not wait.
        upcoming = []
        upcomingDue = query
        requestHeatmaps()
    }

    /// Reads the next queries by the same ranking, so their heatmaps are ready when reached.
    func loadUpcoming() throws {
        guard let query = upcomingDue else { return }
        upcomingDue = nil
        guard state.shown?.query?.path == query.path else { return }
        upcoming = try session.upcoming(after: query, count: 2).compactMap { try? session.view(of: $0.path) }
        requestHeatmaps()
    }

    func openReview() throws {
        // A query left for the reviews goes back to the pool for others — unless an answer
        // begun on it waits for the inspector's return.
        if let query = state.shown?.query, state.parked[.inspector]?.shown.query?.path != query.path { try? session.release(query) }
        let reviews = try session.reviewQueue()
        // A review with an answer begun before Tab is opened again wherever the queue now
        // has it; gone from the queue (its part answered meanwhile), the answer is said lost.
        var dropped: String? = nil
        if let parked = state.parked[.supervisor]?.shown, let id = parked.review?.id {
            if let at = reviews.firstIndex(where: { $0.id == id }) {
                state.reviewIndex = at
            } else {
                dropped = "Your begun answer on the review of \(ScreenState.shownName(parked.view.path)) was not stored: the part was "
                    + "answered meanwhile \(answeredBy(parked.view.path)), and that answer stands."
            }
        }
        defer { if let dropped { state.keepingMessage(dropped, then: state.message) } }
        guard !reviews.isEmpty else {
            state.showReview(nil, index: 0)
            reviewPanels = []
            queryMask = nil
            return
        }
        let index = min(state.reviewIndex, reviews.count - 1)
        let review = reviews[index]
        state.showReview(ScreenState.Shown(view: try session.view(of: review.path), query: nil, review: review), index: index)
        loadReviewPanels()
        requestHeatmaps()
    }

    /// Another round's model is in use: new predictions, new maps. The shown query is
    /// replaced only if nothing has been answered on it yet.
    func modelChanged() throws {
        try session.refresh()
        guard let active = try session.workspace.activeRound() else { return }
        loadedRound = active.number
        loadedCuts = active.metrics?.operatingPoint
        try heatmaps.reload(checkpoint: session.workspace.checkpointPath(of: active), ownMaps: active.trainedItsDefectMap,
                            explainer: session.explainerWithoutNormalParts())
        // Begun answers keep the prediction they judge; the screen also shows what the model
        // now in use says of those parts.
        var begun = state.parked.values.map(\.shown)
        if state.hasUnsubmittedAnswer, let shown = state.shown { begun.append(shown) }
        for shown in begun { state.predictionsNow[shown.view.path] = (try? session.view(of: shown.view.path))?.probabilities }
        if state.shown?.review != nil { loadReviewPanels() }
        if state.current == .inspector, !state.hasUnsubmittedAnswer { try openNextQuery() } else { requestHeatmaps() }
    }

    /// The heatmap worker reads the normal parts through its own workspace connection, on
    /// its own thread.
    var normalPartsReader: HeatmapWorker.NormalPartsReader {
        let path = workspacePath
        return { classifier in try Workspace(opening: path).normalParts(for: classifier) }
    }

    func requestHeatmaps() {
        var views: [ItemView] = []
        if let shown = state.shown { views.append(shown.view) }
        if state.shown?.review != nil { views += reviewPanels.compactMap { $0 } }
        views += upcoming
        heatmaps.request(views.map { HeatmapWorker.Item(path: $0.path, image: $0.image, target: LoopSession.explainedClass.classIndex) })
    }

    /// Loads the supervisor's four panels — the query, near hit, near miss, farthest — once
    /// per review (and after a model change), not on every redraw: each view reads an image.
    func loadReviewPanels() {
        reviewPanels = (try? supervisorViews()) ?? []
        queryMask = (state.shown?.review).flatMap { try? session.workspace.paintedMask(of: $0.of) }
    }

    func supervisorViews() throws -> [ItemView?] {
        guard let shown = state.shown, let review = shown.review else { return [] }
        let query = try? session.view(of: review.of)
        let neighbours = try? session.neighbours(of: review.of)
        // The other panel shows the part its own waiting review asks about, when there is
        // one (queued with this one when the query was answered), not today's neighbour:
        // otherwise the next question is about a part the panel did not show.
        let sibling = ((try? session.reviewQueue()) ?? []).first { $0.of == review.of && $0.reason != review.reason }?.path
        let hit = (review.reason == .nearMiss ? sibling : nil).flatMap { try? session.view(of: $0) }
            ?? (neighbours?.nearHit?.path).flatMap { try? session.view(of: $0) }
        let miss = (review.reason == .nearHit ? sibling : nil).flatMap { try? session.view(of: $0) }
            ?? (neighbours?.nearMiss?.path).flatMap { try? session.view(of: $0) }
        let far = (neighbours?.farthest?.path).flatMap { try? session.view(of: $0) }
        return [query, review.reason == .nearHit ? shown.view : hit, review.reason == .nearMiss ? shown.view : miss, far]
    }

    /// Takes the workers' news; true when something on screen changed.
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
            readRoundZero()
            changed = true
            switch retrainer.state {
            case .finished(let round, let previous):
                if round.status == .active { try modelChanged() }
                state.jobEnded(.roundTrained(round, previous: previous, reason: Workspace.promotionReason(round, previous: previous)),
                               roundCount: try session.rounds().count)
            case .pretrained(let summary):
                state.jobEnded(.pretrained(summary), roundCount: try session.rounds().count)
            case .cancelled(let job):
                state.jobEnded(.cancelled(job), roundCount: try session.rounds().count)
            case .failed(let job, let reason):
                state.jobEnded(.failed(job, reason), roundCount: try session.rounds().count)
            default: break
            }
        }
        return changed
    }

    /// Once a second: whether another process changed the workspace (a round trained or
    /// promoted from the command line, answers reverted); re-reads what the screens show.
    /// The highest round number when this station's training started.
    var roundsBeforeTraining = 0

    func pollWorkspace() throws -> Bool {
        let now = clock()
        // What the listener heard is a number in memory, looked at four times a second; a
        // folder's counter is a read of the file, once a second.
        guard now.timeIntervalSince(changesReadAt) >= (news == nil ? 1 : 0.25) else { return false }
        changesReadAt = now
        let changes = try news?.heard ?? session.workspace.changesByOthers
        guard changes != seenChanges else { return false }
        seenChanges = changes
        readRoundZero()
        // While this station trains, a round that existed before it started (a rollback or
        // a promotion elsewhere) is taken up at once — answers would otherwise judge a model
        // no longer in use; a new round is left for the worker to report (it may be this
        // station's own).
        if let active = try session.workspace.activeRound(), active.number != loadedRound,
           !retrainer.isRunning || active.number <= roundsBeforeTraining {
            try modelChanged()
            state.carriedOut(.roundChangedOutside(active.number))
        }
        return true
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
        painter.beginFrame()
        mouseTarget = nil
        let (rows, columns) = screen.size
        let layout = Layout(rows: rows, columns: columns)
        if layout.isTooSmall {
            let text = "Enlarge the terminal to at least \(Layout.minimumColumns)×\(Layout.minimumRows) (now \(columns)×\(rows))."
            var lines = TextLines.wrapped(text, columns: max(1, columns - 1), lines: 3)
            // A question asked (q, Ctrl-C) is shown too: it is answered here.
            if state.confirmation != nil { lines += [""] + TextLines.wrapped(state.message, columns: max(1, columns - 1), lines: 6) }
            let top = max(0, (rows - lines.count) / 2)
            for (offset, line) in lines.enumerated() where top + offset < rows {
                painter.put(line, row: top + offset, column: max(0, (columns - line.count) / 2), bold: offset < 3)
            }
            screen.refresh()
            return
        }
        let lookup = HeatmapLookup(result: { [heatmaps] in heatmaps!.result(for: $0) }, masks: heatmaps.masks)
        let pending = (try? session.pendingFeedback()) ?? 0
        if state.showHelp {
            state.helpScroll = HelpScreen.clampedScroll(state.helpScroll, for: state.keyContext, role: state.role, columns: layout.columns,
                                                        rows: max(1, layout.messageRow - 2))
            HelpScreen.draw(on: painter, context: state.keyContext, role: state.role, scroll: state.helpScroll, layout: layout)
        } else {
            switch state.current {
            case .inspector:
                mouseTarget = InspectorScreen(heatmaps: lookup, poolSize: session.pool.predictions.count, cuts: loadedCuts)
                    .draw(state, on: painter, layout: layout)
            case .supervisor:
                let log = state.showLog ? ((try? session.workspace.feedbackLog()) ?? []).filter { state.logUser == nil || $0.user == state.logUser } : []
                // The log scrolls no further back than its oldest answer.
                state.logScroll = min(state.logScroll, max(0, log.count - max(1, layout.messageRow - 5)))
                let refutation = state.refutationBrowser.flatMap { try? session.itemImage($0.current.path) }
                let reviewCount = (try? session.reviewQueue().count) ?? 0
                mouseTarget = SupervisorScreen(heatmaps: lookup, reviewCount: reviewCount, panels: reviewPanels, queryMask: queryMask,
                                               refutationImage: refutation, log: log).draw(state, on: painter, layout: layout)
            case .operator:
                var preview: [FeedbackRecord]?
                if case .revert(let selection, _) = state.confirmation { preview = try? session.workspace.answers(matching: selection) }
                OperatorScreen(rounds: (try? session.rounds()) ?? [], pending: pending, settings: session.settings, revertPreview: preview,
                               pretraining: savedPretraining, pretrainingRuns: retrainer.isPretraining, anomaly: savedAnomaly)
                    .draw(state, on: painter, layout: layout)
            }
        }
        var training: (what: String, epoch: Int, of: Int, loss: Float)?
        if case .running(let job, let epoch, let of, let loss) = retrainer.state {
            var what = "training"
            if case .pretraining = job { what = "pretraining round 0" }
            training = (what, epoch, of, loss)
        }
        // What the next key is judged against: the part as large as this frame drew it.
        state.answerPicture = state.showHelp ? state.answerPicture : painter.answerPicture
        if !state.showHelp { state.answerRoom = painter.answerRoom }
        let ownMap = state.shown.map { facts.hasOwnMap(of: $0.view.path) } ?? false
        ScreenFrame(workspacePath: session.workspace.name, pending: pending, interactionsPerRound: session.settings.interactionsPerRound,
                    training: training, ownMap: ownMap).draw(state, on: painter, layout: layout)
        // A picture that vanished or changed its place or size leaves pixels that ncurses
        // does not know of: the whole terminal is cleared and repainted, pictures included.
        // Otherwise only pictures that changed are sent: the others are still on the glass,
        // as the text cells under them stayed blank.
        let rawImages = painter.rawImages
        let places = Set(rawImages.map(\.place))
        if sentImages.contains(where: { !places.contains($0.place) }) {
            screen.invalidate()
            resendImages = true
        }
        screen.refresh()
        let previous = Set(sentImages.map(\.identity))
        let due = rawImages.filter { resendImages || !previous.contains($0.identity) }
        if !due.isEmpty || (resendImages && graphics == .kitty) {
            var bytes = Array("\u{1B}7".utf8)
            // A kitty picture stays until deleted (sixel pixels are overwritten by the clear):
            // a full repaint starts from none.
            if resendImages && graphics == .kitty { bytes += KittyEncoder.deleteAll }
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
}

/// The facts the state machine reads, live from the session and the workers.
struct LiveFacts: ScreenFacts {
    let app: LabelApp

    var isTraining: Bool { app.retrainer.isRunning }
    var isPretraining: Bool { app.retrainer.isPretraining }
    var pretraining: PretrainingSummary? { try? app.session.workspace.pretrainingSummary() }
    func pretrainingImageCount() throws -> Int { try app.session.workspace.pretrainingItems().count }
    func rounds() throws -> [Round] { try app.session.rounds() }
    func reviewCount() throws -> Int { try app.session.reviewQueue().count }
    func usersWithAnswers() throws -> [String] { Array(Set(try app.session.workspace.feedbackLog().map(\.user))).sorted() }
    func answerCount(matching selection: AnswerSelection) throws -> Int { try app.session.workspace.answers(matching: selection).count }
    func answersWaiting(afterRollbackTo number: Int) throws -> Int { try app.session.workspace.answersTrained(after: number).count }
    func refutations(of path: String) throws -> [(path: String, transform: String)] { try app.session.refutations(of: path) }
    func heatmapPeak(of path: String) -> (x: Double, y: Double)? {
        guard let result = app.heatmaps.result(for: path), result.complete, !result.display.isFlat else { return nil }
        let map = result.heatmap
        guard let peak = map.pixels.indices.max(by: { map.pixels[$0] < map.pixels[$1] }) else { return nil }
        let (y, x) = ((peak % map.planeSize) / map.width, peak % map.width)
        return ((Double(x) + 0.5) / Double(map.width), (Double(y) + 0.5) / Double(map.height))
    }
    func hasOwnMap(of path: String) -> Bool { app.heatmaps.result(for: path)?.ownMap != nil }
    func heatmapStatus(of path: String) -> HeatmapStatus {
        guard let result = app.heatmaps.result(for: path) else { return .waiting }
        if !result.complete { return .computing(masksDone: result.masksDone) }
        return result.display.isFlat ? .flat : .finished
    }
    func heatmapTopRegion(of path: String, width: Int, height: Int) -> BinaryMask? {
        app.heatmaps.result(for: path).flatMap { result in
            guard result.complete, !result.display.isFlat else { return nil }
            // Smooth at the photo's size: the map laid over the photo, then its top tenth.
            return SaliencyMetrics.topFraction(result.heatmap.resized(width: width, height: height))
        }
    }
}
