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
        // A terminal that cannot move the cursor (TERM=dumb, a printer) would get every
        // screen written one after another: refused, with the terminal left as it was.
        guard nc_can_address_cursor() != 0 else {
            endwin()
            delscreen(screen)
            throw TerminalError(message: "the terminal type '\(terminalType)' cannot move the cursor, which the full-screen "
                                + "labelling needs; run it in a terminal such as xterm (TERM=xterm-256color)")
        }
        self.screen = screen
        cbreak()
        noecho()
        keypad(nc_stdscr(), true)
        // Without output flow control: Ctrl-S froze the screen while keys still acted (an
        // Enter pressed to see whether it was alive would submit unseen).
        var settings = termios()
        let descriptor = fileno(input)
        if tcgetattr(descriptor, &settings) == 0 {
            settings.c_iflag &= ~tcflag_t(IXON)
            tcsetattr(descriptor, TCSANOW, &settings)
        }
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

    /// Colours (with the terminal's default background kept as pair -1), input with a
    /// `timeout` in milliseconds so the UI loop can poll its workers, a 25 ms escape delay,
    /// a hidden cursor and, with `mouse`, button press/release/motion reports.
    public func configureForInteraction(timeout milliseconds: Int32, mouse: Bool) {
        if has_colors() {
            start_color()
            use_default_colors()
        }
        set_escdelay(25)
        inputTimeout = milliseconds
        wtimeout(nc_stdscr(), milliseconds)
        curs_set(0)
        if mouse {
            mousemask(nc_all_mouse_events() | nc_report_mouse_position(), nil)
            mouseinterval(0)
        }
    }

    /// A key, a mouse report, a resize, or nothing within the timeout.
    public enum Input: Equatable, Sendable {
        case character(Character)
        case up, down, left, right, enter, backspace, escape, tab, backTab, resize
        case mouse(row: Int, column: Int, pressed: Bool, released: Bool)
        /// The wheel turned over a cell: `towards` the user (up) or away.
        case wheel(row: Int, column: Int, up: Bool)
        /// A key the screens have no use for (Home, End, Page Up, a function key, Alt and a
        /// key): read whole, so its bytes never arrive as Esc and characters.
        case unrecognised
        case none
    }

    /// The input timeout `configureForInteraction` set, restored after reading a sequence.
    private var inputTimeout: Int32 = -1

    /// Reads the rest of an escape sequence curses did not recognise (its first byte, Esc,
    /// was read): nothing more at once means Esc itself.
    private func escapeOrUnrecognised() -> Input {
        wtimeout(nc_stdscr(), 0)
        defer { wtimeout(nc_stdscr(), inputTimeout) }
        var value: wint_t = 0
        guard wget_wch(nc_stdscr(), &value) != nc_err() else { return .escape }
        // CSI (Esc [ …) and SS3 (Esc O x) end at a final byte; Alt and a key is two bytes.
        if value == wint_t(UInt8(ascii: "[")) || value == wint_t(UInt8(ascii: "O")) {
            let csi = value == wint_t(UInt8(ascii: "["))
            var count = 0
            while count < 16, wget_wch(nc_stdscr(), &value) != nc_err() {
                count += 1
                if !csi || (0x40...0x7E).contains(Int(value)) { break }
            }
        }
        return .unrecognised
    }

    public func read() -> Input {
        var value: wint_t = 0
        let status = wget_wch(nc_stdscr(), &value)
        if status == nc_err() { return .none }
        let code = Int32(bitPattern: value)
        if status == KEY_CODE_YES {
            switch code {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_ENTER: return .enter
            case KEY_BACKSPACE: return .backspace
            case KEY_BTAB: return .backTab
            case nc_key_resize(): return .resize
            case nc_key_mouse():
                var y: Int32 = 0, x: Int32 = 0
                var state: mmask_t = 0
                guard nc_getmouse(&y, &x, &state) == nc_ok() else { return .none }
                if state & nc_wheel_up() != 0 { return .wheel(row: Int(y), column: Int(x), up: true) }
                if nc_wheel_down() != 0, state & nc_wheel_down() != 0 { return .wheel(row: Int(y), column: Int(x), up: false) }
                return .mouse(row: Int(y), column: Int(x),
                              pressed: state & (nc_button1_pressed() | nc_button1_clicked()) != 0,
                              released: state & nc_button1_released() != 0)
            default: return .unrecognised
            }
        }
        switch code {
        case 10, 13: return .enter
        case 27: return escapeOrUnrecognised()
        case 9: return .tab
        case 127, 8: return .backspace
        default:
            guard let scalar = Unicode.Scalar(UInt32(value)) else { return .none }
            return .character(Character(scalar))
        }
    }

    /// Text with attributes and a colour pair (0: the default).
    public func put(_ text: String, row: Int, column: Int, bold: Bool = false, reverse: Bool = false, dim: Bool = false, pair: Int = 0) {
        var attributes: attr_t = 0
        if bold { attributes |= nc_a_bold() }
        if reverse { attributes |= nc_a_reverse() }
        if dim { attributes |= nc_a_dim() }
        _ = nc_set_attributes(nc_stdscr(), attributes, Int32(pair))
        put(text, row: row, column: column)
        _ = nc_set_attributes(nc_stdscr(), 0, 0)
    }

    private var pairs: [Int: Int32] = [:]

    /// The colour pair of (foreground, background) xterm colour numbers (-1: default),
    /// allocated once; ncurses recycles the least recently used when it runs out.
    public func pair(foreground: Int, background: Int) -> Int {
        let key = (foreground + 1) << 10 | (background + 1)
        if let pair = pairs[key] { return Int(pair) }
        let pair = alloc_pair(Int32(foreground), Int32(background))
        guard pair > 0 else { return 0 }
        pairs[key] = pair
        return Int(pair)
    }

    /// One cell: a character with a colour pair.
    public func putCell(_ character: Character, row: Int, column: Int, pair: Int) {
        let (rows, columns) = size
        guard row >= 0, row < rows, column >= 0, column < columns, let scalar = character.unicodeScalars.first else { return }
        _ = nc_put_cell(nc_stdscr(), Int32(row), Int32(column), wchar_t(bitPattern: scalar.value), Int32(pair), 0)
    }

    public var colorCount: Int { Int(nc_colors()) }

    /// Marks every cell as needing a redraw (after images were written around curses).
    public func invalidate() { clearok(nc_stdscr(), true) }

    /// Restores the terminal (leaves curses mode). Safe to call twice.
    public func end() {
        guard !ended else { return }
        ended = true
        endwin()
        delscreen(screen)
    }
}
