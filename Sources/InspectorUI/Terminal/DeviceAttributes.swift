#if canImport(Glibc)
import Glibc
#endif

/// Asks the terminal on standard input/output for its primary device attributes (`ESC [ c`)
/// before curses starts, in raw mode, waiting at most `timeout` milliseconds for the reply
/// (`ESC [ ? 6 2 ; 4 ; … c`). nil when standard input is not a terminal or nothing answers
/// (tmux without sixel, a pipe, a dumb console).
public func queryPrimaryDeviceAttributes(timeout: Int32 = 300) -> String? {
    guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { return nil }
    var saved = termios()
    guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return nil }
    var raw = saved
    raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
    defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
    guard tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0 else { return nil }
    let request: [UInt8] = [0x1B, 0x5B, 0x63]
    guard write(STDOUT_FILENO, request, request.count) == request.count else { return nil }
    var reply: [UInt8] = []
    var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
    while reply.count < 256, poll(&descriptor, 1, timeout) > 0 {
        var byte: UInt8 = 0
        guard read(STDIN_FILENO, &byte, 1) == 1 else { break }
        reply.append(byte)
        if byte == UInt8(ascii: "c"), reply.count > 2 { break }
    }
    return reply.isEmpty ? nil : String(decoding: reply, as: UTF8.self)
}
