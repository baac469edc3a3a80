import CNCurses
#if canImport(Glibc)
import Glibc
#endif

/// Why the terminal could not be used.
public struct TerminalError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// One ncurses screen on a given pair of terminal streams (`newterm`), so the UI can run on
/// the process's terminal or, in tests, on a pseudo-terminal. Every ncurses call of the
/// product goes through this type; it is used from the UI thread only.
public final class CursesScreen {
    private let screen: OpaquePointer
    private var ended = false

    /// Starts curses for terminal `terminalType` (a terminfo name such as "xterm-256color")
    /// writing to `output` and reading from `input`. Fails when terminfo has no such terminal.
    public init(terminalType: String, output: UnsafeMutablePointer<FILE>, input: UnsafeMutablePointer<FILE>) throws(TerminalError) {
        // Wide characters (block elements, ✓) need the locale's UTF-8 codeset.
        if setlocale(LC_CTYPE, "") == nil { setlocale(LC_CTYPE, "C.UTF-8") }
        guard let screen = newterm(terminalType, output, input) else {
            throw TerminalError(message: "cannot start the terminal: unknown or unusable terminal type '\(terminalType)'")
        }
        self.screen = screen
        cbreak()
        noecho()
        keypad(nc_stdscr(), true)
    }

    deinit { end() }

    /// The screen size in character cells.
    public var size: (rows: Int, columns: Int) { (Int(nc_lines()), Int(nc_cols())) }

    public var hasColors: Bool { has_colors() }

    /// Writes `text` at (row, column), clipped to the line; positions off screen are ignored.
    public func put(_ text: String, row: Int, column: Int) {
        let (rows, columns) = size
        guard row >= 0, row < rows, column >= 0, column < columns else { return }
        var wide = Array(text.unicodeScalars.map { wchar_t(bitPattern: $0.value) })
        wide.append(0)
        let room = Int32(columns - column)
        _ = nc_mvwaddwstr(nc_stdscr(), Int32(row), Int32(column), wide, min(Int32(wide.count - 1), room))
    }

    public func clear() { werase(nc_stdscr()) }

    /// Sends the changes to the terminal.
    public func refresh() { wrefresh(nc_stdscr()) }

    /// Restores the terminal (leaves curses mode). Safe to call twice.
    public func end() {
        guard !ended else { return }
        ended = true
        endwin()
        delscreen(screen)
    }
}
