import FileAccess
import Foundation
import Imaging
#if canImport(Glibc)
import Glibc
#endif
import NearCAIPI
import Testing
import TestSupport

/// `nearcaipi label` end to end in a real terminal: tmux runs it detached, the test types
/// keys (`send-keys`) and reads the screen (`capture-pane -p`), then checks the workspace.
@Suite(.serialized) struct LabelTerminalTests {
    /// A tmux session running one command; killed when the test ends.
    /// Each on its own tmux server (socket), so tests never touch anyone's tmux.
    final class TmuxSession {
        let name: String
        init(_ command: String, columns: Int, rows: Int) throws {
            name = "nearcaipi-test-\(getpid())-\(Int.random(in: 0..<1_000_000))"
            // The server this starts would inherit a pipe and hold it open: no output read here.
            try Self.tmux(["new-session", "-d", "-s", name, "-x", "\(columns)", "-y", "\(rows)", command], socket: name, capture: false)
        }
        deinit { _ = try? Self.tmux(["kill-server"], socket: name, capture: false) }

        /// Runs tmux. Commands that may start the server go through `system`: the server
        /// daemonises and keeps descriptors that Foundation's Process would wait on forever.
        @discardableResult
        static func tmux(_ arguments: [String], socket: String? = nil, capture: Bool = true) throws -> String {
            let words = ["env", "TERM=xterm-256color", "tmux"] + (socket.map { ["-L", $0] } ?? []) + arguments
            guard capture else {
                let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
                _ = system(quoted + " >/dev/null 2>&1 </dev/null")
                return ""
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = Array(words.dropFirst())
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }

        func tmux(_ arguments: [String]) throws { try Self.tmux(arguments, socket: name, capture: false) }

        func keys(_ keys: String...) throws {
            try tmux(["send-keys", "-t", name] + keys)
            usleep(250_000)
        }
        var screen: String { (try? Self.tmux(["capture-pane", "-p", "-t", name], socket: name)) ?? "" }
        /// The screen with lines the terminal wrapped joined again (`-J`): the shell's
        /// "EXIT=137" after a long "Killed …" line can wrap mid-word where the path is long.
        var joinedScreen: String { (try? Self.tmux(["capture-pane", "-p", "-J", "-t", name], socket: name)) ?? "" }

        /// Waits until the screen shows `text`, on one line or across a wrap (or fails after
        /// `seconds`).
        @discardableResult
        func waitFor(_ text: String, seconds: Double = 60) -> String {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                // The capture that showed it is returned: the screen may change between two.
                let now = screen
                if now.contains(text) { return now }
                let joined = joinedScreen
                if joined.contains(text) { return joined }
                usleep(200_000)
            }
            Issue.record("the screen never showed '\(text)'; it shows:\n\(screen)")
            return screen
        }
    }

    static var tmuxAvailable: Bool { (try? TmuxSession.tmux(["-V"]))?.hasPrefix("tmux") ?? false }

    /// A small trained workspace whose operator retraining runs one epoch.
    static func workspace(_ directory: TemporaryDirectory, at place: String = "ws") throws -> String {
        let path = directory.file(place)
        let made = try Tool.run(["init", path, "--data", repositoryRoot() + "/SampleData/weld", "--input", "32"])
        #expect(made.status == 0, "\(made.standardError)")
        let trained = try Tool.run(["train", path, "--epochs", "1"])
        #expect(trained.status == 0, "\(trained.standardError)")
        let opened = try Workspace(opening: path)
        try opened.setRetrainEpochs(1)
        // The screens' flows, not the promotion rule (RoundPromotionTests): every round goes live.
        try opened.setPromotion(.always)
        return path
    }

    func command(_ workspace: String, _ extra: String = "") -> String {
        "TERM=xterm-256color \(Tool.executable) label \(workspace) --user tess --role operator \(extra); echo EXIT=$?; sleep 60"
    }

    /// Answers the first query "prediction right", then says the next one is wrong with a
    /// wrong explanation and starts painting (pen down, one step right).
    func answerOneThenStartPainting(_ tmux: TmuxSession) throws {
        try tmux.keys("y")
        try tmux.keys("Enter")
        tmux.waitFor("(#1)")
        try tmux.keys("n")
        try tmux.keys("b")
        tmux.waitFor("Paint the defect")
        try tmux.keys("Space")
        try tmux.keys("Right")
    }

    /// The process IDs of `nearcaipi label` on `workspace` (not of the shell running it).
    static func labelProcesses(_ workspace: String) throws -> [Int32] {
        try shell("pgrep -f '^\(Tool.executable) label \(workspace)'").split(separator: "\n").compactMap { Int32($0) }
    }

