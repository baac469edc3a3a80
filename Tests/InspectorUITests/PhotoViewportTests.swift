import Imaging
@testable import InspectorUI
@testable import NearCAIPI
import Testing

/// The photo as the inspector sees it: its own shape, zoomed where they look, painted in its
/// own pixels.
@Suite struct PhotoViewportTests {
    /// 1:1 shows exactly the panel's picture elements of the photo about a point, kept
    /// inside it; a zoom step leaves it for the nearest level that way.
    @Test func oneToOneShowsThePanelsOwnPixelCount() {
        var view = PhotoViewport(photoWidth: 1600, photoHeight: 1200)
        view.showActualPixels(width: 640, height: 480, aboutX: 1590, y: 10)
        #expect(view.isActualPixels && view.isZoomed && view.visible == PixelRect(x: 960, y: 0, width: 640, height: 480))
        #expect(view.summary.hasPrefix("1:1 · x 960–1599, y 0–479 of 1600×1200"))
        var closer = view
        #expect(closer.zoomIn() && !closer.isActualPixels && closer.zoom == 4)
        var farther = view
        #expect(farther.zoomOut() && farther.zoom == 2)
        // A photo smaller than the panel is shown whole at 1:1: not zoomed.
        var small = PhotoViewport(photoWidth: 300, photoHeight: 200)
        small.showActualPixels(width: 640, height: 480, aboutX: 10, y: 10)
        #expect(small.visible == PixelRect(x: 0, y: 0, width: 300, height: 200) && !small.isZoomed)
    }

    @Test func zoomShowsAShrinkingPartOfThePhotoInsideIt() {
        var view = PhotoViewport(photoWidth: 900, photoHeight: 600)
        #expect(view.visible == PixelRect(x: 0, y: 0, width: 900, height: 600) && view.words == "900×600 px")
        let zoomed = view.zoomIn()
        #expect(zoomed && view.visible == PixelRect(x: 225, y: 150, width: 450, height: 300))
        // About a point near the corner: the view stops at the photo's edge.
        view = PhotoViewport(photoWidth: 900, photoHeight: 600)
        view.zoomIn(aboutX: 890, y: 5)
        view.zoomIn(aboutX: 890, y: 5)
        #expect(view.zoom == 4 && view.visible == PixelRect(x: 675, y: 0, width: 225, height: 150))
        #expect(view.summary == "zoom 4× · x 675–899, y 0–149 of 900×600")
        // Panning past the edge moves no further, and leaves no debt: one pan back moves back.
        view.pan(dx: 5, dy: -5)
        #expect(view.visible.x == 675 && view.visible.y == 0)
        view.pan(dx: -1, dy: 0)
        #expect(view.visible.x == 450)
        let outs = [view.zoomOut(), view.zoomOut(), view.zoomOut()]
        #expect(outs == [true, true, false])
        #expect(view.visible == PixelRect(x: 0, y: 0, width: 900, height: 600))
    }

    @Test func zoomingKeepsThePointedPixelInItsPlace() {
        var view = PhotoViewport(photoWidth: 800, photoHeight: 400)
        // (600, 100) is at 3/4 across and 1/4 down; it stays there, closer and further out.
        var done = view.zoom(in: true, keeping: 600, 100)
        #expect(done && view.visible == PixelRect(x: 300, y: 50, width: 400, height: 200))
        done = view.zoom(in: true, keeping: 600, 100)
        #expect(done && view.visible == PixelRect(x: 450, y: 75, width: 200, height: 100))
        done = view.zoom(in: false, keeping: 600, 100)
        #expect(done && view.visible.x == 300)
        // The corner pixel stays in the corner: the view ends at the photo's edges.
        view = PhotoViewport(photoWidth: 800, photoHeight: 400)
        done = view.zoom(in: true, keeping: 799, 399)
        #expect(done && view.visible.maxX == 800 && view.visible.maxY == 400)
    }

