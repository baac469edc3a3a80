import Explanations
import Imaging
import NearCAIPI

/// What the screens need to know of the workspace and the workers to decide what a key does.
/// The shell reads it live; tests give fixed answers. Everything here is read, never written:
/// writing is an `ScreenEffect` the shell carries out.
protocol ScreenFacts {
    /// A round is training, or pretraining runs, in the background.
    var isTraining: Bool { get }
    /// The background job is the workspace's pretraining.
    var isPretraining: Bool { get }
    /// What the saved pretraining state says (nil: never pretrained).
    var pretraining: PretrainingSummary? { get }
    /// The images pretraining learns from (every usable one outside the test split).
    func pretrainingImageCount() throws -> Int
    func rounds() throws -> [Round]
    /// Open near hit / miss reviews.
    func reviewCount() throws -> Int
    /// Everyone with an answer in the log, sorted.
    func usersWithAnswers() throws -> [String]
    /// How many standing answers `selection` picks.
    func answerCount(matching selection: AnswerSelection) throws -> Int
    /// Answers that wait for the next round if the model goes back to round `number`.
    func answersWaiting(afterRollbackTo number: Int) throws -> Int
    /// The refutations made from the item at `path`.
    func refutations(of path: String) throws -> [(path: String, transform: String)]
    /// The top 10 % of the finished heatmap of `path`, if there is one, at `width` × `height`
    /// (the photo's pixels: the map laid over the photo, then thresholded).
    func heatmapTopRegion(of path: String, width: Int, height: Int) -> BinaryMask?
    /// Where the finished, not flat heatmap of `path` peaks, as shares (0–1) of its width and
    /// height: where a first zoom looks.
    func heatmapPeak(of path: String) -> (x: Double, y: Double)?
    /// The round's network has a defect map of its own for `path` (trained with the mask loss).
    func hasOwnMap(of path: String) -> Bool
    /// How far the heatmap of `path` is.
    func heatmapStatus(of path: String) -> HeatmapStatus
}

/// How far a part's heatmap is, as the screens speak of it.
enum HeatmapStatus: Equatable {
    /// Not started.
    case waiting
    case computing(masksDone: Int)
    /// Finished, and no region decides the prediction: no top region, no peak.
    case flat
    case finished

    /// Words for a message: why there is no top region or peak (nil when there is one).
    var whyNoRegion: String? {
        switch self {
        case .waiting: "the heatmap has not started yet"
        case .computing(let done): "the heatmap is still computing (\(done) masks so far)"
        case .flat: "the heatmap is flat: no region decides the prediction"
        case .finished: nil
        }
    }
}

/// Something a key asks the shell to do to the workspace or the workers. After doing it the
/// shell tells the state what came of it (`stored`, `showQuery`, `showReview`, …).
enum ScreenEffect {
    case quit
    /// Store an answer (or a skip) for the shown query or review.
    case store(Submission)
    /// Release the shown query and lease the next one.
    case openNextQuery
    /// The inspector's unsubmitted query is shown again (its lease kept meanwhile): compute
    /// its heatmap and read its followers.
    case resumeQuery
    /// Open the review at `ScreenState.reviewIndex`.
    case openReview
    case startRetraining(fromScratch: Bool)
    /// Pretrain the backbone (round 0): resume the saved state, or start again if `restart`.
    case startPretraining(restart: Bool)
    /// Stop the background job: a round in training is not recorded; pretraining keeps the
    /// epochs done.
    case cancelTraining
    case rollback(to: Int)
    case promote(Int)
    case discard(Int)
    case revert(AnswerSelection)
    case export
}

/// An answer ready to be stored.
struct Submission {
    var event: FeedbackEvent
    /// The painted defect region (encoded by the shell).
    var mask: BinaryMask?
    /// Answering a review rather than a query.
    var review: Review?
    var isSkip: Bool { event.prediction == .skip }
}

/// The screens as a state machine: everything a key can change, as a value, and what each key
/// does to it. Keys in, new state and effects out; no terminal, no workspace writes. The shell
/// (`LabelApp`) owns curses and the workers, carries out the effects and draws the state
/// through the per-screen renderers.
struct ScreenState {
    struct Answer: Equatable {
        var prediction: Verdict?
        var explanation: Verdict?
        var mask: BinaryMask?
    }

    struct Shown {
        var view: ItemView
        var query: Query?
        var review: Review?
    }

    /// A list of refutations shown in the supervisor's query panel, one at a time.
    struct RefutationBrowser {
        var list: [(path: String, transform: String)]
        var index: Int
        var current: (path: String, transform: String) { list[index] }
    }

