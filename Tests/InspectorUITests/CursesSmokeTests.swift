@testable import InspectorUI
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Starts ncurses on a pseudo-terminal and reads back what it sent, as a terminal would.
@Suite(.serialized) struct CursesSmokeTests {
    @Test func newtermDrawsWideTextOnAPseudoTerminal() throws {
        var master: Int32 = -1, slave: Int32 = -1
        var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
        #expect(openpty(&master, &slave, nil, nil, &size) == 0)
        defer { close(master) }
        let output = fdopen(slave, "w")!, input = fdopen(dup(slave), "r")!
        defer { fclose(output); fclose(input) }

        let screen = try CursesScreen(terminalType: "xterm-256color", output: output, input: input)
        #expect(screen.size.rows == 24 && screen.size.columns == 80)
        screen.put("NearCAIPI ✓ ▀", row: 3, column: 5)
        screen.refresh()
        screen.end()
        fflush(output)

        let text = drain(master)
        #expect(text.contains("NearCAIPI"))
        #expect(text.contains("✓ ▀"))  // wide characters reach the terminal as UTF-8
        #expect(text.contains("\u{1B}[4;6H"))  // the cursor went to row 4, column 6 (1-based)
    }

    @Test func unknownTerminalTypeIsAnError() {
        var master: Int32 = -1, slave: Int32 = -1
        #expect(openpty(&master, &slave, nil, nil, nil) == 0)
        defer { close(master); close(slave) }
        let output = fdopen(dup(slave), "w")!, input = fdopen(dup(slave), "r")!
        defer { fclose(output); fclose(input) }
        #expect(throws: TerminalError.self) {
            _ = try CursesScreen(terminalType: "no-such-terminal-type", output: output, input: input)
        }
    }

    /// Everything readable from the pty master within a short time.
    func drain(_ descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while poll(&poller, 1, 200) > 0 {
            let got = read(descriptor, &buffer, buffer.count)
            if got <= 0 { break }
            bytes += buffer[0..<got]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
