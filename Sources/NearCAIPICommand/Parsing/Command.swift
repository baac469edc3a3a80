/// One verb of `nearcaipi`.
protocol Command {
    static var name: String { get }
    /// One line for the verb list.
    static var summary: String { get }
    /// The full help text: usage line(s), then options.
    static var help: String { get }
    static var options: Set<String> { get }
    static var flags: Set<String> { get }
    /// Runs the verb. Throws UsageError (exit 2) or RuntimeFailure (exit 1).
    static func run(_ arguments: Arguments) throws
}

/// Writes to standard error, unbuffered: progress and diagnostics never mix into the
/// data a verb prints on standard output.
func printError(_ text: String) { writeLine(text, to: STDERR_FILENO) }

/// Writes a line to standard output at once (not through stdio's buffer): for
/// acknowledgements that a reader must see the moment the work is committed.
func printNow(_ text: String) { writeLine(text, to: STDOUT_FILENO) }

private func writeLine(_ text: String, to descriptor: Int32) {
    let bytes = Array((text + "\n").utf8)
    var written = 0
    while written < bytes.count {
        let put = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
        if put <= 0 { return }
        written += put
    }
}

/// Seconds on the monotonic clock, for durations.
func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

#if canImport(Glibc)
import Glibc
#endif
