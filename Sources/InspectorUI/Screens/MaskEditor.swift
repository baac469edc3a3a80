import Imaging

/// The mask editor's state machine: a brush on the image's pixel grid, moved by keys or the
/// mouse, painting or erasing a defect region. Pure state, no terminal: keys in, mask out.
public struct MaskEditor: Sendable {
    public enum Action: Sendable, Equatable {
        case move(dx: Int, dy: Int)
        /// The brush put at a pixel without painting (where a zoomed view is centred).
        case place(x: Int, y: Int)
        /// Pen down (stamps at once, and along every move) / pen up.
        case togglePen
        case biggerBrush, smallerBrush
        /// A brush of this radius (the screens keep its size on screen when zooming).
        case brushRadius(Int)
        /// Switches between painting and erasing.
        case toggleErase
        /// First press: one corner; second: fills (or erases) the rectangle to the cursor.
        case rectangleCorner
        case undo, redo, clear
        /// Replaces the mask with the given region (the heatmap's top 10 %).
        case replace(BinaryMask)
        /// Mouse: pressed, dragged to, released at a pixel.
        case press(x: Int, y: Int), drag(x: Int, y: Int), release(x: Int, y: Int)
    }

    public private(set) var mask: BinaryMask
    public private(set) var x: Int, y: Int
    /// Brush radius in pixels: the stamp is a (2r + 1)² square.
    public private(set) var brush: Int
    public private(set) var penDown = false
    public private(set) var erasing = false
    public private(set) var rectangleStart: (x: Int, y: Int)?
    private var undoStack: [BinaryMask] = []
    private var redoStack: [BinaryMask] = []
    private var mouseDown = false
    /// Pixels per arrow key press: a key crosses the image — or the part of it on screen,
    /// which the screens set when zoomed — in about 64 steps (fine enough to trace a hairline
    /// crack; `move` with larger dx / dy jumps).
    public var step: Int

    public init(width: Int, height: Int, start: BinaryMask? = nil) {
        mask = start ?? BinaryMask(width: width, height: height)
        x = width / 2
        y = height / 2
        brush = max(1, width / 32)
        step = max(1, width / 64)
    }

    public var canUndo: Bool { !undoStack.isEmpty }
    public var canRedo: Bool { !redoStack.isEmpty }

    public mutating func apply(_ action: Action) {
        switch action {
        case .move(let dx, let dy):
            let (fromX, fromY) = (x, y)
            x = max(0, min(mask.width - 1, x + dx * step))
            y = max(0, min(mask.height - 1, y + dy * step))
            if penDown { stroke(fromX, fromY, x, y) }
        case .place(let px, let py):
            (x, y) = clamp(px, py)
        case .togglePen:
            penDown.toggle()
            if penDown { checkpoint(); stamp(x, y) }
        // A quarter at a time, at least a pixel: a 2 000-px photo's brush is resized in a few
        // presses, a small one's pixel by pixel.
        case .biggerBrush: brush = min(max(1, mask.width / 4), max(brush + 1, brush * 5 / 4))
        case .smallerBrush: brush = max(0, min(brush - 1, brush * 4 / 5))
        case .brushRadius(let radius): brush = max(0, min(max(1, mask.width / 4), radius))
        case .toggleErase: erasing.toggle()
        case .rectangleCorner:
            if let start = rectangleStart {
                checkpoint()
                for row in min(start.y, y)...max(start.y, y) {
                    for column in min(start.x, x)...max(start.x, x) { mask[row, column] = !erasing }
                }
                rectangleStart = nil
            } else {
                rectangleStart = (x, y)
            }
        case .undo:
            guard let previous = undoStack.popLast() else { return }
            redoStack.append(mask)
            mask = previous
            penDown = false
        case .redo:
            guard let next = redoStack.popLast() else { return }
            undoStack.append(mask)
            mask = next
        case .clear:
            checkpoint()
            mask = BinaryMask(width: mask.width, height: mask.height)
            penDown = false
        case .replace(let region):
            checkpoint()
            mask = region.width == mask.width && region.height == mask.height ? region : region.resized(width: mask.width, height: mask.height)
        case .press(let px, let py):
            // The button state is tracked here: terminals report drags only as motion.
            mouseDown = true
            checkpoint()
            (x, y) = clamp(px, py)
            stamp(x, y)
        case .drag(let px, let py):
            guard mouseDown else { (x, y) = clamp(px, py); return }
            let (fromX, fromY) = (x, y)
            (x, y) = clamp(px, py)
            stroke(fromX, fromY, x, y)
        case .release(let px, let py):
            if mouseDown {
                let (fromX, fromY) = (x, y)
                (x, y) = clamp(px, py)
                stroke(fromX, fromY, x, y)
            }
            mouseDown = false
        }
    }

    private func clamp(_ px: Int, _ py: Int) -> (Int, Int) {
        (max(0, min(mask.width - 1, px)), max(0, min(mask.height - 1, py)))
    }

    private mutating func checkpoint() {
        undoStack.append(mask)
        if undoStack.count > 100 { undoStack.removeFirst() }
        redoStack.removeAll()
    }

    private mutating func stamp(_ cx: Int, _ cy: Int) {
        for row in max(0, cy - brush)...min(mask.height - 1, cy + brush) {
            for column in max(0, cx - brush)...min(mask.width - 1, cx + brush) { mask[row, column] = !erasing }
        }
    }

    /// Stamps along the segment, one pixel apart, so fast moves leave no gaps.
    private mutating func stroke(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) {
        let steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in 0...steps {
            stamp(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)
        }
    }
}
