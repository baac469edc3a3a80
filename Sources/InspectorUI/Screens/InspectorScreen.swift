import Imaging
import NearCAIPI

/// The inspector's screen: the part, its heatmap overlay with the colour bar, and what the
/// model said and the inspector answered so far.
struct InspectorScreen {
    var heatmaps: HeatmapLookup
    /// Items the pool held when the session began.
    var poolSize: Int
    /// The model in use's pass / review / reject cuts, when it has them.
    var cuts: OperatingPoint? = nil

    /// Draws `state`; returns the picture the mouse paints on.
    func draw(_ state: ScreenState, on painter: Painter, layout: Layout) -> MouseTarget? {
        guard let shown = state.shown else { return nil }
        let view = shown.view
        let region = state.viewport?.visible
        // While painting: the mask, the brush and a rectangle being drawn; once done, the
        // painted region stays marked until the answer is submitted.
        let marking = state.editor.map(MaskMarking.init(editor:))
            ?? state.answer.mask.flatMap { $0.isEmpty ? nil : MaskMarking(mask: $0) }
        // Both panels show the same part of the photo: the part itself, and the map over it —
        // side by side, or one above the other when a wide photo is larger so.
        let shape = region ?? PixelRect(x: 0, y: 0, width: view.photo.width, height: view.photo.height)
        let stacked = layout.stacked(forWidth: shape.width, height: shape.height)
        let drawn = painter.drawPhoto(view.photo, named: view.path, showing: region, in: stacked?.top ?? layout.leftImage, marking: marking)
        painter.noteAnswerPicture(width: shape.width, height: shape.height, in: stacked?.top ?? layout.leftImage)
        let layer = heatmaps.layer(view.path, state: state)
        var overlayBox = layout.rightImage, bar = layout.colorBar
        if let stacked {
            // Right under the picture drawn above, not where the panel's room would start.
            overlayBox = stacked.bottom
            overlayBox.row = stacked.top.row + drawn.rows + 1
            bar = stacked.bar
            bar.row = overlayBox.row
        } else {
            // A tall photo leaves most of its panel empty: the map goes right beside the part.
            overlayBox.column = min(overlayBox.column, layout.leftImage.column + drawn.columns + 2)
        }
        let overlayDrawn = painter.drawPhoto(view.photo, named: view.path, showing: region, in: overlayBox, heatmap: layer)
        // The picture may end well before its panel does: the bar goes beside it.
        bar.column = min(bar.column, overlayBox.column + overlayDrawn.columns + 1)
        // The bar is as tall as the picture beside it, and the text starts right under them.
        bar.rows = max(2, min(bar.rows, stacked == nil ? max(drawn.rows, overlayDrawn.rows) : overlayDrawn.rows))
        painter.drawColorBar(bar, flat: layer?.display.isFlat ?? heatmaps.result(view.path)?.display.isFlat ?? false)
        var d = layout.details
        d.row = min(d.row, stacked == nil ? layout.leftImage.row + max(drawn.rows, overlayDrawn.rows, bar.rows) + 1
                                          : overlayBox.row + max(overlayDrawn.rows, bar.rows) + 1)
        // The item, the prediction and the photo's size (or the zoomed part) on one line; the
        // heatmap's caption on its own; the answer so far. On a narrow terminal the least
        // needed words go first (the zoomed coordinates, the pool's size, the map's mask
        // count), never the prediction, the map's figures or the answer.
        let name = ScreenState.shownName(view.path)
        painter.put("item: \(name)", row: d.row, column: d.column, bold: true)
        let room = max(0, d.columns - 6 - name.count)
        var seen = state.viewport.map { "  ·  " + $0.summary } ?? ""
        let predicted = Self.predictionLine(view, cuts: cuts, now: state.predictionsNow[view.path])
        if predicted.count + seen.count > room, let viewport = state.viewport, viewport.isZoomed {
            seen = "  ·  " + viewport.scaleWords
        }
        // Left out rather than cut mid-word ("· 9" of "900×900 px").
        if predicted.count + seen.count > room { seen = "" }
        painter.put(String((predicted + seen).prefix(room)), row: d.row, column: d.column + 6 + name.count)
        // The map's line in fewer words until it fits, its figures kept (at 80 columns the
        // contrast was cut off).
        let showingOwnMap = heatmaps.showsOwnMap(view.path, state: state)
        var caption = painter.heatmapCaption(for: view, heatmaps: heatmaps, showingOwnMap: showingOwnMap)
        // What the network's own map says beside the explanation, kept while the rest fits.
        let own = showingOwnMap ? nil : heatmaps.result(view.path)?.ownMapReading.map(\.words).map { " · \($0) (m)" }
        if let own, caption.count + own.count <= d.columns { caption += own }
        if caption.count > d.columns, !showingOwnMap, let result = heatmaps.result(view.path) {
            let progress = result.complete ? "" : "\(result.masksDone)/\(heatmaps.masks)… · "
            let rungs = [progress + result.display.caption, progress + result.display.terseCaption]
            caption = (own.map { own in rungs.map { $0 + own } } ?? []).first { $0.count <= d.columns }
                ?? rungs.first { $0.count <= d.columns } ?? rungs.last!
        }
        painter.put(String(caption.prefix(d.columns)), row: d.row + 1, column: d.column)
        let left = max(0, poolSize - state.counts.queriesAnswered)
        // Skipped queries count too: the number says how many were shown.
        let number = state.counts.queriesAnswered + state.counts.queriesSkipped + 1
        var status = state.editor.map { Self.editorLine($0, columns: d.columns) }
            ?? Self.answerLine(state, columns: d.columns, before: "query \(number) · about \(left) in the pool · ", narrow: "query \(number) · ")
        // An image init set aside: said first, so it is read before the part is judged.
        if let oddity = view.oddity { status = "ODD IMAGE (\(oddity)) · " + status }
        painter.put(String(status.prefix(d.columns)), row: d.row + 2, column: d.column)
        return MouseTarget(box: stacked?.top ?? layout.leftImage, region: region ?? PixelRect(x: 0, y: 0, width: view.photo.width, height: view.photo.height),
                           columns: drawn.columns, rows: drawn.rows)
    }