    @Test(.enabled(if: tmuxAvailable)) func answersPaintsReviewsRetrainsAndQuits() throws {
        let directory = TemporaryDirectory("label-tmux")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let tmux = try TmuxSession(command(workspace, "--graphics ascii"), columns: 120, rows: 40)
        tmux.waitFor("item: ")
        tmux.waitFor("InvRISE of NOK, ")  // a complete map (a partial one reads "heatmap: N/1000 masks…")

        // 1: prediction right. 2: prediction wrong, explanation wrong, a painted mask.
        try answerOneThenStartPainting(tmux)
        try tmux.keys("Right")
        try tmux.keys("Down")
        #expect(tmux.screen.contains("XXX"))  // the painted region is visible in ASCII mode
        try tmux.keys("Enter")
        // "Mask painted (N pixels)", or at once "… yet a defect is painted" on a part answered OK.
        tmux.waitFor("painted")
        try tmux.keys("Enter")
        // A part predicted NOK and judged wrong is OK: a painted defect on it is refused, and
        // the answer goes in once the mask is cleared.
        let paintedKept = !tmux.screen.contains("a defect is painted on it")
        if !paintedKept {
            try tmux.keys("b")
            try tmux.keys("c")
            try tmux.keys("Enter")
            try tmux.keys("Enter")
        }
        tmux.waitFor("near hit and near miss queued for the supervisor")
        // 3: skipped. The screen counts what the person did; the header counts what trains.
        try tmux.keys("s")
        let skipped = tmux.waitFor("Skipped ")
        #expect(skipped.contains("this session: 2 answered, 1 skipped"), "\(skipped)")
        #expect(skipped.contains("pending 2/"), "a skip counted as an interaction:\n\(skipped)")

        // The supervisor screen shows the wrong prediction's near hit and near miss.
        try tmux.keys("Tab")
        let supervisor = tmux.waitFor("near hit")
        #expect(supervisor.contains("near miss") && supervisor.contains("review 1 of 2"))

        // The operator retrains in the background and sees the new round.
        try tmux.keys("Tab")
        tmux.waitFor("round  status")
        // (Quitting while a round trains asks first: LabelAppFlowTests, where the round is
        // known to be still training when q arrives; a one-epoch round here may end first.)
        try tmux.keys("r")
        tmux.waitFor("Round 2 trained and active", seconds: 180)
        try tmux.keys("q")
        tmux.waitFor("EXIT=0")

        let stored = try Workspace(opening: workspace)
        let log = try stored.feedbackLog()
        #expect(log.map(\.prediction) == [.right, .wrong, .skip])
        #expect(log.allSatisfy { $0.user == "tess" && $0.role == .inspector && $0.roundNumber == 2 })
        #expect(log.map(\.hasCorrectedMask) == [false, paintedKept, false])
        #expect(try stored.rounds().map { "\($0.number) \($0.status)" } == ["1 superseded", "2 active"])
    }

    /// Photos wider than tall and larger than the model's input: shown in their shape, zoomed,
    /// painted in their own pixels, and the mask exported at the file's size.
    @Test(.enabled(if: tmuxAvailable)) func aWidePhotoIsZoomedAndPaintedInItsOwnPixels() throws {
        let directory = TemporaryDirectory("label-photo")
        defer { directory.remove() }
        let data = directory.file("data"), workspace = directory.file("ws")
        for arguments in [["sample", "--out", data, "--count", "40", "--size", "32", "--camera", "160x80", "--seed", "4"],
                          ["init", workspace, "--data", data, "--input", "32"], ["train", workspace, "--epochs", "1"]] {
            let run = try Tool.run(arguments)
            #expect(run.status == 0, "\(arguments[0]): \(run.standardError)")
        }
        let tmux = try TmuxSession(command(workspace, "--graphics ascii"), columns: 120, rows: 40)
        let first = tmux.waitFor("160×80 px")
        // The picture keeps the photo's shape: an ASCII cell is one pixel wide and two tall, so
        // a 2:1 photo is about four times as many columns as rows.
        let pictureRows = first.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2).prefix { !$0.hasPrefix(" item:") && !$0.isEmpty }
        #expect((6...16).contains(pictureRows.count), "\(first)")

