import Foundation
import Imaging
import NearCAIPI

/// The supervisor's screen: a review (near hit or near miss of a query an inspector said was
/// mispredicted) beside its query, the other neighbour and the farthest part; or the log.
struct SupervisorScreen {
    var heatmaps: HeatmapLookup
    /// Open reviews.
    var reviewCount: Int
    /// The query, near hit, near miss and farthest, read once per review.
    var panels: [ItemView?]
    /// The region painted on the query, if any.
    var queryMask: BinaryMask?
    /// The refutation shown in the query's place, when browsing them.
    var refutationImage: Image?
    /// The answers listed when the log is open.
    var log: [FeedbackRecord]

    func draw(_ state: ScreenState, on painter: Painter, layout: Layout) -> MouseTarget? {
        if state.showLog {
            AnswersTable.draw(log, title: "feedback log\(state.logUser.map { " of \($0)" } ?? " (all users)")", scroll: state.logScroll,
                              on: painter, layout: layout)
            return nil
        }
        guard let shown = state.shown, let review = shown.review else {
            let text = reviewCount == 0
                ? "No near hits or misses waiting for review. They appear when an inspector says a prediction was wrong."
                : "\(reviewCount) reviews waiting: ←/→ opens one."
            for (offset, line) in TextLines.wrapped(text, columns: max(20, layout.columns - 4), lines: 3).enumerated() {
                painter.put(line, row: 3 + offset, column: 2)
            }
            return nil
        }
        let title = "review \(state.reviewIndex + 1) of \(reviewCount): \(review.reason.displayName) of \(ScreenState.shownName(review.of))"
        let why = [", whose prediction an inspector said was wrong", " (its prediction was wrong)", ""].first { title.count + $0.count <= layout.columns - 2 } ?? ""
        painter.put(String((title + why).prefix(layout.columns - 2)), row: 2, column: 1, bold: true)
        let names = ["query", "near hit", "near miss", "farthest"]
        // Why a panel can be empty.
        let missing = ["the query is no longer in the workspace", "no other pool part of the query's class",
                       "no pool part of the other class", "no other pool part"]
        var target: MouseTarget?
        // Four panels, unless that draws the part under review too small to judge: then the
        // query and that part only, side by side at the full height.
        let selectedIndex = panels.firstIndex { $0?.path == shown.view.path } ?? 1
        let shape = state.viewport?.visible ?? PixelRect(x: 0, y: 0, width: shown.view.photo.width, height: shown.view.photo.height)
        var boxes: [(index: Int, box: Layout.Panel)] = Array(layout.quadrants.enumerated()).map { ($0.offset, $0.element) }
        if painter.pictureSize(width: shape.width, height: shape.height, in: layout.quadrants[selectedIndex]) < Layout.legibleMinimum {
            let pair = layout.reviewPair
            boxes = [(0, pair[0]), (selectedIndex, pair[1])]
            let hidden = names.indices.filter { $0 != 0 && $0 != selectedIndex }.map { names[$0] }.joined(separator: " and ")
            if state.editor == nil, !state.hasUnsubmittedAnswer {
                painter.put(String("\(hidden): not shown at this size".prefix(layout.columns - 2)),
                            row: layout.messageRow - 1, column: 1, dim: true)
            }
        }
        for (index, box) in boxes {
            let title = names[index]
            guard index < panels.count, let view = panels[index] else {
                painter.put(String("\(title): none — \(missing[index])".prefix(box.columns - 1)), row: box.row - 1, column: box.column, dim: true)
                continue
            }
            let name = ScreenState.shownName(view.path)
            if index == 0, let browser = state.refutationBrowser {
                if let refutationImage { painter.drawImage(refutationImage, in: box) }
                painter.put(String("refutation \(browser.index + 1)/\(browser.list.count) of \(name): \(browser.current.transform)".prefix(box.columns - 1)),
                            row: box.row - 1, column: box.column, bold: true)
                continue
            }
            if index == 0 {
                // The query as the inspector saw it: the part itself, with the region they
                // painted (if any) — not a heatmap over it.
                let painted = queryMask.flatMap { $0.isEmpty ? nil : $0.resized(width: view.photo.width, height: view.photo.height) }
                painter.drawPhoto(view.photo, named: view.path, in: box, marking: painted.map(MaskMarking.init(mask:)))
                let label = view.knownLabel.map { "labelled \($0.displayName)" } ?? "not labelled"
                // Fewer words before any is cut: the label and whether a defect was painted.
                let headings = ["\(title) \(name): \(label)\(painted != nil ? ", defect painted" : ", no defect painted")",
                                "\(title) \(name): \(view.knownLabel?.displayName ?? "?")\(painted != nil ? ", painted" : ", no paint")",
                                "\(title): \(view.knownLabel?.displayName ?? "?")\(painted != nil ? ", painted" : "")"]
                let heading = headings.first { $0.count <= box.columns - 1 } ?? headings.last!
                painter.put(String(heading.prefix(box.columns - 1)), row: box.row - 1, column: box.column)
                continue
            }
            let selected = view.path == shown.view.path
            let editing = selected ? state.editor.map(MaskMarking.init(editor:)) : nil
            let caption = painter.heatmapCaption(for: view, heatmaps: heatmaps, compact: true,
                                                 showingOwnMap: heatmaps.showsOwnMap(view.path, state: state))
            // While painting, the part itself (not the heatmap) under the paint; the panel being
            // judged shows the part of it the supervisor zoomed to.
            let layer = editing == nil ? heatmaps.layer(view.path, state: state) : nil
            let whole = PixelRect(x: 0, y: 0, width: view.photo.width, height: view.photo.height)
            let region = selected ? state.viewport?.visible ?? whole : whole
            let drawn = painter.drawPhoto(view.photo, named: view.path, showing: region, in: box, heatmap: layer, marking: editing)
            if selected {
                target = MouseTarget(box: box, region: region, columns: drawn.columns, rows: drawn.rows)
                painter.noteAnswerPicture(width: region.width, height: region.height, in: box)
            }
            let known = view.knownLabel.map { " · labelled \($0.displayName)" } ?? ""
            let zoom = selected && state.viewport?.isZoomed == true ? " · " + state.viewport!.scaleWords : ""
            // Fewer words before any is cut: the prediction first, then the map, then the name.
            var prediction = String(format: "%@ %.2f", view.predictedLabel.displayName, view.confidence)
            // The panel being answered keeps the prediction the begun answer judges; a round
            // put in use since is shown beside it, as on the inspector's screen.
            if selected, let now = state.predictionsNow[view.path] {
                prediction = "judged " + prediction + ", now " + InspectorScreen.predictionWords(now)
            }
            let headings = ["\(selected ? "▶ " : "")\(title) \(name): \(prediction)\(known) · \(caption)\(zoom)",
                            "\(selected ? "▶ " : "")\(title) \(name): \(prediction) · \(caption)",
                            "\(selected ? "▶ " : "")\(title): \(prediction) · \(caption)",
                            "\(selected ? "▶ " : "")\(title): \(prediction)"]
            let heading = headings.first { $0.count <= box.columns - 1 } ?? headings.last!
            // One cell short of the panel: a title never runs into the next panel's.
            painter.put(String(heading.prefix(box.columns - 1)), row: box.row - 1, column: box.column, bold: selected)
        }
        // The answer being given, as the inspector's screen shows it: without it a begun
        // verdict or mask was invisible once the message changed.
        if let editor = state.editor {
            painter.put(String(InspectorScreen.editorLine(editor, columns: layout.columns - 2).prefix(layout.columns - 2)),
                        row: layout.messageRow - 1, column: 1, dim: true)
        } else if state.hasUnsubmittedAnswer {
            painter.put(String(InspectorScreen.answerLine(state, columns: layout.columns - 2).prefix(layout.columns - 2)),
                        row: layout.messageRow - 1, column: 1)
        }
        return target
    }
}

