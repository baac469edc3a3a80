import NearCAIPI

/// One thing a verb's command line may hold — a positional, a flag or a `--name value` option —
/// declared once. From the declarations the parser learns which words a verb accepts, the help
/// text gets its usage line and Options block, and the verb reads the values with their
/// defaults and checks; so no name, default or range is written twice.
protocol Parameter: Sendable {
    /// How the parser treats it.
    var kind: ParameterKind { get }
    /// How the usage line shows it: `WORKSPACE`, `IMAGE...`, `--out DIR`, `[--json]`.
    var usage: String { get }
    /// Its entry in the help's Options block; nil for positionals, which the usage line and
    /// the verb's description explain.
    var helpEntry: HelpEntry? { get }
}

/// How the parser treats a declared parameter.
enum ParameterKind: Sendable, Equatable {
    case positional
    case flag(name: String)
    /// `repeatable`: may be given several times, the values joined with commas.
    case option(name: String, repeatable: Bool)

    /// The `--name` the parser matches; nil for a positional.
    var name: String? {
        switch self {
        case .positional: nil
        case .flag(let name), .option(let name, _): name
        }
    }
}

/// One entry of the Options block: `--answers N` and what it means, allowed values and default
/// included.
struct HelpEntry: Sendable {
    /// `--answers N` or `--json`.
    let term: String
    /// The whole explanation, e.g. "how many queries to answer, 1-100000 (default: until the
    /// pool is empty)".
    let explanation: String
    /// The default as the explanation shows it; nil when there is none.
    let shownDefault: String?
}

/// A word without `--` in a fixed place, e.g. the workspace folder.
struct Positional: Parameter {
    /// How the usage line names it: WORKSPACE, DIR, IMAGE.
    let placeholder: String
    /// What is missing when it is, e.g. "the workspace folder WORKSPACE" in "missing …".
    let missing: String
    /// One or more words (`IMAGE...`); only the last positional of a verb may repeat.
    var repeats = false
    /// Refuses a word that cannot be what it stands for, with the reason (a usage error).
    var check: (@Sendable (String) throws -> Void)? = nil

    /// The workspace most verbs work on: an address that cannot be one (a server URL without
    /// `?workspace=`, a misspelt scheme) is a mistake on the command line, refused as such.
    static let workspace = Positional(placeholder: "WORKSPACE", missing: "the workspace WORKSPACE (a folder, or postgresql://…?workspace=NAME)",
                                      check: { _ = try WorkspaceAddress(parsing: $0) })

    var kind: ParameterKind { .positional }
    var usage: String { placeholder + (repeats ? "..." : "") }
    var helpEntry: HelpEntry? { nil }
}

/// A `--name` without a value: present or not.
struct Flag: Parameter {
    let name: String
    /// What giving it does, e.g. "print one JSON object instead of the table".
    let help: String

    var kind: ParameterKind { .flag(name: name) }
    var usage: String { "[\(name)]" }
    var helpEntry: HelpEntry? { HelpEntry(term: name, explanation: help, shownDefault: nil) }
}
