import FileAccess
/// One verb of `nearcaipi`. Its parameters are declared once (`parameters`): the parser, the
/// help text and `run` all take them from there.
protocol Command {
    static var name: String { get }
    /// One line for the verb list.
    static var summary: String { get }
    /// What the verb does, in prose: the help text between the usage line(s) and the options.
    static var discussion: String { get }
    /// Every positional, option and flag the verb accepts, in the order the help lists them.
    static var parameters: [any Parameter] { get }
    /// The usage lines, each one way of calling the verb; one line with every parameter unless
    /// the verb has several forms (train with a workspace or with a data set).
    static var usageForms: [[any Parameter]] { get }
    /// Prose after the options, if any.
    static var epilogue: String { get }
    /// Runs the verb. Throws UsageError (exit 2) or RuntimeFailure (exit 1).
    static func run(_ arguments: Arguments) throws
}

extension Command {
    static var usageForms: [[any Parameter]] { [parameters] }
    static var epilogue: String { "" }
    /// The full help text, generated around `discussion`.
    static var help: String { HelpText.help(for: self) }
}

/// Writes to standard error, unbuffered: progress and diagnostics never mix into the
/// data a verb prints on standard output.
func printError(_ text: String) { writeLine(text, to: STDERR_FILENO) }

/// Writes a line to standard output at once (not through stdio's buffer): for
/// acknowledgements that a reader must see the moment the work is committed.
func printNow(_ text: String) { writeLine(text, to: STDOUT_FILENO) }

/// A line written whole (interrupted and short writes go on); a closed stream loses the
/// line, and nothing else can be done about it.
private func writeLine(_ text: String, to descriptor: Int32) {
    BinaryFile.writeAll(Array((text + "\n").utf8), to: descriptor)
}

#if canImport(Glibc)
import Glibc
#endif