/// Answers as a table with headings, newest last, times in the local time zone.
enum AnswersTable {
    /// Draws the answers, newest last, `scroll` rows back from the newest; says how many
    /// are above and below what fits.
    static func draw(_ rows: [FeedbackRecord], title: String, scroll: Int = 0, on painter: Painter, layout: Layout) {
        let lines = lines(rows, narrow: layout.columns < 110, tight: layout.columns < 76)
        let room = max(1, layout.messageRow - 5)
        let body = Array(lines.dropFirst())
        let end = max(0, body.count - max(0, min(scroll, body.count - room)))
        let start = max(0, end - room)
        let more = [start > 0 ? "\(start) older above" : nil, end < body.count ? "\(body.count - end) newer below" : nil].compactMap { $0 }
        painter.put("\(title) — \(rows.count) answer\(rows.count == 1 ? "" : "s")"
                    + (more.isEmpty ? "" : " · " + more.joined(separator: ", ") + " (↑/↓ scroll)"), row: 2, column: 1, bold: true)
        painter.put(lines[0], row: 3, column: 1, bold: true)
        for (offset, line) in body[start..<end].enumerated() {
            painter.put(line, row: 4 + offset, column: 1, dim: line.hasSuffix("reverted"))
        }
    }

    /// The table's lines, heading first. `narrow` (under 110 columns): no role, the time
    /// without the year, short headings and states, so the label, mask and state columns
    /// still show; `tight` (under 76): no time either.
    static func lines(_ rows: [FeedbackRecord], narrow: Bool = false, tight: Bool = false) -> [String] {
        let parse = ISO8601DateFormatter()
        let local = DateFormatter()
        local.dateFormat = narrow ? "MM-dd HH:mm" : "yyyy-MM-dd HH:mm"
        func cell(_ text: String, _ width: Int) -> String { text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }
        // File names only: the folders (ok/, nok/, test/crack/) would give the answers away.
        let names = ScreenState.shownNames(rows.map(\.itemPath))
        let itemWidth = min(narrow ? 22 : 40, max(4, names.values.map(\.count).max() ?? 4) + 1)
        let w = narrow ? (id: 5, time: tight ? 0 : 12, who: 9, role: 0, prediction: 6, explanation: 6, label: 4, mask: 5)
                       : (id: 6, time: 17, who: 14, role: 11, prediction: 11, explanation: 12, label: 6, mask: 6)
        func roleCell(_ text: String) -> String { narrow ? "" : cell(text, w.role) }
        func timeCell(_ text: String) -> String { w.time == 0 ? "" : cell(text, w.time) }
        var lines = [cell("#", w.id) + timeCell("time") + cell("who", w.who) + roleCell("role") + cell("item", itemWidth)
                     + cell(narrow ? "pred." : "prediction", w.prediction) + cell(narrow ? "expl." : "explanation", w.explanation)
                     + cell(narrow ? "lab." : "label", w.label) + cell("mask", w.mask) + "state"]
        for row in rows {
            let time = parse.date(from: row.time).map(local.string(from:)) ?? row.time
            // Where the answer stands: trained into a round, waiting for the next, or withdrawn.
            var state = row.reverted ? "reverted" : row.establishedLabel == nil ? "–" : row.heldForValidation ? "validation"
                : row.roundNumber.map { "round \($0)" } ?? "pending"
            // A rolled-back round's answers wait again; where they were is kept.
            if row.roundNumber == nil, let last = row.trainedInto.last, !row.reverted, !row.heldForValidation {
                state += narrow ? " (was r\(last))" : " (was in round \(last))"
            }
            let who = narrow ? String(row.user.prefix(w.who - 1)) : row.user
            lines.append(cell(String(row.id), w.id) + timeCell(time) + cell(who, w.who) + roleCell(row.role?.rawValue ?? "–")
                         + cell(String((names[row.itemPath] ?? row.itemPath).prefix(itemWidth - 1)), itemWidth)
                         + cell(row.prediction?.rawValue ?? "–", w.prediction)
                         + cell(row.explanation?.rawValue ?? "–", w.explanation) + cell(row.establishedLabel?.displayName ?? "–", w.label)
                         + cell(row.hasCorrectedMask ? "yes" : "–", w.mask) + state)
        }
        return lines
    }
}