    @Test func zoomStopsWhereAPhotoPixelFillsThePanel() {
        var small = PhotoViewport(photoWidth: 40, photoHeight: 20)
        // 20 rows: 2× shows 10, 4× would show 5 (< 8).
        #expect(small.maximumZoom == 2)
        let ins = [small.zoomIn(), small.zoomIn()]
        #expect(ins == [true, false] && small.zoom == 2)
        var large = PhotoViewport(photoWidth: 2048, photoHeight: 1024)
        while large.zoomIn() {}
        #expect(large.zoom == 16 && large.visible.width == 128 && large.visible.height == 64)
    }

    @Test func theViewFollowsTheBrush() {
        var view = PhotoViewport(photoWidth: 800, photoHeight: 800)
        view.zoomIn()
        view.zoomIn()  // 200 × 200 about the centre: 300–499
        view.follow(x: 450, y: 400)  // inside the band: no move
        #expect(view.visible.x == 300)
        view.follow(x: 520, y: 400)  // past the right edge: the view moves so it is 1/8 inside
        #expect(view.visible.contains(x: 520, y: 400) && view.visible.maxX - 520 >= 24)
        view.follow(x: 0, y: 799)
        #expect(view.visible.x == 0 && view.visible.maxY == 800)
    }

    @Test func aHairlinePaintedOnALargePhotoStaysVisibleWhenReduced() {
        var mask = BinaryMask(width: 2000, height: 1000)
        for x in 300..<1700 { mask[500, x] = true }  // one pixel high
        var marking = MaskMarking(mask: mask)
        marking.brush = (1000, 500, 40)
        let whole = PixelRect(x: 0, y: 0, width: 2000, height: 1000)
        let local = marking.local(showing: whole, width: 200, height: 100)
        #expect(local.mask.width == 200 && local.mask.height == 100)
        #expect(local.mask.area == 140 && (30..<170).allSatisfy { local.mask[50, $0] })
        #expect(local.brush?.x == 100 && local.brush?.y == 50 && local.brush?.radius == 4)
        // Zoomed to 500 × 250 pixels about the line, drawn 2× larger.
        let zoomed = marking.local(showing: PixelRect(x: 750, y: 375, width: 500, height: 250), width: 1000, height: 500)
        #expect(zoomed.mask.area == 2 * 1000 && zoomed.brush?.x == 501 && zoomed.brush?.radius == 80)
    }

    @Test func theMousePaintsThePixelUnderItInAZoomedView() {
        let target = MouseTarget(box: Layout.Panel(row: 2, column: 1, rows: 20, columns: 40),
                                 region: PixelRect(x: 600, y: 200, width: 80, height: 40), columns: 40, rows: 20)
        // Each cell shows 2 × 2 photo pixels; a cell's middle is its pixel.
        #expect(target.pixel(row: 2, column: 1) == (601, 201))
        #expect(target.pixel(row: 21, column: 40) == (679, 239))
        // Past the picture (a drag leaving it): the nearest edge pixel, never outside the view.
        #expect(target.pixel(row: 30, column: 60) == (679, 239))
    }

    @Test func widePhotosAreStackedWhenThatDrawsThemLarger() throws {
        let layout = Layout(rows: 46, columns: 150)
        // Square and 2:1: side by side is as large.
        #expect(layout.stacked(forWidth: 900, height: 900) == nil && layout.stacked(forWidth: 768, height: 384) == nil)
        // 4:1: one above the other, twice as large, the bar beside the lower one.
        let stacked = try #require(layout.stacked(forWidth: 1024, height: 256))
        #expect(stacked.top.columns > 2 * layout.leftImage.columns && stacked.bottom.row > stacked.top.row + stacked.top.rows)
        #expect(stacked.bar.row == stacked.bottom.row && stacked.bar.column > stacked.bottom.column + stacked.bottom.columns)
        #expect(stacked.bottom.row + stacked.bottom.rows <= layout.details.row)
    }

