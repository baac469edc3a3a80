import NearCAIPI

/// What a key asks the screens to do. `ScreenState` carries the action out; which key asks
/// for which action, and how the help and the key line name it, is said once, in `KeyTable`.
enum KeyAction: Equatable {
    // Everywhere
    case quit, help, nextScreen, previousScreen
    // The picture (inspector and supervisor)
    case toggleOverlay, toggleOutline, toggleOwnMap, zoomIn, zoomOut
    /// A 1:1 view (one photo pixel per picture element), or back from it.
    case actualPixels
    /// Pan a zoomed photo by a share of the view.
    case pan(dx: Double, dy: Double)
    // Answering (the inspector's queries, the supervisor's reviews)
    case predictionRight, predictionWrong, explanationRight, explanationWrong, submit, skip
    // Supervisor
    case nextReview, previousReview, toggleRefutations, nextRefutation, previousRefutation, toggleLog, nextLogUser
    // Operator
    case selectEarlierRound, selectLaterRound, retrain, retrainFromScratch, pretrain, cancelJob
    case rollback, promote, discard, revertRound, export
    // Mask editor
    /// Move the brush by steps (a step is a 64th of the view's shorter side).
    case moveBrush(dx: Int, dy: Int)
    case togglePen, biggerBrush, smallerBrush, toggleErase, rectangleCorner, undo, redo, clearMask
    case startFromTopRegion, finishMask, cancelMask
    /// Tab while painting: the editor is left first.
    case leaveEditorFirst
    // A question on screen
    case confirm, nextPerson
}

/// One row of a screen's key table: the keys, the actions they ask for, and the words the
/// help and the key line use for them. Dispatch, help and key line are all made from these
/// rows, so a key cannot act without being listed, nor be listed without acting.
struct KeyBinding {
    /// How the help and the key line name the keys ("y/n", "←/→", "arrows/hjkl").
    let keys: String
    /// Each input and the action it asks for. Empty for what the shell handles itself
    /// (Ctrl-C, the mouse): those rows are for the help only.
    let inputs: [(input: CursesScreen.Input, action: KeyAction)]
    /// What the help says the keys do.
    let help: String
    /// Its words on the key line (nil: named in the help only).
    let keyLine: String?
    /// Its words on the short key line of a narrow terminal (nil: left out there; empty: the
    /// keys alone).
    let short: String?

    init(_ keys: String, _ inputs: [(CursesScreen.Input, KeyAction)], help: String, keyLine: String? = nil, short: String? = nil) {
        self.keys = keys
        self.inputs = inputs.map { (input: $0.0, action: $0.1) }
        self.help = help
        self.keyLine = keyLine
        self.short = short
    }

    /// The row for a single character.
    init(_ key: Character, _ action: KeyAction, help: String, keyLine: String? = nil, short: String? = nil) {
        self.init(String(key), [(.character(key), action)], help: help, keyLine: keyLine, short: short)
    }

    func action(for input: CursesScreen.Input) -> KeyAction? { inputs.first { $0.input == input }?.action }

    /// The same row named otherwise on the key line.
    func with(keyLine words: String) -> KeyBinding {
        KeyBinding(keys, inputs.map { ($0.input, $0.action) }, help: help, keyLine: words, short: short)
    }
}

/// Where keys are read: each has its own table.
enum KeyContext: Equatable {
    case inspector, supervisor, `operator`
    /// The supervisor leafing through a query's refutations (`f`).
    case refutations
    /// The supervisor's feedback log (`L`) covers the review.
    case log
    case maskEditor
    /// A yes / no question (`revert`: the revert question, which also takes u).
    case question(revert: Bool)
}

/// Every key of every screen, once.
enum KeyTable {
    static let everywhere = [
        KeyBinding("Tab", [(.tab, .nextScreen), (.backTab, .previousScreen)],
                   help: "next screen (Shift-Tab: the one before)", keyLine: "screens", short: nil),
        KeyBinding("?", .help, help: "this help (↑ / ↓ scroll it, any other key closes it)", keyLine: "help", short: ""),
        KeyBinding("q", .quit, help: "quit (asks first if an answer is begun or a round trains)", keyLine: "quit", short: ""),
        KeyBinding("Ctrl-C", [], help: "as q; twice quits"),
    ]