    /// A question asked before something that loses work or cannot be undone; while it is
    /// open, y does it and any other key cancels.
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
        /// Pretrain round 0 (from random weights if `restart`, else resuming).
        case pretrain(restart: Bool)
        /// Skip the shown part, dropping the answer begun on it.
        case skipDroppingAnswer
        /// Open the review after (`forward`) or before this one, dropping the answer begun on it.
        case moveDroppingAnswer(forward: Bool)
        /// Close the mask editor with Esc, dropping what was painted since it opened.
        case cancelEditorDroppingPaint
        /// Stop the round in training: its minutes of training are lost (the answers are not).
        case cancelRoundInTraining
    }

    /// What this person did in this session, as they count it: skips are not answers.
    struct SessionCounts: Equatable {
        var queriesAnswered = 0
        var reviewsAnswered = 0
        var queriesSkipped = 0
        var reviewsSkipped = 0
        /// Queries and reviews skipped.
        var skipped: Int { queriesSkipped + reviewsSkipped }

        var summary: String {
            "this session: \(queriesAnswered + reviewsAnswered) answered" + (skipped > 0 ? ", \(skipped) skipped" : "")
        }
    }

    let user: String
    /// The person's role: which screens they may open.
    let role: Role
    /// Whose screen is shown: the role's own, or one below it. Answers carry it.
    var current: Role = .inspector
    var shown: Shown? {
        // A new part is shown whole; the same part keeps where the inspector was looking.
        didSet {
            if shown?.view.path != oldValue?.view.path || viewport == nil {
                viewport = shown.map { PhotoViewport(photoWidth: $0.view.photo.width, photoHeight: $0.view.photo.height) }
            }
        }
    }
    /// Which part of the shown photo is on screen (zoom and pan).
    private(set) var viewport: PhotoViewport?
    /// The brush radius as it would be with the whole photo shown: zooming sets the brush
    /// from it, so in and out again comes back to the same brush. Cleared when the person
    /// sizes the brush (+ / -) or a new editor opens.
    private var brushAtWholeView: Double?
    var answer = Answer()
    var editor: MaskEditor?
    var showOverlay = true
    var showOutline = false
    /// The map panel shows the network's own defect map instead of the explanation (`m`).
    var showOwnMap = false
    var showHelp = false
    var showLog = false
    /// The message line (wrapped onto two lines by the shell).
    var message = ""
    var counts = SessionCounts()
    // Supervisor
    var reviewIndex = 0
    var refutationBrowser: RefutationBrowser?
    /// The log shows this person's answers only (nil: everyone's).
    var logUser: String?
    /// How many rows the log is scrolled back from its newest (the shell keeps it within
    /// the log's length).
    var logScroll = 0
    /// How many lines the help is scrolled down (the shell keeps it within the help).
    var helpScroll = 0
    // Operator
    var selectedRound = 0
    /// The operator moved the selection (↑/↓): it is theirs, not the round in use's.
    var roundChosen = false
    var confirmation: Confirmation?
    /// The picture elements across the shorter side of the part being answered, as last drawn
    /// (the shell sets it; nil before the first frame or without a part).
    var answerPicture: Int?
    /// The picture elements the panel of the part being answered holds across and down, as
    /// last drawn (the shell sets it): a 1:1 view shows that many photo pixels.
    var answerRoom: (width: Int, height: Int)?
    /// The view before `1` showed 1:1, to go back to.
    private var viewBeforeActualPixels: PhotoViewport?
    /// The file the shown answer waits in after the store refused it (`notStored`).
    var keptAnswer: String?
    /// An answer begun on a screen the person left with Tab, and the part it is about: shown
    /// again, as it was, when they come back (the inspector's query keeps its lease).
    var parked: [Role: ParkedAnswer] = [:]
    struct ParkedAnswer {
        var shown: Shown
        var answer: Answer
        /// The mask `g` set aside on it, which `b` brings back there.
        var setAsideMask: BinaryMask?
    }
    /// A mask set aside by g (explanation right): b brings it back.
    var setAsideMask: BinaryMask?
    /// For a part whose begun answer judges the prediction of an earlier round: the
    /// probabilities the round now in use gives it, by path (the shell sets them when the
    /// model changes), so the screen shows both.
    var predictionsNow: [String: [Float]] = [:]
    /// The answer as it was when the mask editor opened, and the mask set aside then: Esc
    /// goes back to both.
    var answerBeforeEditor: Answer?
    var setAsideBeforeEditor: BinaryMask?

    init(user: String, role: Role) {
        self.user = user
        self.role = role
    }

    /// Whether the shown item has an answer begun but not submitted.
    var hasUnsubmittedAnswer: Bool {
        shown != nil && (answer.prediction != nil || answer.explanation != nil || answer.mask != nil || editor != nil)
    }

    /// The key that makes the shown part NOK (y when the model said NOK, else n).
    var keyForNOK: String { shown?.view.predictedLabel == .nok ? "y" : "n" }

    /// The label the answer given so far makes of the shown item (nil before y / n).
    var answeredLabel: ClassLabel? {
        guard let shown, let prediction = answer.prediction else { return nil }
        return prediction == .right ? shown.view.predictedLabel : shown.view.predictedLabel.other
    }

    // MARK: Keys

    /// Where keys are read now: the question asked, the mask editor, or the screen shown.
    var keyContext: KeyContext {
        if let confirmation {
            if case .revert = confirmation { return .question(revert: true) }
            return .question(revert: false)
        }
        if editor != nil { return .maskEditor }
        switch current {
        case .inspector: return .inspector
        case .supervisor: return showLog ? .log : refutationBrowser != nil ? .refutations : .supervisor
        case .operator: return .operator
        }
    }

    /// What `input` does: the key table of `keyContext` says which action it asks for.
    /// `isTooSmall`: the terminal is below the minimum size, so nothing is shown and only q
    /// acts (a key answered blind would store a verdict on an unseen image).
    mutating func handle(_ input: CursesScreen.Input, facts: some ScreenFacts, isTooSmall: Bool = false) throws -> [ScreenEffect] {
        // A question asked before the terminal shrank is answered too (it is shown there).
        if isTooSmall, input != .character("q"), confirmation == nil { return [] }
        if showHelp {
            // ↑ / ↓ scroll a help longer than the terminal; any other key closes it.
            if input == .down || input == .up {
                helpScroll = max(0, helpScroll + (input == .down ? 4 : -4))
                return []
            }
            showHelp = false
            helpScroll = 0
            return []
        }
        let context = keyContext
        // A question asked while painting (Ctrl-C) is answered before the editor sees keys.
        if let asked = confirmation { return try answerConfirmation(asked, with: KeyTable.action(for: input, in: context), facts: facts) }
        guard let action = KeyTable.action(for: input, in: context) else {
            let place = context == .maskEditor ? "of the mask editor" : "of the \(current.rawValue) screen"
            if case .character(let key) = input, key.isLetter || key.isPunctuation || key.isSymbol || key.isNumber {
                message = "\(key) is not a key \(place) (? lists them)."
            } else if case .character = input {
                message = "That key has no use \(context == .maskEditor ? "in the mask editor" : "on the \(current.rawValue) screen") (? lists the keys)."
            } else if input == .unrecognised || input == .enter || input == .backspace || input == .escape {
                message = "That key has no use \(context == .maskEditor ? "in the mask editor" : "on the \(current.rawValue) screen") (? lists the keys)."
            }
            return []
        }
        if editor != nil { return handleEditor(action, facts: facts) }
        switch action {
        case .quit:
            return askBeforeQuitting(facts: facts)
        case .help:
            showHelp = true
            return []
        case .nextScreen, .previousScreen:
            let screens = role.screens
            guard screens.count > 1 else {
                message = "Your role (\(role.rawValue)) has this screen only."
                return []
            }
            let index = screens.firstIndex(of: current) ?? 0
            // An answer begun here waits for the person's return.
            if hasUnsubmittedAnswer, current != .operator, let shown {
                parked[current] = ParkedAnswer(shown: shown, answer: answer, setAsideMask: setAsideMask)
            }
            current = screens[(index + (action == .nextScreen ? 1 : screens.count - 1)) % screens.count]
            message = ""
            refutationBrowser = nil
            showLog = false
            if current == .inspector, let back = parked.removeValue(forKey: .inspector) {
                shown = back.shown
                answer = back.answer
                setAsideMask = back.setAsideMask
                message = "Back to your answer on \(Self.shownName(back.shown.view.path)), not submitted yet."
                return [.resumeQuery]
            }
            if current == .inspector, shown?.review != nil || shown == nil { return [.openNextQuery] }
            if current == .supervisor { return [.openReview] }
            // The operator looks at the round in use first, not at the oldest row.
            if current == .operator, !roundChosen, let rounds = try? facts.rounds(),
               let active = rounds.lastIndex(where: { $0.status == .active }) {
                selectedRound = active
            }
            return []
        case .toggleOverlay, .toggleOutline, .toggleOwnMap, .zoomIn, .zoomOut, .pan, .actualPixels:
            pictureKey(action, facts: facts)
            return []
        case .predictionRight, .predictionWrong, .explanationRight, .explanationWrong, .submit, .skip:
            return answerKey(action, facts: facts)
        case .nextReview, .previousReview, .toggleRefutations, .nextRefutation, .previousRefutation, .toggleLog, .nextLogUser:
            return try supervisorKey(action, facts: facts)
        default:
            return try operatorKey(action, facts: facts)
        }
    }

    /// The picture's keys: overlay, outline, zoom and pan.
    private mutating func pictureKey(_ action: KeyAction, facts: some ScreenFacts) {
        guard let shown else {
            message = current == .supervisor ? "No review is open: nothing to show." : "No part is shown."
            return
        }
        switch action {
        case .toggleOverlay:
            showOverlay.toggle()
            message = showOverlay ? "Heatmap overlay on (o hides it)." : "Heatmap overlay off: the part alone on both sides (o shows it again)."
        case .toggleOwnMap:
            guard showOwnMap || facts.hasOwnMap(of: shown.view.path) else {
                message = "No defect map of the network's own for this part: rounds learn one from painted masks with the mask loss "
                    + "(operator: 'nearcaipi train WS --mask-loss on')."
                return
            }
            showOwnMap.toggle()
            message = showOwnMap
                ? "The network's own defect map (m: back to the explanation — InvRISE is what you judge and correct)."
                : "The explanation (InvRISE) again."
        case .toggleOutline:
            showOutline.toggle()
            let hasRegion = facts.heatmapTopRegion(of: shown.view.path, width: 8, height: 8) != nil
            message = !showOutline ? "Outline off."
                : hasRegion ? "Outline of the heatmap's top 10 % on."
                : "Outline on — none is drawn until the map is finished and not flat (a flat map has no top region)."
        case .zoomIn:
            // The first zoom goes to where the map peaks: what the inspector checks first.
            if let view = viewport, !view.isZoomed {
                if let peak = facts.heatmapPeak(of: shown.view.path) {
                    zoom(in: true, about: (Int(peak.x * Double(view.photoWidth)), Int(peak.y * Double(view.photoHeight))), centring: true,
                         saying: " on the map's peak")
                } else {
                    zoom(in: true, saying: " about the middle (no finished, clear map to go to)")
                }
            } else {
                zoom(in: true)
            }
        case .zoomOut:
            zoom(in: false)
        case .actualPixels:
            actualPixels(about: facts.heatmapPeak(of: shown.view.path))
        case .pan(let dx, let dy):
            guard var view = viewport, view.isZoomed else {
                message = "The whole photo is shown: z zooms in (or the mouse wheel), then arrows pan."
                return
            }
            let before = view.visible
            view.pan(dx: dx, dy: dy)
            viewport = view
            message = view.visible == before ? "At the photo's edge: \(view.words)." : "\(view.isActualPixels ? "1:1" : "Zoom \(view.zoom)×"): \(view.words)."
        default: break
        }
    }

    private mutating func handleEditor(_ action: KeyAction, facts: some ScreenFacts) -> [ScreenEffect] {
        guard var editing = editor else { return [] }
        switch action {
        case .moveBrush(let dx, let dy): editing.apply(.move(dx: dx, dy: dy))
        case .togglePen:
            editing.apply(.togglePen)
            message = editing.penDown ? "Pen down: moving \(editing.erasing ? "erases" : "paints"). Space lifts it." : "Pen up: moving does not paint."
        case .biggerBrush, .smallerBrush:
            editing.apply(action == .biggerBrush ? .biggerBrush : .smallerBrush)
            brushAtWholeView = nil
            message = "Brush \(2 * editing.brush + 1) photo pixel\(editing.brush == 0 ? "" : "s") across."
        case .toggleErase:
            editing.apply(.toggleErase)
            message = editing.erasing ? "Erasing: the pen and rectangles now remove paint (e: paint again)." : "Painting again."
        case .rectangleCorner:
            editing.apply(.rectangleCorner)
            message = editing.rectangleStart != nil
                ? "Corner set. Move to the opposite corner and press r again to fill the rectangle (e: erase it instead)."
                : "Rectangle \(editing.erasing ? "erased" : "filled"); mask \(editing.mask.area) px."
        case .undo, .redo:
            let before = editing.mask
            editing.apply(action == .undo ? .undo : .redo)
            message = editing.mask == before ? "Nothing to \(action == .undo ? "undo" : "redo")." : "\(action == .undo ? "Undone" : "Redone"): mask \(editing.mask.area) px."
        case .clearMask:
            editing.apply(.clear)
            message = "Mask cleared (u brings it back)."
        case .startFromTopRegion:
            if let view = shown?.view, let top = facts.heatmapTopRegion(of: view.path, width: view.photo.width, height: view.photo.height) {
                editing.apply(.replace(top))
                message = "Started from the heatmap's top 10 % (\(editing.mask.area) px): erase what is not the defect, paint what is missing."
            } else {
                let why = shown.flatMap { facts.heatmapStatus(of: $0.view.path).whyNoRegion } ?? "the heatmap has none"
                message = "No top 10 % to start from: \(why)."
            }
        case .actualPixels:
            editor = editing
            actualPixels(about: nil)
            editing = editor ?? editing
        case .zoomIn, .zoomOut:
            // zoom() changes the brush of the editor it finds: hand it this one and take it back.
            editor = editing
            zoom(in: action == .zoomIn, about: (editing.x, editing.y))
            editing = editor ?? editing
        case .quit:
            message = "Painting: Enter keeps the mask, Esc drops it; then q quits."
        case .help:
            showHelp = true
            return []
        case .finishMask:
            answer.mask = editing.mask
            editor = nil
            answerBeforeEditor = nil
            if editing.mask.isEmpty {
                message = "Empty mask: nothing painted."
            } else if answeredLabel == .ok {
                // Said at once, not only when Enter is pressed again.
                message = "Your answer makes this part OK, yet a defect is painted: \(keyForNOK) if it is NOK; if it is OK, b then c clears the mask."
                // Below the legible size the verdict keys wait for a larger picture: said now,
                // not after the key is refused.
                if let across = answerPicture, across < Layout.legibleMinimum {
                    message += " (Verdicts need the part \(Layout.legibleMinimum) picture elements across, now \(across): enlarge the terminal first.)"
                }
            } else if answer.prediction == nil, let predicted = shown?.view.predictedLabel {
                // Enter would be refused without the prediction's verdict: ask for it, in the
                // terms of what was just painted (a defect makes the part NOK).
                message = "Mask painted (\(editing.mask.area) pixels). Now the prediction: "
                    + (predicted == .nok ? "y if the part is NOK, as predicted; then Enter." : "n: predicted OK, but a defect makes it NOK; then Enter.")
            } else {
                message = "Mask painted (\(editing.mask.area) pixels). Enter to submit."
            }
            return []
        case .cancelMask:
            // Paint made since the editor opened is asked about before it goes (u cannot
            // bring it back once the editor is closed).
            let before = answerBeforeEditor?.mask ?? setAsideBeforeEditor
            if editing.mask != (before ?? BinaryMask(width: editing.mask.width, height: editing.mask.height)), !editing.mask.isEmpty || before != nil {
                confirmation = .cancelEditorDroppingPaint
                message = "Drop what you painted since b (the mask goes back to \(before.map { "\($0.area) px" } ?? "none"))? y / n"
                return []
            }
            return cancelEditor()
        case .leaveEditorFirst:
            message = "Painting: Enter keeps the mask, Esc drops it; then Tab changes screen."
        default: break
        }
        // A move says nothing of its own: the line under the picture gives the brush's place.
        if case .moveBrush = action { message = "" }
        editor = editing
        // The view keeps the brush in sight, and a key moves the brush across what is seen
        // in about 64 presses at every zoom.
        viewport?.follow(x: editing.x, y: editing.y)
        fitEditorStep()
        return []
    }

    /// Esc: the editor closes and the answer is as it was before b.
    private mutating func cancelEditor() -> [ScreenEffect] {
        editor = nil
        // Back to the answer as it was before b: a mask painted earlier stays, and a first
        // opening leaves the explanation unanswered.
        answer = answerBeforeEditor ?? Answer(prediction: answer.prediction)
        setAsideMask = setAsideBeforeEditor
        answerBeforeEditor = nil
        setAsideBeforeEditor = nil
        message = "Mask editing cancelled; the answer is as before it"
            + (answer.mask != nil ? ": the mask painted before stays."
               : setAsideMask != nil ? ": the painted mask stays set aside (b brings it back)."
               : answer.explanation == nil ? ": the explanation is unanswered." : ".")
        return []
    }

    /// A mouse event on the picture being painted, already in its pixels.
    mutating func paint(atPixel x: Int, _ y: Int, pressed: Bool, released: Bool) {
        guard var editing = editor else { return }
        editing.apply(pressed ? .press(x: x, y: y) : released ? .release(x: x, y: y) : .drag(x: x, y: y))
        editor = editing
    }

    /// One zoom level in or out, and says what is shown: centred on `point` (the map's peak)
    /// when `centring`, else keeping `point` (the pointer, the brush) where it is on screen.
    mutating func zoom(in closer: Bool, about point: (x: Int, y: Int)? = nil, centring: Bool = false, saying place: String = "") {
        // Asked from the shell (the wheel) while a question is open or help shown: not now.
        guard confirmation == nil, !showHelp, current != .operator else { return }
        guard var view = viewport else { return }
        let before = view.zoom
        let changed: Bool
        if let point, !centring {
            changed = view.zoom(in: closer, keeping: point.x, point.y)
        } else {
            changed = closer ? view.zoomIn(aboutX: point?.x, y: point?.y) : view.zoomOut()
        }
        viewport = view
        if changed, var editing = editor {
            // The brush keeps its size on screen: zooming in gives a finer brush in the photo.
            // Kept as the size at zoom 1, so zooming in and out again gives the same brush back.
            let onScreen = brushAtWholeView ?? Double(editing.brush * before)
            brushAtWholeView = onScreen
            editing.apply(.brushRadius(Int((onScreen / Double(view.zoom)).rounded())))
            editor = editing
        }
        fitEditorStep()
        if changed {
            message = view.isZoomed
                ? "Zoom \(view.zoom)×\(place): \(view.words). "
                    + (editor != nil ? "The view follows the brush; Z zooms out."
                       : current == .inspector ? "Arrows/hjkl pan, Z zooms out, 1 shows 1:1." : "Z zooms out, 1 shows 1:1.")
                : "The whole photo (\(view.words))."
        } else {
            let shown = view.visible
            message = closer ? "Closest zoom: \(view.zoom)×, \(shown.width)×\(shown.height) photo pixels in view." : "The whole photo is shown."
        }
    }

    /// `1`: the 1:1 view — as many photo pixels as the panel has picture elements — about
    /// the brush while painting, else about `peak` (shares of the photo) on a whole photo, else
    /// the middle of the view; from 1:1, back to the view before.
    mutating func actualPixels(about peak: (x: Double, y: Double)?) {
        guard var view = viewport else { return }
        if view.isActualPixels {
            viewport = viewBeforeActualPixels ?? PhotoViewport(photoWidth: view.photoWidth, photoHeight: view.photoHeight)
            viewBeforeActualPixels = nil
            if let editing = editor { viewport?.follow(x: editing.x, y: editing.y) }
            fitEditorStep()
            message = "Back to \(viewport!.isZoomed ? viewport!.scaleWords : "the whole photo") (\(viewport!.words))."
            return
        }
        guard let room = answerRoom else {
            message = "The picture is not drawn yet: 1 works once it is."
            return
        }
        viewBeforeActualPixels = view
        let shown = view.visible
        var about = (x: shown.x + shown.width / 2, y: shown.y + shown.height / 2)
        if let editing = editor {
            about = (editing.x, editing.y)
        } else if !view.isZoomed, let peak {
            about = (Int(peak.x * Double(view.photoWidth)), Int(peak.y * Double(view.photoHeight)))
        }
        view.showActualPixels(width: room.width, height: room.height, aboutX: about.x, y: about.y)
        viewport = view
        fitEditorStep()
        message = view.isZoomed
            ? "1:1, one photo pixel per picture element: \(view.words). 1 again: back; z / Z: the zoom levels."
            : "The whole photo fits the panel at 1:1 or larger (\(view.words)): nothing more to see."
    }

    private mutating func fitEditorStep() {
        guard var editing = editor, let view = viewport else { return }
        // A 64th of the view's shorter side: on a wide photo a step down is not half the view.
        editing.step = max(1, min(view.visible.width, view.visible.height) / 64)
        editor = editing
    }

    private mutating func answerConfirmation(_ asked: Confirmation, with action: KeyAction?,
                                             facts: some ScreenFacts) throws -> [ScreenEffect] {
        confirmation = nil
        guard action == .confirm else {
            if case .revert(let selection, _) = asked, action == .nextPerson {
                // u narrows (or widens) the selection to the next person with answers in it.
                let users = try facts.usersWithAnswers().filter {
                    ((try? facts.answerCount(matching: AnswerSelection(user: $0, round: selection.round))) ?? 0) > 0
                }
                askRevert(AnswerSelection(user: Self.next(after: selection.user, in: users), round: selection.round), facts: facts)
                return []
            }
            switch asked {
            case .quitWhileTraining: message = "Not quitting: the run goes on."
            case .quitWithUnsubmittedAnswer: message = begunAnswerCount > 1 ? "Not quitting: your answers stay." : "Not quitting: your answer stays."
            case .skipDroppingAnswer: message = "Not skipped: your answer stays."
            case .moveDroppingAnswer: message = "Staying on this review: your answer stays."
            case .cancelEditorDroppingPaint: message = "Painting goes on (Enter keeps the mask)."
            case .cancelRoundInTraining: message = "Not cancelled: the round goes on training."
            default: message = "Cancelled; nothing changed."
            }
            return []
        }
        switch asked {
        case .rollback(let round, _): return [.rollback(to: round)]
        case .skipDroppingAnswer:
            guard let shown else { return [] }
            return [.store(skip(of: shown))]
        case .cancelEditorDroppingPaint:
            return cancelEditor()
        case .moveDroppingAnswer(let forward):
            let count = try facts.reviewCount()
            if count > 0 { reviewIndex = (reviewIndex + (forward ? 1 : count - 1)) % count }
            refutationBrowser = nil
            return [.openReview]
        case .quitWhileTraining, .quitWithUnsubmittedAnswer: return [.quit]
        case .cancelRoundInTraining:
            guard facts.isTraining, !facts.isPretraining else { message = "The round ended meanwhile; nothing cancelled."; return [] }
            message = "Cancelling the round in training: no round will be recorded; the answers stay pending."
            return [.cancelTraining]
        case .retrainFromScratch: return startRetraining(fromScratch: true, facts: facts)
        case .promote(let round): return [.promote(round)]
        case .revert(let selection, _): return [.revert(selection)]
        case .pretrain(let restart):
            if facts.isTraining { message = "Another job started meanwhile; nothing changed."; return [] }
            message = "Pretraining round 0 in the background; the other screens stay usable (c stops it, keeping the epochs done)."
            return [.startPretraining(restart: restart)]
        }
    }

    private mutating func answerKey(_ action: KeyAction, facts: some ScreenFacts) -> [ScreenEffect] {
        guard let shown else {
            message = current == .supervisor ? "No review is open: nothing to answer." : "No part is shown: nothing to answer."
            return []
        }
        // The feedback log covers the review: a verdict would be given on a part not in view.
        if showLog {
            message = "The feedback log covers the review: L closes it, then answer."
            return []
        }
        // A part drawn too small to judge takes no verdict, as a terminal below the minimum
        // does; skipping judges nothing and stays possible.
        if let across = answerPicture, across < Layout.legibleMinimum, action != .skip {
            message = "Drawn \(across) picture elements across, \(Layout.legibleMinimum) needed to judge it: s skips; a larger terminal "
                + "(or smaller font) answers. Nothing stored."
            return []
        }
        // A verdict on a map still changing is allowed, but said.
        let mapNote: String = {
            if case .computing(let done) = facts.heatmapStatus(of: shown.view.path) { return " (the heatmap is still computing, \(done) masks: it may change)" }
            return ""
        }()
        switch action {
        case .predictionRight, .predictionWrong:
            answer.prediction = action == .predictionRight ? .right : .wrong
            let label = answeredLabel ?? shown.view.predictedLabel
            var words = action == .predictionRight ? "Prediction right: \(label.displayName)." : "Prediction wrong: the label becomes \(label.displayName)."
            if label == .ok, answer.mask != nil {
                words += " A defect is painted on it, which an OK part has not: \(keyForNOK) if it is NOK; if it is OK, b then c clears the mask."
            } else {
                words += answer.explanation == nil ? " g / b for the explanation, Enter: submit." : " Enter: submit."
            }
            message = words
        case .explanationRight:
            answer.explanation = .right
            if let mask = answer.mask { setAsideMask = mask }
            answer.mask = nil
            // A flat map shows no region: on a part called NOK, "right" then confirms nothing a
            // refutation could be cut from, and the defect is better painted.
            let flatOnDefect = facts.heatmapStatus(of: shown.view.path) == .flat && (answeredLabel ?? shown.view.predictedLabel) == .nok
            message = "Explanation right" + mapNote + "."
                + (flatOnDefect ? " The map is flat — it shows no region, so nothing is learnt from it: b paints the defect instead." : "")
                + (setAsideMask != nil ? " The painted mask is set aside (b brings it back)." : "")
                + (answer.prediction == nil ? " Now y / n: is the prediction right?" : " Enter: submit.")
        case .explanationWrong:
            answerBeforeEditor = answer
            setAsideBeforeEditor = setAsideMask
            answer.explanation = .wrong
            editor = MaskEditor(width: shown.view.photo.width, height: shown.view.photo.height, start: answer.mask ?? setAsideMask)
            setAsideMask = nil
            brushAtWholeView = nil
            if let view = viewport, view.isZoomed {
                // Painting starts where the inspector was looking.
                let visible = view.visible
                editor?.apply(.place(x: visible.x + visible.width / 2, y: visible.y + visible.height / 2))
            }
            fitEditorStep()
            message = answeredLabel == .ok
                ? "Paint the defect only if the part is NOK: your answer so far makes it OK (then press \(keyForNOK)). Enter done, Esc cancels."
                : "Paint the defect\(mapNote): arrows/hjkl move, space pen, +/- brush, r rectangle, e erase, u undo, t top 10 %, Enter done."
        case .skip:
            if hasUnsubmittedAnswer {
                confirmation = .skipDroppingAnswer
                message = "Skip \(Self.shownName(shown.view.path)) and drop the answer begun on it\(answer.mask != nil ? " and its painted mask" : "")? y / n"
                return []
            }
            return [.store(skip(of: shown))]
        case .submit:
            return submit()
        default: break
        }
        return []
    }

    /// A skip of the shown part, ready to store.
    private func skip(of shown: Shown) -> Submission {
        let event = FeedbackEvent(itemPath: shown.view.path, user: user, role: current, predictedLabel: shown.view.predictedLabel,
                                  predictedConfidence: Double(shown.view.confidence), prediction: .skip, explanation: .skip)
        return Submission(event: event, mask: nil, review: shown.review)
    }

    /// Quits, or first asks when quitting would stop a training run or drop a begun answer.
    /// `prefix` says what asked (Ctrl-C).
    private mutating func askBeforeQuitting(facts: some ScreenFacts, prefix: String = "") -> [ScreenEffect] {
        // Every answer begun and not submitted — the shown one and those left with Tab.
        var begun: [String] = []
        for name in (hasUnsubmittedAnswer ? [shown.map { Self.shownName($0.view.path) }] : []).compactMap({ $0 })
            + parked.values.map({ Self.shownName($0.shown.view.path) }) where !begun.contains(name) {
            begun.append(name)
        }
        let names = begun.joined(separator: " and ")
        let dropping = begun.isEmpty ? "" : " Unsubmitted answer\(begun.count == 1 ? "" : "s") on \(names) would be dropped."
        if facts.isPretraining {
            confirmation = .quitWhileTraining
            message = prefix + "Pretraining runs: quitting stops it; the epochs done are kept and B (or nearcaipi pretrain) resumes."
                + dropping + " Quit? y / n"
            return []
        }
        if facts.isTraining {
            confirmation = .quitWhileTraining
            message = prefix + "A round is training: quitting stops it, no round recorded." + dropping + " Quit? y / n"
            return []
        }
        if !hasUnsubmittedAnswer, !parked.isEmpty {
            confirmation = .quitWithUnsubmittedAnswer
            message = prefix + "Your answer\(begun.count == 1 ? "" : "s") on \(names) (left with Tab) "
                + "\(begun.count == 1 ? "is" : "are") not submitted. Quit and drop \(begun.count == 1 ? "it" : "them")? y / n"
            return []
        }
        if hasUnsubmittedAnswer, let shown {
            confirmation = .quitWithUnsubmittedAnswer
            let name = Self.shownName(shown.view.path)
            message = prefix + (keptAnswer != nil && begun.count == 1
                ? "Your answer on \(name) could not be stored; it is kept in unstored-answers/ and stored when the screens next start. Quit? y / n"
                : "Your answer\(begun.count == 1 ? "" : "s") on \(names) \(begun.count == 1 ? "is" : "are") not submitted. "
                    + "Quit and drop \(begun.count == 1 ? "it" : "them")? y / n")
            return []
        }
        return [.quit]
    }

    /// Ctrl-C: quits at once when nothing would be lost; asks as q does when an answer is
    /// begun (painting included) or a run trains; a second Ctrl-C while asking quits.
    mutating func interrupted(facts: some ScreenFacts) -> [ScreenEffect] {
        if confirmation == .quitWhileTraining || confirmation == .quitWithUnsubmittedAnswer { return [.quit] }
        confirmation = nil
        showHelp = false
        return askBeforeQuitting(facts: facts, prefix: "Ctrl-C (again: quit): ")
    }

    /// The store refused the shown answer (`reason`); it stays on screen for Enter to try
    /// again, and `kept` is the file it waits in, if that could be written.
    mutating func notStored(reason: String, kept: String?) {
        keptAnswer = kept
        message = "Not stored: \(reason). Your answer stays here: Enter tries again"
            + (kept != nil ? "; it is also kept in unstored-answers/ and stored when the screens next start." : " (it could not be kept on disk either).")
    }

    /// The answer as it stands, if it can be stored.
    private mutating func submit() -> [ScreenEffect] {
        guard let shown, let prediction = answer.prediction else {
            message = "First say whether the prediction is right (y) or wrong (n)."
            return []
        }
        let event = FeedbackEvent(itemPath: shown.view.path, user: user, role: current, predictedLabel: shown.view.predictedLabel,
                                  predictedConfidence: Double(shown.view.confidence), prediction: prediction,
                                  explanation: answer.explanation)
        // A mask belongs to an explanation judged wrong; nothing else stores one.
        var mask = answer.explanation == .wrong ? answer.mask.flatMap { $0.isEmpty ? nil : $0 } : nil
        // Stored at the file's own size (the photo on screen may be reduced), so an export's
        // mask lines up with its image.
        if let painted = mask, painted.width != shown.view.fileWidth || painted.height != shown.view.fileHeight {
            mask = painted.resized(width: shown.view.fileWidth, height: shown.view.fileHeight)
        }
        // A painted defect on a part the answer calls OK contradicts itself: ask, store nothing.
        if event.establishedLabel == .ok, mask != nil {
            message = "Your answer makes this part OK, but a defect is painted on it: \(keyForNOK) if it is NOK; if it is OK, b then c clears the mask."
            return []
        }
        return [.store(Submission(event: event, mask: mask, review: shown.review))]
    }

    private mutating func supervisorKey(_ action: KeyAction, facts: some ScreenFacts) throws -> [ScreenEffect] {
        switch action {
        case .previousReview, .nextReview:
            let count = try facts.reviewCount()
            guard count > 0 else {
                message = "No reviews wait: they appear when an inspector says a prediction was wrong."
                return []
            }
            // The only review: there is no other to move to, so nothing to ask.
            if count == 1, shown?.review != nil {
                message = "This is the only review waiting."
                return []
            }
            // ←/→ dropped a begun answer (its mask too) without a word: asked, as s asks.
            if hasUnsubmittedAnswer, let shown {
                confirmation = .moveDroppingAnswer(forward: action == .nextReview)
                message = "Open the \(action == .nextReview ? "next" : "previous") review and drop the answer begun on "
                    + "\(Self.shownName(shown.view.path))\(answer.mask != nil ? " and its painted mask" : "")? y / n"
                return []
            }
            if count > 0 { reviewIndex = (reviewIndex + (action == .nextReview ? 1 : count - 1)) % count }
            refutationBrowser = nil
            return [.openReview]
        case .toggleRefutations:
            if refutationBrowser != nil {
                refutationBrowser = nil
                message = "Back to the query."
            } else if let review = shown?.review {
                let list = try facts.refutations(of: review.of)
                refutationBrowser = list.isEmpty ? nil : RefutationBrowser(list: list, index: 0)
                message = list.isEmpty
                    ? "No refutations were made from \(Self.shownName(review.of)) (made only from an explanation judged right or painted)."
                    : "Refutation 1 of \(list.count) in the query's place: ↑/↓ the others, f back to the query."
            } else {
                message = try facts.reviewCount() > 0 ? "Open a review (←/→) to see the refutations of its query."
                    : "No reviews wait, so no query's refutations to show."
            }
            return []
        case .nextRefutation, .previousRefutation:
            if showLog {
                // In the log, ↑ goes to older answers, ↓ back to the newest.
                logScroll = max(0, logScroll + (action == .previousRefutation ? 1 : -1))
                message = logScroll == 0 ? "Log: the newest answers." : "Log: scrolled back towards older answers (↓ returns)."
                return []
            }
            guard var browser = refutationBrowser else {
                message = "↑/↓ leaf through a query's refutations once f shows them."
                return []
            }
            browser.index = (browser.index + (action == .nextRefutation ? 1 : browser.list.count - 1)) % browser.list.count
            refutationBrowser = browser
            message = "Refutation \(browser.index + 1) of \(browser.list.count): \(browser.current.transform)."
            return []
        case .toggleLog:
            showLog.toggle()
            logScroll = 0
            message = showLog ? "Feedback log shown (u: one person's answers; L hides it)." : "Feedback log hidden."
            return []
        case .nextLogUser:
            guard showLog else {
                message = "u picks whose answers the log shows: L shows the log first."
                return []
            }
            logUser = Self.next(after: logUser, in: try facts.usersWithAnswers())
            message = "Log: " + (logUser.map { "\($0)'s answers" } ?? "everyone's answers") + " (u: the next person)."
            return []
        default:
            return []
        }
    }

    private mutating func operatorKey(_ action: KeyAction, facts: some ScreenFacts) throws -> [ScreenEffect] {
        let rounds = try facts.rounds()
        let selected = rounds.indices.contains(selectedRound) ? rounds[selectedRound] : nil
        switch action {
        case .selectEarlierRound:
            roundChosen = true
            if selectedRound == 0, !rounds.isEmpty { message = "Round \(rounds[0].number) is the oldest." }
            selectedRound = max(0, selectedRound - 1)
        case .selectLaterRound:
            roundChosen = true
            if selectedRound >= rounds.count - 1, let last = rounds.last { message = "Round \(last.number) is the newest." }
            selectedRound = min(max(0, rounds.count - 1), selectedRound + 1)
        case .retrain: return startRetraining(fromScratch: false, facts: facts)
        case .retrainFromScratch:
            if let busy = Self.busy(facts) { message = busy; return [] }
            confirmation = .retrainFromScratch
            message = "Train the next round from scratch — "
                + (facts.pretraining?.isFinished == true ? "from the pretrained round 0" : "random weights")
                + ", not the active round's; it takes longer and may start worse. y / n"
        case .pretrain:
            if let busy = Self.busy(facts) { message = busy; return [] }
            let images = (try? facts.pretrainingImageCount()) ?? 0
            if let saved = facts.pretraining, !saved.isFinished, saved.epochsDone > 0 {
                confirmation = .pretrain(restart: false)
                message = "Resume pretraining round 0 at epoch \(saved.epochsDone + 1) of \(saved.epochs) on \(images) images, labels unread "
                    + "(both cores; the screens stay usable)? y / n"
            } else if facts.pretraining?.isFinished == true {
                confirmation = .pretrain(restart: true)
                message = "Round 0 is pretrained. Pretrain it again from random weights? Rounds already trained keep theirs. y / n"
            } else {
                confirmation = .pretrain(restart: false)
                message = "Pretrain round 0 on the \(images) images outside the test split, labels unread? It can take tens of "
                    + "minutes; the screens stay usable, c stops it. y / n"
            }
        case .promote, .discard:
            guard let round = selected, round.status == .candidate else {
                message = rounds.contains { $0.status == .candidate }
                    ? "Select a candidate round (↑/↓) first: only a round kept back by the promotion rule can be promoted or discarded."
                    : "No round is a candidate: every round the promotion rule judged went live (P / D act on a round kept back)."
                return []
            }
            if action == .discard { return [.discard(round.number)] }
            confirmation = .promote(round.number)
            message = round.metrics?.inUseChangedTo != nil
                ? "Make candidate round \(round.number) active? It was compared with the round in use when it started training, not with today's. y / n"
                : "Make candidate round \(round.number) active although it did worse on the validation split? y / n"
        case .revertRound:
            guard let round = selected else { message = "No round selected."; return [] }
            if [.candidate, .discarded, .failed].contains(round.status) {
                message = "Round \(round.number) never went live, so no answer counts as trained into it: they wait for the next round. "
                    + "To revert a person's answers: nearcaipi revert WORKSPACE --user NAME."
                return []
            }
            askRevert(AnswerSelection(round: round.number), facts: facts)
        case .cancelJob:
            if facts.isPretraining {
                message = "Stopping pretraining after this batch: the epochs done are kept; B resumes."
                return [.cancelTraining]
            }
            if facts.isTraining {
                // The minutes trained so far are lost, so it asks, as quitting during a round does.
                confirmation = .cancelRoundInTraining
                message = "Cancel the round in training? Its training so far is lost, no round is recorded; the answers stay pending. y / n"
                return []
            }
            message = "No round is training."
        case .rollback:
            guard let round = selected else { message = "No round to roll back to yet."; return [] }
            if round.status == .active { message = "Round \(round.number) is the one in use: nothing to roll back."; return [] }
            guard [.superseded, .rolledBack].contains(round.status) else {
                message = "Round \(round.number) is \(round.status.displayName): only a round that was in use can be made active again"
                    + (round.status == .candidate ? " (P promotes a candidate)." : ".")
                return []
            }
            let waiting = try facts.answersWaiting(afterRollbackTo: round.number)
            confirmation = .rollback(to: round.number, waiting: waiting)
            message = "Roll back to round \(round.number)? Its model becomes active; later rounds are kept. Answers stay "
                + "(the \(waiting) answers later rounds trained on wait for the next). y / n"
        case .export: return [.export]
        default: break
        }
        return []
    }

    /// Why nothing else may train now (nil: the worker is free).
    static func busy(_ facts: some ScreenFacts) -> String? {
        if facts.isPretraining { return "Pretraining round 0 runs: wait for it, or c stops it (the epochs done are kept)." }
        if facts.isTraining { return "A round is already training (c cancels it)." }
        return nil
    }

    private mutating func startRetraining(fromScratch: Bool, facts: some ScreenFacts) -> [ScreenEffect] {
        if let busy = Self.busy(facts) { message = busy; return [] }
        message = "Training the next round\(fromScratch ? " from scratch" : "") in the background; the other screens stay usable."
        return [.startRetraining(fromScratch: fromScratch)]
    }

    /// Asks before reverting what `selection` picks; the answers are listed on the screen.
    private mutating func askRevert(_ selection: AnswerSelection, facts: some ScreenFacts) {
        let count = (try? facts.answerCount(matching: selection)) ?? 0
        guard count > 0 else {
            // Answers no round has trained on yet are not a round's: said where to revert them.
            message = "Nothing to revert: no \(selection) still standing. Answers not trained yet: "
                + "'nearcaipi revert WS --user NAME' lists them, --yes reverts."
            return
        }
        confirmation = .revert(selection, count: count)
        message = "Revert \(count) answer\(count == 1 ? "" : "s") (\(selection), listed)? y: revert · u: next person · other key: cancel"
    }

    /// The person after `user` in `users` (nil — everyone — after the last).
    static func next(after user: String?, in users: [String]) -> String? {
        guard let user, let index = users.firstIndex(of: user) else { return users.first }
        return index + 1 < users.count ? users[index + 1] : nil
    }

    // MARK: What came of an effect

    /// A new query is on screen (nil: the pool has nothing left to ask).
    mutating func showQuery(_ next: Shown?) {
        forgetPredictionsNow(keeping: nil)
        answer = Answer()
        editor = nil
        keptAnswer = nil
        setAsideMask = nil
        answerBeforeEditor = nil
        shown = next
        if next == nil { message = "The pool has nothing left to ask. Tab to the other screens, q to quit." }
    }

    /// The review at `index` of `count` is on screen (nil: none waiting).
    /// Drops the later round's predictions of parts no longer answered, keeping those of
    /// the parked answers and of `path`.
    private mutating func forgetPredictionsNow(keeping path: String?) {
        let kept = Set(parked.values.map(\.shown.view.path) + (path.map { [$0] } ?? []))
        predictionsNow = predictionsNow.filter { kept.contains($0.key) }
    }

    mutating func showReview(_ next: Shown?, index: Int) {
        forgetPredictionsNow(keeping: parked[.supervisor].flatMap { $0.shown.review?.id == next?.review?.id ? $0.shown.view.path : nil })
        answer = Answer()
        editor = nil
        keptAnswer = nil
        setAsideMask = nil
        answerBeforeEditor = nil
        shown = next
        reviewIndex = index
        if let review = next?.review, let view = next?.view {
            message = Self.reviewQuestion(review, view: view)
            // The answer begun on this review before the supervisor left the screen.
            if let back = parked[.supervisor], back.shown.review?.id == review.id {
                // The part as it was judged: a verdict on the prediction shown then, which a
                // new round may have turned (right of "OK" is not right of "NOK").
                shown = back.shown
                answer = back.answer
                setAsideMask = back.setAsideMask
                message = "Back to your answer on the review of \(Self.shownName(review.path)), not submitted yet."
            }
        }
        parked[.supervisor] = nil
    }

    /// `submission` was stored with `outcome`; returns what to open next.
    mutating func stored(_ submission: Submission, outcome: SubmitOutcome, interactionsPerRound: Int) -> [ScreenEffect] {
        let name = Self.shownName(submission.event.itemPath)
        if submission.isSkip {
            if submission.review == nil { counts.queriesSkipped += 1 } else { counts.reviewsSkipped += 1 }
            message = "Skipped \(name) (not counted for training) · \(counts.summary)"
        } else {
            if submission.review == nil { counts.queriesAnswered += 1 } else { counts.reviewsAnswered += 1 }
            var parts = ["saved \(name) (#\(outcome.feedbackID))", counts.summary]
            if outcome.heldForValidation { parts.append("kept for validation (judges the rounds; not trained on)") }
            if !outcome.refutations.isEmpty { parts.append("\(outcome.refutations.count) refutations made from it") }
            if !outcome.queuedReviews.isEmpty { parts.append("near hit and near miss queued for the supervisor") }
            if outcome.retrainDue { parts.append("retraining due (\(outcome.pending)/\(interactionsPerRound))") }
            if let problem = outcome.followUpProblem { parts.append("but refutations or reviews were not made: \(problem)") }
            message = parts.joined(separator: " · ")
        }
        return [submission.review == nil ? .openNextQuery : .openReview]
    }

    /// How a background job ended, as the shell learns it from the worker.
    enum JobOutcome {
        /// A round was recorded: active when it replaced the round in use (`previous`), else a
        /// candidate; `reason` is the promotion rule's verdict in words.
        case roundTrained(Round, previous: Round?, reason: String)
        /// Pretraining finished, or stopped as asked with its epochs kept.
        case pretrained(PretrainingSummary)
        /// A round stopped as asked: nothing recorded.
        case cancelled(TrainingWorker.Job)
        case failed(TrainingWorker.Job, String)
    }

    /// Says how the background job ended; a new round is selected, so P / D (or R) act on it
    /// at once. `roundCount`: the rounds there are now.
    mutating func jobEnded(_ outcome: JobOutcome, roundCount: Int) {
        switch outcome {
        case .roundTrained(let round, let previous, let reason):
            selectedRound = max(0, roundCount - 1)
            if round.status == .active {
                message = "Round \(round.number) trained and active" + modelChangeNote + " — \(reason)"
                    + String(format: "; test MCC %.3f.", round.metrics?.test.mcc ?? .nan)
            } else {
                // The round in use now: the one it was compared with, unless another was put
                // in use while it trained.
                let inUse = round.metrics?.inUseChangedTo ?? previous?.number ?? 0
                message = "Round \(round.number) kept as a candidate — \(reason); "
                    + (inUse == 0 ? "no round is in use" : "round \(inUse) stays in use") + ". P: use it anyway, D: discard."
            }
        case .pretrained(let summary):
            message = summary.isFinished
                ? String(format: "Round 0 pretrained: %d epochs on %d images in %@ (loss %.3f). T trains a round from it.",
                         summary.epochs, summary.images, readableDuration(summary.seconds), summary.losses.last ?? .nan)
                : "Pretraining stopped after epoch \(summary.epochsDone) of \(summary.epochs); the epochs done are kept (B resumes)."
        case .cancelled(.round):
            message = "Training stopped as asked; no round recorded, the answers stay pending."
        case .cancelled(.pretraining):
            message = "Pretraining stopped as asked; the epochs finished before are kept (B resumes)."
        case .failed(.pretraining, let reason):
            message = "Pretraining failed: \(reason). The epochs finished before are kept."
        case .failed(.round, let reason):
            message = "Training failed, no round recorded: \(reason)"
        }
    }

    /// What a carried-out effect changed, for the message line.
    enum Done {
        case rolledBack(to: Int, waiting: Int, pending: Int)
        case promoted(Int)
        case discarded(Int, pending: Int)
        case reverted(count: Int, AnswerSelection)
        case exported(images: Int, masks: Int, folder: String)
        /// Another process put round `number` in use.
        case roundChangedOutside(Int)
    }

    /// The answers begun and not submitted: the one shown and those left with Tab.
    var begunAnswerCount: Int {
        parked.count + (hasUnsubmittedAnswer && !parked.values.contains { $0.shown.view.path == shown?.view.path } ? 1 : 0)
    }

    /// Said after the model in use changed under a begun answer: its part's map is recomputed
    /// by the new model while the verdict given stays.
    private var modelChangeNote: String {
        let begun = begunAnswerCount
        guard begun > 0 else { return "" }
        return begun == 1
            ? " (your unsubmitted answer stays as given; its line shows the new model's prediction and map too)"
            : " (your \(begun) unsubmitted answers stay as given; their lines show the new model's prediction and map too)"
    }

    mutating func carriedOut(_ done: Done) {
        let note = modelChangeNote
        defer {
            // Said first, so a narrow terminal does not cut it.
            switch done {
            case .rolledBack, .promoted, .roundChangedOutside:
                if !note.isEmpty { message = note.trimmingCharacters(in: .whitespaces).dropFirst().dropLast().capitalizedFirst + ". " + message }
            default: break
            }
        }
        switch done {
        case .rolledBack(let round, let waiting, let pending):
            message = "Rolled back to round \(round) (later rounds kept, marked rolled back); the \(waiting) answers they trained on "
                + "wait for the next round, \(pending) pending in all."
        case .promoted(let round):
            message = "Round \(round) is active: its model now makes the predictions and heatmaps."
        case .discarded(let round, let pending):
            message = "Round \(round) discarded; the active round stays."
                + (pending > 0 ? " The \(pending) answer\(pending == 1 ? "" : "s") pending wait for the next round." : "")
        case .reverted(let count, let selection):
            message = "Reverted \(count) answer\(count == 1 ? "" : "s") (\(selection)); their items are asked again."
        case .exported(let images, let masks, let folder):
            message = "Exported \(images) labelled images and \(masks) masks to \(folder)."
        case .roundChangedOutside(let number):
            message = "Round \(number) is now in use (changed outside this screen)."
        }
    }

    /// Another supervisor answered the review first.
    mutating func reviewTaken(_ reason: String) -> [ScreenEffect] {
        message = reason
        return [.openReview]
    }

    /// The shown query's part was answered first elsewhere: its answer is not stored, and
    /// the next query comes (`showQuery` starts it with a fresh answer).
    mutating func queryTaken(_ reason: String) -> [ScreenEffect] {
        message = reason
        return [.openNextQuery]
    }

    /// Prefixes the message of what was just done to the message the next item brought (the
    /// review's question), so both are read.
    mutating func keepingMessage(_ done: String, then next: String) {
        message = next.isEmpty || next == done ? done : done + " · Next: " + next
    }

    // MARK: Words

    /// How the screens name an item: its file name only. The folders of a labelled data set
    /// (ok/, nok/, test/crack/) would tell the inspector the answer before they look.
    static func shownName(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }

    /// How a list names its items: by file name, and where two items of the list share one
    /// (MVTec's "015.png" in every defect folder) with a tag made from the whole path —
    /// different for every item, so it tells them apart without naming a folder, and nothing
    /// an inspector could learn a class from.
    static func shownNames(_ paths: [String]) -> [String: String] {
        var byName: [String: Set<String>] = [:]
        for path in paths { byName[shownName(path), default: []].insert(path) }
        var names: [String: String] = [:]
        for path in paths {
            let name = shownName(path)
            names[path] = byName[name]!.count > 1 ? "\(name) ·\(tag(path))" : name
        }
        return names
    }

    /// Three hex digits of the path's FNV-1a hash.
    static func tag(_ path: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(String(hash, radix: 16).suffix(3))
    }

    /// What the supervisor decides on a review, in words.
    static func reviewQuestion(_ review: Review, view: ItemView) -> String {
        let kind = review.reason == .nearHit ? "most like the query, same class" : "most like the query, other class"
        let name = review.reason.displayName
        return "\(name.prefix(1).uppercased() + name.dropFirst()) \(shownName(review.path)) (\(kind)): "
            + "\(view.predictedLabel.displayName) " + String(format: "%.2f", view.confidence) + " — right (y) or wrong (n)?"
    }
}

extension Role {
    /// The screens this role may switch between (Tab), its own last: a role also gets the
    /// screens of the roles below it.
    var screens: [Role] {
        switch self {
        case .inspector: [.inspector]
        case .supervisor: [.inspector, .supervisor]
        case .operator: [.inspector, .supervisor, .operator]
        }
    }
}


private extension StringProtocol {
    /// The text with its first letter a capital.
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