    @Test func thePanelKeepsThePhotosShape() {
        // A 2:1 photo in a 60 × 30 half-block panel: 60 columns, 15 rows of 2 pixels.
        #expect(Painter.pixelRoom(width: 768, height: 384, in: Layout.Panel(row: 0, column: 0, rows: 30, columns: 60),
                                  graphics: .halfblock, cell: CellSize(width: 9, height: 18)) == (60, 30))
        // Sixel, 10 × 20-pixel cells: 600 × 600 screen pixels → 600 × 300.
        #expect(Painter.pixelRoom(width: 768, height: 384, in: Layout.Panel(row: 0, column: 0, rows: 30, columns: 60),
                                  graphics: .sixel, cell: CellSize(width: 10, height: 20)) == (600, 300))
        // Never wider or taller than the terminal's largest sixel picture (xterm: 1 000 × 1 000).
        #expect(Painter.pixelRoom(width: 4000, height: 1000, in: Layout.Panel(row: 0, column: 0, rows: 30, columns: 144),
                                  graphics: .sixel, cell: CellSize(width: 9, height: 18), sixelLimit: CellSize(width: 1000, height: 1000)) == (1000, 246))
        // A photo smaller than the room keeps its pixels (drawImage enlarges it by whole factors).
        #expect(Painter.pixelRoom(width: 96, height: 48, in: Layout.Panel(row: 0, column: 0, rows: 30, columns: 60),
                                  graphics: .sixel, cell: CellSize(width: 10, height: 20)) == (96, 48))
    }
}

/// Keys on the screens that zoom, pan and paint a photo larger than the model's input.
@Suite struct PhotoZoomKeysTests {
    static func wideView() -> ItemView {
        ItemView(path: "data/nok/line_0001.png", image: Image(width: 32, height: 32, channels: 3, filledWith: 0.5),
                 photo: Image(width: 768, height: 384, channels: 3, filledWith: 0.5), fileWidth: 1536, fileHeight: 768,
                 probabilities: [0.3, 0.7], embedding: [], knownLabel: nil)
    }

    @Test func theFirstZoomGoesToTheMapsPeakAndArrowsPan() throws {
        var state = ScreenStateTests.showing(Self.wideView())
        var facts = ScreenStateTests.Facts()
        facts.peak = (0.9, 0.25)
        try ScreenStateTests.press(&state, .character("z"), facts: facts)
        let view = try #require(state.viewport)
        #expect(view.zoom == 2 && view.visible.contains(x: Int(0.9 * 768), y: Int(0.25 * 384)))
        #expect(state.message.hasPrefix("Zoom 2× on the map's peak: x "))
        // Arrows pan (a quarter of the view) only while zoomed; y/n still answer.
        let before = view.visible
        try ScreenStateTests.press(&state, .left, facts: facts)
        #expect(state.viewport!.visible.x == before.x - before.width / 4)
        try ScreenStateTests.press(&state, .character("Z"), .left, facts: facts)
        #expect(state.viewport!.isZoomed == false && state.message.contains("whole photo"))
        // A new part is shown whole.
        try ScreenStateTests.press(&state, .character("z"), facts: facts)
        let next = ItemView(path: "b.png", image: Image(width: 32, height: 32, channels: 1), probabilities: [0.4, 0.6],
                            embedding: [], knownLabel: nil)
        state.showQuery(ScreenState.Shown(view: next, query: nil, review: nil))
        #expect(state.viewport?.isZoomed == false && state.viewport?.photoWidth == 32)
    }