    static let answering = [
        KeyBinding("y/n", [(.character("y"), .predictionRight), (.character("n"), .predictionWrong)],
                   help: "the prediction is right / wrong (wrong flips the label)",
                   keyLine: "prediction right/wrong", short: "prediction"),
        KeyBinding("g/b", [(.character("g"), .explanationRight), (.character("b"), .explanationWrong)],
                   help: "the explanation is right / wrong (b: paint the defect)",
                   keyLine: "explanation right/wrong", short: "explanation"),
        KeyBinding("Enter", [(.enter, .submit)], help: "submit the answer (stored at once)", keyLine: "submit", short: "submit"),
        KeyBinding("s", .skip, help: "skip this part (not counted for training)", keyLine: "skip", short: "skip"),
    ]

    static let picture = [
        KeyBinding("z/Z", [(.character("z"), .zoomIn), (.character("Z"), .zoomOut)],
                   help: "zoom in (the first z: to the map's peak) / out; the mouse wheel too",
                   keyLine: "zoom", short: "zoom"),
        KeyBinding("1", .actualPixels, help: "1:1 — one photo pixel per screen pixel (half a cell in text) about the map's peak or the middle of the view; 1 again: back"),
        KeyBinding("o", .toggleOverlay, help: "heatmap overlay on / off", keyLine: "overlay"),
        KeyBinding("t", .toggleOutline, help: "outline of the heatmap's top 10 % on / off", keyLine: "outline"),
        KeyBinding("m", .toggleOwnMap,
                   help: "the network's own defect map in place of the explanation (rounds trained with the mask loss); m again: back",
                   keyLine: "own map", short: ""),
    ]

    static let pan = KeyBinding(
        "arrows/hjkl",
        [(.up, .pan(dx: 0, dy: -0.25)), (.down, .pan(dx: 0, dy: 0.25)), (.left, .pan(dx: -0.25, dy: 0)), (.right, .pan(dx: 0.25, dy: 0)),
         (.character("k"), .pan(dx: 0, dy: -0.25)), (.character("j"), .pan(dx: 0, dy: 0.25)),
         (.character("h"), .pan(dx: -0.25, dy: 0)), (.character("l"), .pan(dx: 0.25, dy: 0))],
        help: "pan a zoomed photo")

    static let inspector = answering + picture + [pan]

    static let reviews = KeyBinding("←/→", [(.left, .previousReview), (.right, .nextReview)],
                                    help: "the review before / after (near hits and misses waiting)", keyLine: "review", short: "review")
    static let refutationKeys = KeyBinding("f", .toggleRefutations, help: "the query's refutations in its place (f again: back to the query)",
                                           keyLine: "refutations", short: "refutations")
    static let browseRefutations = KeyBinding("↑/↓", [(.up, .previousRefutation), (.down, .nextRefutation)],
                                              help: "after f: the refutation before / after; in the log: older / newer answers", keyLine: "refutations")
    static let supervisorOwn = [
        reviews, refutationKeys, browseRefutations,
        KeyBinding("L", .toggleLog, help: "the feedback log on / off", keyLine: "log", short: "log"),
        KeyBinding("u", .nextLogUser, help: "with the log shown: one person's answers, the next, everyone's"),
    ]
    /// Esc closes the log too (only there: elsewhere it would open it).
    static let logEscape = KeyBinding("Esc", [(.escape, .toggleLog)], help: "in the log: closes it")
    static let supervisor = [supervisorOwn[0]] + answering + Array(supervisorOwn.dropFirst()) + picture

