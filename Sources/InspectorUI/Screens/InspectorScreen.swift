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
        // While painting: the mask, the brush and a rectangle being drawn; once done, the
        // painted region stays marked until the answer is submitted.
        let marking = state.editor.map(MaskMarking.init(editor:))
            ?? state.answer.mask.flatMap { $0.isEmpty ? nil : MaskMarking(mask: $0) }
        let drawn = painter.drawImage(view.image, in: layout.leftImage, marking: marking)
        let (overlayImage, caption) = painter.overlay(for: view, heatmaps: heatmaps, outline: state.showOutline)
        let overlayDrawn = painter.drawImage(state.showOverlay ? overlayImage : view.image, in: layout.rightImage)
        // The bar is as tall as the picture beside it, and the text starts right under them.
        var bar = layout.colorBar
        bar.rows = max(2, min(bar.rows, max(drawn.rows, overlayDrawn.rows)))
        painter.drawColorBar(bar, flat: heatmaps.result(view.path)?.display.isFlat ?? false)
        var d = layout.details
        d.row = min(d.row, layout.leftImage.row + max(drawn.rows, overlayDrawn.rows, bar.rows) + 1)
        // The item and the prediction on one line; the heatmap's caption on its own, whole.
        painter.put("item: \(ScreenState.shownName(view.path))", row: d.row, column: d.column, bold: true)
        painter.put(Self.predictionLine(view, cuts: cuts), row: d.row, column: d.column + 6 + ScreenState.shownName(view.path).count)
        painter.put(String(caption.prefix(d.columns)), row: d.row + 1, column: d.column)
        let left = max(0, poolSize - state.counts.queriesAnswered)
        var status = "query \(state.counts.queriesAnswered + 1) · about \(left) in the pool · your answer: \(Self.answerWords(state))"
        if let editor = state.editor {
            status = Self.editorStatus(editor)
        } else if let mask = state.answer.mask {
            status += ", mask \(mask.area) px"
        }
        painter.put(String(status.prefix(d.columns)), row: d.row + 2, column: d.column)
        return MouseTarget(box: layout.leftImage, width: view.image.width, height: view.image.height,
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
    static func predictionLine(_ view: ItemView, cuts: OperatingPoint?) -> String {
        let decision = cuts.map { " → " + $0.decide(view.probabilities[ClassLabel.nok.classIndex]).brief } ?? ""
        return String(format: "  ·  predicted: %@ %.2f", view.predictedLabel.displayName, view.confidence) + decision
    }

    /// The mask editor's state in words: what the next move will do.
    static func editorStatus(_ editor: MaskEditor) -> String {
        let pen = editor.penDown ? (editor.erasing ? "pen DOWN, erasing" : "pen DOWN, painting") : "pen up" + (editor.erasing ? " (erase mode)" : "")
        let corner = editor.rectangleStart.map { " · rectangle from (\($0.x), \($0.y))" } ?? ""
        return "painting: \(pen) · brush \(2 * editor.brush + 1) px · at (\(editor.x), \(editor.y)) · mask \(editor.mask.area) px\(corner)"
    }
}