    /// What a new user met: keys that changed nothing said nothing, and `z` before the map
    /// was finished zoomed on the middle without a word.
    @Test func everyViewKeySaysWhatItDid() throws {
        var state = ScreenStateTests.showing(Self.wideView())
        let facts = ScreenStateTests.Facts()
        try ScreenStateTests.press(&state, .left, facts: facts)
        #expect(state.message.hasPrefix("The whole photo is shown: z zooms in"))
        try ScreenStateTests.press(&state, .character("z"), facts: facts)
        #expect(state.message.hasPrefix("Zoom 2× about the middle (no finished, clear map to go to)"))
        try ScreenStateTests.press(&state, .right, .right, facts: facts)
        try ScreenStateTests.press(&state, .right, facts: facts)
        #expect(state.message.hasPrefix("At the photo's edge: x 384–767"))
        try ScreenStateTests.press(&state, .character("o"), facts: facts)
        #expect(state.message.hasPrefix("Heatmap overlay off"))
        try ScreenStateTests.press(&state, .character("t"), facts: facts)
        // No finished map in these facts: the outline is on, and the message says why none is drawn.
        #expect(state.message.hasPrefix("Outline on — none is drawn until the map is finished and not flat"))
        for _ in 0..<5 { try ScreenStateTests.press(&state, .character("z"), facts: facts) }
        #expect(state.message == "Closest zoom: 16×, 48×24 photo pixels in view.")
    }

    @Test func theOperatorOpensOnTheRoundInUse() throws {
        var state = ScreenStateTests.showing(Self.wideView(), role: .operator)
        var facts = ScreenStateTests.Facts()
        facts.roundList = [ScreenStateTests.round(1, .superseded), ScreenStateTests.round(2, .active), ScreenStateTests.round(3, .candidate)]
        try ScreenStateTests.press(&state, .tab, .tab, facts: facts)
        #expect(state.current == .operator && state.selectedRound == 1)
        // Once the operator picks a round, it stays picked across screens.
        try ScreenStateTests.press(&state, .down, .tab, .tab, .tab, facts: facts)
        #expect(state.current == .operator && state.selectedRound == 2)
    }

    @Test func paintingHappensInPhotoPixelsAndIsStoredAtTheFilesSize() throws {
        var state = ScreenStateTests.showing(Self.wideView())
        let facts = ScreenStateTests.Facts()
        try ScreenStateTests.press(&state, .character("z"), .character("z"), .character("y"), .character("b"), facts: facts)
        var editor = try #require(state.editor)
        // The brush starts in the middle of what is seen; a key moves it 1/64 of the view's
        // shorter side.
        #expect(editor.mask.width == 768 && editor.mask.height == 384)
        #expect(state.viewport!.visible.contains(x: editor.x, y: editor.y))
        #expect(editor.step == 96 / 64)
        // The brush was made before zooming (768 / 32 = 24); zooming keeps its size on screen.
        #expect(editor.brush == 24)
        try ScreenStateTests.press(&state, .character("z"), facts: facts)
        #expect(state.editor?.brush == 12)
        #expect(state.viewport?.zoom == 8)
        #expect(state.editor?.step == 1)
        // In and out again: the same brush, however often (it does not shrink by rounding).
        try ScreenStateTests.press(&state, .character("z"), .character("Z"), .character("Z"), .character("Z"), facts: facts)
        #expect(state.editor?.brush == 48 && state.viewport?.zoom == 2)
        try ScreenStateTests.press(&state, .character("z"), .character("z"), facts: facts)
        #expect(state.editor?.brush == 12)
        try ScreenStateTests.press(&state, .character(" "), .right, .right, .character(" "), .enter, facts: facts)
        editor = try #require(state.answer.mask.map { MaskEditor(width: 768, height: 384, start: $0) })
        #expect(editor.mask.area > 0)
        let submission = try #require(ScreenStateTests.stored(try ScreenStateTests.press(&state, .enter, facts: facts)))
        // The file is 1536 × 768 (the photo on screen was reduced): the mask is stored at its size.
        let mask = try #require(submission.mask)
        #expect(mask.width == 1536 && mask.height == 768)
        #expect(abs(Double(mask.area) / Double(4 * state.answer.mask!.area) - 1) < 0.05)
    }
}
