import Imaging
import NearCAIPI

/// What every screen has around it: the header (who, which screen, answers pending, the
/// workspace), the training progress, the two message lines and the key line.
struct ScreenFrame {
    var workspacePath: String
    var pending: Int
    var interactionsPerRound: Int
    /// The job in the background ("training", "pretraining round 0"): epoch, epochs, loss.
    var training: (what: String, epoch: Int, of: Int, loss: Float)?
    /// Whether the part shown has the network's own defect map: `m` is named only then.
    var ownMap = false

    func draw(_ state: ScreenState, on painter: Painter, layout: Layout) {
        let columns = layout.columns
        let screens = state.role.screens
        let tabs = screens.count > 1
            ? " · screens (Tab): " + screens.map { $0 == state.current ? "[\($0.rawValue)]" : $0.rawValue }.joined(separator: " ") : ""
        // What a person acts on first (at 80 columns the screens list and the folder are cut,
        // not the answers waiting for the next round); the workspace's folder last.
        var header = " NearCAIPI · \(state.user), \(state.role.rawValue) · answers pending \(pending)/\(interactionsPerRound)\(tabs) · \(workspacePath)"
        if header.count > columns {
            // Narrow: the screens keep their names (which one is shown, which Tab reaches).
            let names = screens.count > 1 ? " · Tab: " + screens.map { $0 == state.current ? "[\($0.rawValue)]" : $0.rawValue }.joined(separator: " ") : ""
            header = " \(state.user), \(state.role.rawValue) · pending \(pending)/\(interactionsPerRound)\(names) · \(workspacePath)"
            // Narrower still: the screen shown, rather than a list cut before it.
            if header.count > columns, screens.count > 1 {
                header = " \(state.user) · pending \(pending)/\(interactionsPerRound) · [\(state.current.rawValue)] (Tab: \(screens.count) screens)"
            }
        }
        painter.put(String(header.prefix(columns)), row: 0, column: 0, reverse: true)
        if let training {
            painter.put(String(Self.trainingLine(training).prefix(columns - 1)), row: 1, column: 1, bold: true)
        }
        for (offset, line) in TextLines.wrapped(state.message, columns: columns - 2, lines: Layout.messageLines).enumerated() {
            painter.put(line, row: layout.messageRow + offset, column: 1)
        }
        // The long key line when it fits, else the short one: at 80 columns the long one kept
        // only y/n and g/b, and Enter, s and z went unmentioned.
        let hints = Self.hints(for: state, ownMap: ownMap)
        let line = hints.count <= columns || Self.tooSmallLine(for: state) != nil ? Self.fitted(hints, columns: columns)
            : Self.fitted(Self.shortHints(for: state, ownMap: ownMap) ?? hints, columns: columns)
        painter.put(line, row: layout.hintRow, column: 0, dim: true)
    }

    /// The background job's line: its bar, epoch and loss. Before its first epoch a round
    /// reads the answers, the images and the model in use (up to half a minute on large
    /// photos): said so, not "epoch 0/20 loss 0.000".
    static func trainingLine(_ training: (what: String, epoch: Int, of: Int, loss: Float)) -> String {
        let progress = training.epoch == 0
            ? "] preparing epoch 1 of \(training.of): reading what it trains on"
            : String(format: "] epoch %d/%d loss %.3f", training.epoch, training.of, training.loss)
        return "\(training.what) [" + progressBar(training.epoch, of: training.of) + progress
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

    /// The key line in a few words per key, for narrow terminals (nil: the long one is short).
    static func shortHints(for state: ScreenState, ownMap: Bool = false) -> String? {
        let context = state.keyContext
        if case .question = context { return nil }
        if [.refutations, .log].contains(context) { return nil }
        return KeyTable.shortLine(in: context, omitting: omitted(for: state, ownMap: ownMap))
    }

    /// The keys that act now, most used first (made from the key table, as dispatch is);
    /// `ownMap`: the part shown has the network's own defect map.
    static func hints(for state: ScreenState, ownMap: Bool = false) -> String {
        let context = state.keyContext
        if let line = tooSmallLine(for: state) { return line }
        return KeyTable.keyLine(in: context, omitting: omitted(for: state, ownMap: ownMap))
    }

    /// A part drawn too small to judge: the key line says so rather than offer verdicts, the
    /// key that still works first (nil: the part is large enough).
    static func tooSmallLine(for state: ScreenState) -> String? {
        guard let across = state.answerPicture, across < Layout.legibleMinimum, [.inspector, .supervisor].contains(state.keyContext),
              state.shown != nil else { return nil }
        // Under 80 columns whole, so the reason shows at 80×24 before any key is pressed
        // (with the zoom keys it did not fit, and only "s skip · ? all keys" was left).
        return " s skip · too small to judge (\(across) of \(Layout.legibleMinimum) needed): enlarge the terminal · ? · q"
    }

    /// Keys that do nothing here: Tab with a single screen; m where the part has no own
    /// defect map (most rounds: it comes with the mask loss) and none is shown.
    static func omitted(for state: ScreenState, ownMap: Bool) -> Set<String> {
        var keys: Set<String> = state.role.screens.count == 1 ? ["Tab"] : []
        if !ownMap && !state.showOwnMap { keys.insert("m") }
        return keys
    }
}