        try tmux.keys("z")
        tmux.waitFor("zoom 2× · x ")
        // Make the part NOK, whatever the model said, and paint on the zoomed photo.
        try tmux.keys(tmux.screen.contains("predicted: NOK") ? "y" : "n")
        try tmux.keys("b")
        tmux.waitFor("Paint the defect")
        try tmux.keys("Space")
        try tmux.keys("Right")
        try tmux.keys("Space")
        try tmux.keys("Enter")
        tmux.waitFor("Mask painted")
        try tmux.keys("Enter")
        tmux.waitFor("(#1)")
        try tmux.keys("q")
        tmux.waitFor("EXIT=0")

        let exported = directory.file("export")
        let run = try Tool.run(["export", workspace, "--out", exported])
        #expect(run.status == 0, "\(run.standardError)")
        let masks = try BinaryFile.entries(of: exported + "/masks")
        let answered = try #require(try Workspace(opening: workspace).feedbackLog().first)
        let name = answered.itemPath.replacingOccurrences(of: "/", with: "_")
        #expect(masks.contains(name), "\(masks)")
        let mask = try ImageFile.read(exported + "/masks/" + name).image
        #expect(mask.width == 160 && mask.height == 80)
    }

    @Test(.enabled(if: tmuxAvailable)) func resizingAndATooSmallWindowAreHandled() throws {
        let directory = TemporaryDirectory("label-resize")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let tmux = try TmuxSession(command(workspace, "--graphics halfblock"), columns: 100, rows: 30)
        tmux.waitFor("item: ")
        for (columns, rows) in [(140, 45), (80, 24), (50, 10), (30, 6), (10, 5), (100, 30)] {
            try tmux.tmux(["resize-window", "-t", tmux.name, "-x", "\(columns)", "-y", "\(rows)"])
            usleep(400_000)
            if columns < 60 {
                tmux.waitFor(columns < 20 ? "Enlarge" : "Enlarge the terminal")
                // Nothing is shown, so nothing may be answered: these keys must do nothing.
                for key in ["y", "g", "Enter", "s", "n", "Enter"] { try tmux.keys(key) }
            } else {
                tmux.waitFor("item: ")
            }
        }
        usleep(300_000)
        #expect(try Workspace(opening: workspace).feedbackLog().isEmpty, "an answer was stored for an image nobody saw")
        // A storm: 30 sizes as fast as tmux applies them, then a normal size again.
        for step in 0..<30 {
            try tmux.tmux(["resize-window", "-t", tmux.name, "-x", "\(10 + (step * 37) % 150)", "-y", "\(5 + (step * 11) % 50)"])
        }
        try tmux.tmux(["resize-window", "-t", tmux.name, "-x", "100", "-y", "30"])
        tmux.waitFor("item: ")
        try tmux.keys("q")
        tmux.waitFor("EXIT=0")
    }

    /// Closing the terminal (SIGHUP) in the middle of painting a mask: the process leaves
    /// through the normal path (terminal restored, exit 129), the answer confirmed before is
    /// stored, the half-painted one is not.
    @Test(.enabled(if: tmuxAvailable)) func hangupMidEditKeepsConfirmedWorkAndRestoresTheTerminal() throws {
        let directory = TemporaryDirectory("label-hup")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let tmux = try TmuxSession(command(workspace, "--graphics ascii"), columns: 100, rows: 30)
        tmux.waitFor("item: ")
        try answerOneThenStartPainting(tmux)
        let pids = try Self.labelProcesses(workspace)
        #expect(pids.count == 1)
        for pid in pids { kill(pid, SIGHUP) }
        let screen = tmux.waitFor("EXIT=129")
        #expect(!screen.contains("Paint the defect"), "the screen was not restored:\n\(screen)")
        #expect(try Workspace(opening: workspace).feedbackLog().map(\.prediction) == [.right])
    }

    /// A terminal that cannot move the cursor is refused with a message naming it; a colourless
    /// one (NO_COLOR) gets the ASCII screens.
    @Test(.enabled(if: tmuxAvailable)) func dumbAndColourlessTerminals() throws {
        let directory = TemporaryDirectory("label-dumb")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let dumb = try TmuxSession("TERM=dumb \(Tool.executable) label \(workspace); echo EXIT=$?; sleep 60", columns: 100, rows: 30)
        let refused = dumb.waitFor("EXIT=1")
        #expect(refused.contains("'dumb' cannot move the cursor"))
        let colourless = try TmuxSession("NO_COLOR=1 " + command(workspace), columns: 100, rows: 30)
        colourless.waitFor("item: ")
        #expect(colourless.screen.contains("@") || colourless.screen.contains("#") || colourless.screen.contains("%"))
        try colourless.keys("q")
        colourless.waitFor("EXIT=0")
        // Sixel asked for inside tmux, which drops it: said on the screen, half-block drawn.
        let sixel = try TmuxSession(command(workspace, "--graphics sixel"), columns: 100, rows: 30)
        let shown = sixel.waitFor("tmux does not pass sixel pictures through")
        #expect(shown.contains("▀") || shown.contains("▄"), "no half-block picture:\n\(shown)")
        try sixel.keys("q")
        sixel.waitFor("EXIT=0")
    }

    static func shell(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// SIGKILL of the screens while the inspector answers as fast as tmux types: every
    /// answer the screen acknowledged ("saved NAME (#N)") is in the workspace after the kill,
    /// and the screens start again on it. `make test`: 3 kills; `make torture`: 20.
    /// Ctrl-C with an answer begun asks as q does (n carries on, nothing lost); with nothing
    /// begun it quits at once, status 130.
    @Test(.enabled(if: tmuxAvailable)) func ctrlCAsksBeforeDroppingABegunAnswer() throws {
        let directory = TemporaryDirectory("label-ctrl-c")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let tmux = try TmuxSession(command(workspace, "--graphics ascii"), columns: 100, rows: 30)
        tmux.waitFor("item: ")
        try tmux.keys("y")
        try tmux.keys("C-c")
        tmux.waitFor("Quit and drop it? y / n")
        try tmux.keys("n")
        tmux.waitFor("Not quitting: your answer stays.")
        try tmux.keys("Enter")
        tmux.waitFor("(#1)")
        try tmux.keys("C-c")
        tmux.waitFor("EXIT=130")
        #expect(try Workspace(opening: workspace).feedbackLog().map(\.prediction) == [.right])
    }

    /// The disk fills while an answer is submitted: the screens stay, the answer stays on
    /// screen with the reason, and Enter stores it once there is room again.
    @Test(.enabled(if: tmuxAvailable && SmallFileSystem.isAvailable)) func aFullDiskKeepsTheAnswerOnScreen() throws {
        let directory = TemporaryDirectory("label-disk-full")
        defer { directory.remove() }
        let disk = try SmallFileSystem(at: directory.file("disk"), megabytes: 8)
        defer { disk.unmount() }
        let workspace = try Self.workspace(directory, at: "disk/ws")
        let tmux = try TmuxSession(command(workspace, "--graphics ascii"), columns: 120, rows: 30)
        tmux.waitFor("item: ")
        disk.fill()
        try tmux.keys("y")
        try tmux.keys("Enter")
        tmux.waitFor("Not stored:")
        #expect(try Workspace(opening: workspace).feedbackLog().isEmpty)
        disk.free()
        try tmux.keys("Enter")
        tmux.waitFor("(#1)")
        try tmux.keys("q")
        tmux.waitFor("EXIT=0")
        #expect(try Workspace(opening: workspace).feedbackLog().map(\.prediction) == [.right])
    }

    @Test(.enabled(if: tmuxAvailable)) func killedScreensKeepEveryAcknowledgedAnswer() throws {
        let directory = TemporaryDirectory("label-kill")
        defer { directory.remove() }
        let workspace = try Self.workspace(directory)
        let kills = ProcessInfo.processInfo.environment["NEARCAIPI_TORTURE"] == nil ? 3 : 20
        var acknowledgedTotal = 0
        for kill in 0..<kills {
            let tmux = try TmuxSession(command(workspace, "--graphics halfblock"), columns: 100, rows: 30)
            tmux.waitFor("item: ")
            for _ in 0..<Int.random(in: 1...4) {
                try tmux.tmux(["send-keys", "-t", tmux.name, "y", "Enter"])
                usleep(UInt32.random(in: 20_000...300_000))
            }
            let screen = tmux.screen
            let pids = try Self.labelProcesses(workspace)
            #expect(pids.count == 1)
            for pid in pids { Glibc.kill(pid, SIGKILL) }
            tmux.waitFor("EXIT=137")
            let stored = try Workspace(opening: workspace)
            #expect(try stored.integrityProblems().isEmpty)
            if let match = screen.firstMatch(of: /saved \S+ \(#(\d+)\)/) {
                let id = Int64(match.1) ?? -1
                #expect(try stored.feedbackLog().filter { $0.id == id }.count == 1,
                        "kill \(kill): answer #\(id) was acknowledged on screen but is not stored")
                acknowledgedTotal += 1
            }
        }
        #expect(acknowledgedTotal > 0)
        print("killed screens: \(kills) kills, \(acknowledgedTotal) with an acknowledged answer on screen, all stored")
    }
}