    static let `operator` = [
        KeyBinding("r", .retrain, help: "train the next round (fine-tunes the round in use)", keyLine: "retrain", short: "retrain"),
        KeyBinding("T", .retrainFromScratch, help: "train the next round from scratch (asks; from round 0 if pretrained)",
                   keyLine: "from scratch", short: "scratch"),
        KeyBinding("B", .pretrain, help: "pretrain round 0 on the unlabelled images (asks; resumes; c stops it keeping the epochs)",
                   keyLine: "pretrain"),
        KeyBinding("c", .cancelJob, help: "cancel the round in training (asks; none recorded) or stop pretraining", keyLine: "cancel", short: "stop"),
        KeyBinding("↑/↓", [(.up, .selectEarlierRound), (.down, .selectLaterRound)], help: "select a round", keyLine: "round", short: ""),
        KeyBinding("R", .rollback, help: "roll back to the selected round (asks; answers stay)", keyLine: "rollback", short: "rollback"),
        KeyBinding("P/D", [(.character("P"), .promote), (.character("D"), .discard)],
                   help: "promote (asks) / discard the selected candidate (a round the promotion rule kept back)",
                   keyLine: "promote/discard", short: ""),
        KeyBinding("v", .revertRound, help: "revert the answers the selected round trained on (lists them, asks; u: by person)",
                   keyLine: "revert", short: "revert"),
        KeyBinding("x", .export, help: "export the labelled images and masks to a new folder in the workspace", keyLine: "export", short: ""),
    ]

    static let maskEditor = [
        KeyBinding("Enter", [(.enter, .finishMask)], help: "done: keep the mask", keyLine: "done", short: "done"),
        KeyBinding("Esc", [(.escape, .cancelMask)], help: "cancel: the answer as it was before b (a mask painted before stays)", keyLine: "cancel", short: "cancel"),
        KeyBinding("arrows/hjkl",
                   [(.up, .moveBrush(dx: 0, dy: -1)), (.down, .moveBrush(dx: 0, dy: 1)), (.left, .moveBrush(dx: -1, dy: 0)),
                    (.right, .moveBrush(dx: 1, dy: 0)), (.character("k"), .moveBrush(dx: 0, dy: -1)), (.character("j"), .moveBrush(dx: 0, dy: 1)),
                    (.character("h"), .moveBrush(dx: -1, dy: 0)), (.character("l"), .moveBrush(dx: 1, dy: 0))],
                   help: "move the brush (the mouse paints where it is pressed)", keyLine: "move"),
        // Capitals jump eight steps: across the image in eight presses.
        KeyBinding("HJKL",
                   [(.character("K"), .moveBrush(dx: 0, dy: -8)), (.character("J"), .moveBrush(dx: 0, dy: 8)),
                    (.character("H"), .moveBrush(dx: -8, dy: 0)), (.character("L"), .moveBrush(dx: 8, dy: 0))],
                   help: "jump eight steps", keyLine: "jump"),
        KeyBinding("space", [(.character(" "), .togglePen)], help: "pen down / up (down: moving paints)", keyLine: "pen", short: "pen"),
        KeyBinding("+/-", [(.character("+"), .biggerBrush), (.character("="), .biggerBrush), (.character("-"), .smallerBrush)],
                   help: "bigger / smaller brush (= as +)", keyLine: "brush", short: "brush"),
        KeyBinding("z/Z", [(.character("z"), .zoomIn), (.character("Z"), .zoomOut)],
                   help: "zoom in / out; the view follows the brush, which keeps its size on screen", keyLine: "zoom", short: ""),
        KeyBinding("1", .actualPixels, help: "1:1 about the brush (one photo pixel per screen pixel); 1 again: back"),
        KeyBinding("r", .rectangleCorner, help: "rectangle: first corner, then the opposite one", keyLine: "rect"),
        KeyBinding("e", .toggleErase, help: "erase mode on / off (pen and rectangles remove paint)", keyLine: "erase", short: "erase"),
        KeyBinding("u", .undo, help: "undo", keyLine: "undo", short: "undo"),
        KeyBinding("U", [(.character("U"), .redo), (.character("\u{12}"), .redo)], help: "redo (Ctrl-R as well)", keyLine: "redo"),
        KeyBinding("c", .clearMask, help: "clear the mask (u brings it back)", keyLine: "clear"),
        KeyBinding("t", .startFromTopRegion, help: "start from the heatmap's top 10 %", keyLine: "top10%"),
        KeyBinding("q", .quit, help: "says how to leave the editor first (Enter or Esc, then q)"),
        KeyBinding("Tab", [(.tab, .leaveEditorFirst), (.backTab, .leaveEditorFirst)], help: "says how to leave the editor first (Enter or Esc, then Tab)"),
        KeyBinding("?", .help, help: "this help", keyLine: "help", short: ""),
    ]