    /// The answer so far: "prediction wrong → NOK, explanation ?" — y / n judge the model, so
    /// the line says what the verdict makes of the part.
    static func answerWords(_ state: ScreenState) -> String {
        let answered = state.answer.prediction.map { verdict in
            "prediction \(verdict.rawValue)" + (state.answeredLabel.map { " → \($0.displayName)" } ?? "")
        } ?? "prediction ?"
        let explained = state.answer.explanation.map { "explanation \($0.rawValue)" } ?? "explanation ?"
        return "\(answered), \(explained)"
    }

    /// "  ·  predicted: NOK 0.93 → review": the prediction, and what the plant would do with the
    /// part under the model in use's cuts.
    /// A begun answer judges the prediction it was given on; when another round went live
    /// meanwhile (`now`: that round's probabilities for the part), the line says both, and
    /// the plant's decision is the model's in use: "predicted (judged): OK 0.58 · now: NOK
    /// 0.86 → reject".
    static func predictionLine(_ view: ItemView, cuts: OperatingPoint?, now: [Float]? = nil) -> String {
        let nok = ClassLabel.nok.classIndex
        func decision(_ probabilities: [Float]) -> String { cuts.map { " → " + $0.decide(probabilities[nok]).brief } ?? "" }
        guard let now else {
            return String(format: "  ·  predicted: %@ %.2f", view.predictedLabel.displayName, view.confidence) + decision(view.probabilities)
        }
        return String(format: "  ·  predicted (judged): %@ %.2f · now: ", view.predictedLabel.displayName, view.confidence)
            + predictionWords(now) + decision(now)
    }

    /// "NOK 0.86": the class the probabilities predict and its probability.
    static func predictionWords(_ probabilities: [Float]) -> String {
        let label = ClassLabel(predictedFrom: probabilities)
        return String(format: "%@ %.2f", label.displayName, probabilities[label.classIndex])
    }

    /// The answer so far on one line of `columns`: `before` it (what is asked), then "your
    /// answer: …, mask N px"; in fewer words until it fits (`narrow` for `before`, then the
    /// verdicts shortened), the mask's size kept whole.
    static func answerLine(_ state: ScreenState, columns: Int, before: String = "", narrow: String = "") -> String {
        let mask = state.answer.mask.map { ", mask \($0.area) px" } ?? ""
        let words = answerWords(state) + mask
        let rungs = [before + "your answer: " + words, narrow + "answer: " + words,
                     narrow + "answer: " + words.replacingOccurrences(of: "prediction ", with: "pred. ").replacingOccurrences(of: "explanation ", with: "expl. ")]
        return rungs.first { $0.count <= columns } ?? rungs.last!
    }

    /// The mask editor's line fitted to `columns`: on a narrow one the brush's position goes
    /// first, the mask's size keeps its unit.
    static func editorLine(_ editor: MaskEditor, columns: Int) -> String {
        let status = editorStatus(editor)
        return status.count > columns ? editorStatus(editor, withPosition: false) : status
    }

    /// The mask editor's state in words: what the next move will do.
    static func editorStatus(_ editor: MaskEditor, withPosition: Bool = true) -> String {
        let pen = editor.penDown ? (editor.erasing ? "pen DOWN, erasing" : "pen DOWN, painting") : "pen up" + (editor.erasing ? " (erase mode)" : "")
        if !withPosition, let start = editor.rectangleStart {
            // Drawing a rectangle: both corners matter more than the pen's words.
            return "rectangle (\(start.x), \(start.y)) to (\(editor.x), \(editor.y)) · mask \(editor.mask.area) px"
        }
        let corner = editor.rectangleStart.map { " · rectangle from (\($0.x), \($0.y))" } ?? ""
        let at = withPosition ? " · at (\(editor.x), \(editor.y))" : ""
        return "painting: \(pen) · brush \(2 * editor.brush + 1) px\(at) · mask \(editor.mask.area) px\(withPosition ? corner : "")"
    }
}
