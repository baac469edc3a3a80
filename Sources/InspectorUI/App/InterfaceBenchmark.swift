import CNCurses
import Foundation
import NearCAIPI
#if canImport(Glibc)
import Glibc
#endif

/// How fast the labelling screens answer, measured on the real `LabelApp` driving real curses
/// on a pseudo-terminal (whose other end is read and discarded by a thread, as a terminal
/// would): from a key press to the redraw handed to the terminal — handling, workspace writes,
/// ncurses' refresh and the image bytes. What the terminal then takes to paint is the
/// terminal's own time and is not in these figures.
public enum InterfaceBenchmark {
    public struct Timings: Sendable {
        public var graphics: GraphicsMode
        public var truecolor: Bool
        public var columns: Int, rows: Int
        /// Seconds from a screen-changing key (overlay / outline toggles, verdict keys, brush
        /// moves in the mask editor) to the redraw written, with every heatmap ready.
        public var keyToRedraw: [Double]
        /// The same keys while the heatmap worker is still computing (the two cores shared).
        public var keyToRedrawWhileComputing: [Double]
        /// The same keys while a round retrains in the background and the heatmaps of the
        /// queries are computed again at the same time (CoreShare's policy at work).
        public var keyToRedrawWhileTraining: [Double]
        /// Seconds from Enter on an answered query (stored, committed) to the next query drawn
        /// with its precomputed heatmap.
        public var nextQuery: [Double]
        /// Bytes sent to the terminal per redraw (median).
        public var bytesPerRedraw: Int
    }

    /// Runs the screens on `workspace` (a copy: answers are stored in it) in `graphics` mode on
    /// a `columns`×`rows` pseudo-terminal with 10×20-pixel cells.
    public static func measure(workspace: Workspace, graphics: GraphicsMode, truecolor: Bool = false,
                               columns: Int = 160, rows: Int = 48, queries: Int = 3) throws -> Timings {
        let terminal = try PseudoTerminal(columns: columns, rows: rows, cellSize: .assumed)
        defer { terminal.close() }
        let app = try LabelApp(workspace: workspace, user: "benchmark", role: .inspector, graphics: graphics,
                               truecolor: truecolor, terminal: TerminalReport(cellSize: .assumed))
        defer { app.finish() }
        try app.start(terminalType: "xterm-256color", inputDescriptor: terminal.follower, outputDescriptor: terminal.follower)

        let keys: [CursesScreen.Input] = [.character("o"), .character("o"), .character("t"), .character("t"),
                                          .character("y"), .character("n"), .character("b"), .right, .down,
                                          .character(" "), .left, .up, .character(" "), .escape]
        func timedKeys(_ count: Int) throws -> [Double] {
            var times: [Double] = []
            for index in 0..<count {
                let key = keys[index % keys.count]
                let before = terminal.bytesRead
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try app.step(key)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                terminal.noteRedraw(bytesSince: before)
            }
            return times
        }
        func waitForHeatmaps() throws {
            let deadline = DispatchTime.now().uptimeNanoseconds + 120_000_000_000
            while DispatchTime.now().uptimeNanoseconds < deadline {
                let paths = ([app.state.shown?.view] + app.upcoming.map { Optional($0) }).compactMap { $0?.path }
                if app.upcomingDue == nil, paths.allSatisfy({ app.heatmaps.result(for: $0)?.complete == true }) { return }
                _ = try app.step(.none)
                usleep(20_000)
            }
            throw TerminalError(message: "the heatmaps of the first queries were not ready within 2 minutes")
        }

        let whileComputing = try timedKeys(keys.count * 2)
        // Both workers at once: a retraining round (cancelled after, nothing recorded) and the
        // heatmaps of the shown and upcoming queries, recomputed from scratch.
        app.retrainer.start(workspacePath: app.workspacePath, user: "benchmark", options: try app.retrainOptions(),
                            fromScratch: false)
        if let active = try workspace.activeRound() {
            try app.heatmaps.reload(checkpoint: workspace.checkpointPath(of: active), ownMaps: active.trainedItsDefectMap,
                                    explainer: app.session.explainerWithoutNormalParts())
            app.requestHeatmaps()
        }
        _ = try app.step(.none)
        let whileTraining = try timedKeys(keys.count * 2)
        guard app.retrainer.isRunning else {
            throw TerminalError(message: "the retraining stopped before the keys were timed: \(app.retrainer.state)")
        }
        app.retrainer.cancelAndWait()
        try waitForHeatmaps()
        let idle = try timedKeys(keys.count * 4)
        var next: [Double] = []
        for _ in 0..<queries {
            try waitForHeatmaps()
            _ = try app.step(.character("y"))
            _ = try app.step(.character("g"))
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try app.step(.enter)
            next.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            guard app.heatmaps.result(for: app.state.shown?.view.path ?? "")?.complete == true else {
                throw TerminalError(message: "the next query's heatmap was not computed ahead")
            }
        }
        return Timings(graphics: graphics, truecolor: truecolor, columns: columns, rows: rows, keyToRedraw: idle,
                       keyToRedrawWhileComputing: whileComputing, keyToRedrawWhileTraining: whileTraining,
                       nextQuery: next,
                       bytesPerRedraw: terminal.medianRedrawBytes)
    }
}