    static let question = [
        KeyBinding("y", .confirm, help: "yes", keyLine: "yes"),
        KeyBinding("any other key", [], help: "cancels", keyLine: "cancels"),
    ]
    static let revertQuestion = [
        KeyBinding("y", .confirm, help: "revert them", keyLine: "revert them"),
        KeyBinding("u", .nextPerson, help: "the next person's answers only (then everyone's)", keyLine: "next person"),
        KeyBinding("any other key", [], help: "cancels", keyLine: "cancels"),
    ]

    /// The rows that act in `context`, in the order the key line names them.
    static func bindings(in context: KeyContext) -> [KeyBinding] {
        switch context {
        case .inspector: inspector + everywhere
        case .supervisor, .refutations: supervisor + everywhere
        case .log: [logEscape] + supervisor + everywhere
        case .operator: `operator` + everywhere
        case .maskEditor: maskEditor
        case .question(let revert): revert ? revertQuestion : question
        }
    }

    /// What `input` asks for in `context` (nil: nothing there).
    static func action(for input: CursesScreen.Input, in context: KeyContext) -> KeyAction? {
        for binding in bindings(in: context) { if let action = binding.action(for: input) { return action } }
        return nil
    }

    /// The rows the key line names in `context`: while leafing through refutations, the keys
    /// for that first.
    static func lineBindings(in context: KeyContext) -> [KeyBinding] {
        if context == .refutations {
            return [browseRefutations, refutationKeys.with(keyLine: "back to the query"), reviews] + everywhere.filter { $0.keyLine != nil }
        }
        if context == .log {
            return supervisorOwn.filter { ["L", "u"].contains($0.keys) }.map { $0.with(keyLine: $0.keys == "L" ? "close the log" : "one person / everyone") }
                + [browseRefutations.with(keyLine: "scroll")] + everywhere.filter { $0.keyLine != nil }
        }
        // ↑/↓ name refutations only once they are shown.
        return bindings(in: context).filter { $0.keyLine != nil && !($0.keys == browseRefutations.keys && context == .supervisor) }
    }

    /// The key line: every listed row, "keys words", most used first; rows named in
    /// `omitting` left out (Tab for a role with one screen).
    static func keyLine(in context: KeyContext, omitting: Set<String> = []) -> String {
        // The supervisor's verdict keys without words: the inspector's line taught them, and
        // the long line then fits 160 columns.
        let bare: Set<String> = context == .supervisor ? ["y/n", "g/b"] : []
        return " " + lineBindings(in: context).filter { !omitting.contains($0.keys) }.map {
            bare.contains($0.keys) ? $0.keys : $0.keys + " " + ($0.keyLine ?? "")
        }.joined(separator: " · ")
    }

    /// The key line in a few words per key, for narrow terminals.
    /// Every short line fits 80 columns (a test says so): the supervisor's answer and picture
    /// keys go without words there — the inspector's line has taught them. The overlay and
    /// outline toggles are left to the help, so that the verdict keys keep their words and q
    /// still fits.
    static func shortLine(in context: KeyContext, omitting: Set<String> = []) -> String {
        let answerKeys = Set((answering + picture).map(\.keys))
        let items = bindings(in: context).filter { !omitting.contains($0.keys) }.compactMap { binding in
            binding.short.map { $0.isEmpty || (context == .supervisor && answerKeys.contains(binding.keys)) ? binding.keys : binding.keys + " " + $0 }
        }
        return " " + items.joined(separator: " · ")
    }
}
