#if canImport(Glibc)
import Glibc
#endif

/// What the terminal says about itself before curses starts: its primary device attributes
/// (sixel support), its number of sixel colour registers and the pixel size of a cell.
public struct TerminalReport: Sendable, Equatable {
    /// The DA1 reply `ESC [ ? 6 2 ; 4 ; … c`, nil when nothing answered.
    public var deviceAttributes: String?
    /// XTSMGRAPHICS' answer to "how many colour registers" (`ESC [ ? 1 ; 0 ; N S`), nil when
    /// the terminal does not implement the query (it then ignores it).
    public var colorRegisters: Int?
    /// Pixels per character cell from the text-area report `ESC [ 6 ; H ; W t` (answer to
    /// `ESC [ 16 t`), nil when not answered. The kernel's window size (TIOCGWINSZ), when it
    /// carries pixels, is preferred at drawing time as it follows font changes.
    public var cellSize: CellSize?
    /// XTSMGRAPHICS' answer to "the largest sixel picture" (`ESC [ ? 2 ; 0 ; W ; H S`): xterm
    /// draws nothing of a picture wider or taller (1 000 × 1 000 unless configured), so the
    /// screens never send one larger. Nil when not answered.
    public var sixelLimit: CellSize?
    /// The terminal answered the kitty graphics protocol's question with OK.
    public var kittyGraphics: Bool

    public init(deviceAttributes: String? = nil, colorRegisters: Int? = nil, cellSize: CellSize? = nil, sixelLimit: CellSize? = nil,
                kittyGraphics: Bool = false) {
        self.deviceAttributes = deviceAttributes
        self.colorRegisters = colorRegisters
        self.cellSize = cellSize
        self.sixelLimit = sixelLimit
        self.kittyGraphics = kittyGraphics
    }

    /// The five questions, sent at once; every terminal answers DA1, and it is asked last,
    /// so its reply ends the wait (replies come in order; a terminal without the kitty
    /// protocol ignores its question).
    static let questions = KittyEncoder.question + "\u{1B}[?1;1;0S" + "\u{1B}[?2;4;0S" + "\u{1B}[16t" + "\u{1B}[c"

    /// Reads the answers out of whatever the terminal sent back (possibly none, some or all
    /// of the three, in any interleaving with nothing else).
    public static func parse(_ reply: String) -> TerminalReport {
        var report = TerminalReport()
        for sequence in reply.split(separator: "\u{1B}").map(String.init) {
            // The kitty protocol's answer: APC `_G i=31 ; OK`, then ST.
            if sequence.hasPrefix("_G"), sequence.contains("i=31"), sequence.hasSuffix(";OK") {
                report.kittyGraphics = true
                continue
            }
            guard sequence.hasPrefix("["), let final = sequence.last else { continue }
            let body = sequence.dropFirst().dropLast()
            switch final {
            case "c" where body.hasPrefix("?"):
                report.deviceAttributes = "\u{1B}" + sequence
            case "S" where body.hasPrefix("?"):
                // ? 1 ; status ; value (colour registers) or ? 2 ; status ; width ; height (sixel
                // geometry) — status 0 is success.
                let fields = body.dropFirst().split(separator: ";").compactMap { Int($0) }
                if fields.count == 3, fields[0] == 1, fields[1] == 0, (2...65_536).contains(fields[2]) {
                    report.colorRegisters = fields[2]
                }
                if fields.count == 4, fields[0] == 2, fields[1] == 0, (64...65_536).contains(fields[2]), (64...65_536).contains(fields[3]) {
                    report.sixelLimit = CellSize(width: fields[2], height: fields[3])
                }
            case "t":
                let fields = body.split(separator: ";").compactMap { Int($0) }
                if fields.count == 3, fields[0] == 6, (4...512).contains(fields[1]), (2...512).contains(fields[2]) {
                    report.cellSize = CellSize(width: fields[2], height: fields[1])
                }
            default: continue
            }
        }
        return report
    }

    /// Asks the terminal on standard input/output, in raw mode, waiting at most `timeout`
    /// milliseconds for each byte of the replies. Empty when standard input is not a terminal
    /// or nothing answers (a pipe, a dumb console, tmux without sixel still answers DA1).
    public static func query(timeout: Int32 = 300) -> TerminalReport {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { return TerminalReport() }
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return TerminalReport() }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        guard tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0 else { return TerminalReport() }
        let request = Array(questions.utf8)
        guard write(STDOUT_FILENO, request, request.count) == request.count else { return TerminalReport() }
        var reply: [UInt8] = []
        var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        while reply.count < 512, poll(&descriptor, 1, timeout) > 0 {
            var byte: UInt8 = 0
            guard read(STDIN_FILENO, &byte, 1) == 1 else { break }
            reply.append(byte)
            // The DA1 reply, asked last, ends with 'c' after "ESC [ ?".
            if byte == UInt8(ascii: "c"), let start = reply.lastIndex(of: 0x1B),
               reply.count - start > 3, reply[start + 2] == UInt8(ascii: "?") { break }
        }
        return parse(String(decoding: reply, as: UTF8.self))
    }
}

/// The pixel size of one character cell.
public struct CellSize: Sendable, Equatable {
    public var width: Int, height: Int
    public init(width: Int, height: Int) { (self.width, self.height) = (width, height) }

    /// What xterm's default font gives; used when the terminal tells nothing.
    public static let assumed = CellSize(width: 10, height: 20)

    /// The cell size the kernel's window size implies for the terminal on `descriptor`
    /// (TIOCGWINSZ's pixel fields divided by rows and columns), nil when the terminal leaves
    /// the pixel fields 0, as most do under a multiplexer.
    public static func fromWindowSize(of descriptor: Int32 = STDOUT_FILENO) -> CellSize? {
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0,
              size.ws_xpixel > 0, size.ws_ypixel > 0 else { return nil }
        let cell = CellSize(width: Int(size.ws_xpixel) / Int(size.ws_col), height: Int(size.ws_ypixel) / Int(size.ws_row))
        return cell.width >= 2 && cell.height >= 4 ? cell : nil
    }
}