/// A pseudo-terminal pair: the follower side is what the program draws on; a thread reads the
/// leader side (and counts the bytes), as a terminal emulator would.
///
/// Bytes are read from the leader only under `lock`, so `output` and `noteRedraw` can take
/// whatever the program wrote and the reader has not yet taken themselves: what they return
/// is complete however late the reader thread is scheduled (a busy machine once left the tail
/// of a frame unread, and a test saw it as part of the next).
final class PseudoTerminal: @unchecked Sendable {
    let leader: Int32, follower: Int32
    private let lock = NSLock()
    private var count = 0
    private var closed = false
    private var redraws: [Int] = []
    private var reader: Thread?
    /// Everything the program wrote, when asked to keep it (tests decode its pictures).
    private var kept: [UInt8]?

    init(columns: Int, rows: Int, cellSize: CellSize, keepingOutput: Bool = false) throws {
        kept = keepingOutput ? [] : nil
        var size = winsize(ws_row: UInt16(rows), ws_col: UInt16(columns),
                           ws_xpixel: UInt16(columns * cellSize.width), ws_ypixel: UInt16(rows * cellSize.height))
        var pair: (Int32, Int32) = (-1, -1)
        guard openpty(&pair.0, &pair.1, nil, nil, &size) == 0 else {
            throw TerminalError(message: "cannot open a pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        (leader, follower) = pair
        // Non-blocking: a drain reads until nothing is left, and never waits holding the lock.
        _ = fcntl(leader, F_SETFL, fcntl(leader, F_GETFL) | O_NONBLOCK)
        let leader = self.leader
        reader = Thread { [weak self] in
            var waiting = pollfd(fd: leader, events: Int16(POLLIN), revents: 0)
            while true {
                waiting.revents = 0
                _ = poll(&waiting, 1, 100)
                guard let self else { return }
                self.lock.lock()
                let open = !self.closed && self.drainLocked()
                self.lock.unlock()
                if !open { return }
            }
        }
        reader?.start()
    }

    /// Reads everything the leader holds now; false once the pair is closed. Call with `lock` held.
    private func drainLocked() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let got = read(leader, &buffer, buffer.count)
            if got > 0 {
                count += got
                if kept != nil { kept! += buffer[0..<got] }
                continue
            }
            if got < 0, errno == EINTR { continue }
            // EAGAIN: nothing left for now; EIO or 0: the follower side is gone.
            return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
        }
    }

    /// Runs `body` under the lock once everything written so far has been read.
    private func caughtUp<T>(_ body: () -> T) -> T {
        lock.lock(); defer { lock.unlock() }
        if !closed { _ = drainLocked() }
        return body()
    }

    /// Bytes the program wrote so far, everything written counted.
    var bytesRead: Int { caughtUp { count } }

    /// Everything the program wrote so far (empty unless kept). Drawing is synchronous, so
    /// after a step returns its bytes are all in the pair's buffer or already read.
    var output: [UInt8] { caughtUp { kept ?? [] } }

    /// Records the bytes of one redraw, everything written so far counted.
    func noteRedraw(bytesSince before: Int) { caughtUp { redraws.append(count - before) } }

    var medianRedrawBytes: Int {
        lock.lock(); defer { lock.unlock() }
        let sorted = redraws.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// The reader sees `closed` within its poll timeout and ends; it never reads a descriptor
    /// number the process may have reused meanwhile.
    func close() {
        lock.lock()
        closed = true
        Glibc.close(follower)
        Glibc.close(leader)
        lock.unlock()
    }
}
