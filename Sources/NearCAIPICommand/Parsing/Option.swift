/// A `--name value` option, declared once: its name and placeholder, the help sentence, how its
/// text becomes a value (with what is allowed), and what it is when not given — a default
/// value, nothing (an optional value, perhaps with a description of what happens then), or a
/// usage error (a required option). Read with `arguments[option]`.
///
///     static let answers = Option<Int?>(name: "--answers", placeholder: "N", help: "how many queries to answer",
///                                       format: .wholeNumber(in: 1...100_000), defaultDescription: "until the pool is empty")
struct Option<Value: Sendable>: Parameter {
    let name: String
    /// How the usage line and the Options block name the value: N, NAME, DIR.
    let placeholder: String
    /// What the option sets, as a phrase; the allowed values and the default are added to it.
    let help: String
    /// Said in the default's parentheses after the default, e.g. why it is what it is.
    let note: String?
    /// May be given several times; the values are joined with commas (`--ok a --ok b` is
    /// `--ok a,b`), so the format reads a comma-separated list.
    let isRepeatable: Bool
    let format: ValueFormat<Value>
    let absence: Absence

    /// What an option that was not given amounts to.
    enum Absence: Sendable {
        /// A usage error: the verb cannot run without it.
        case required
        /// This value, the default, shown in the help as `shown` (nil: shown as nothing, for an
        /// optional value that has no default worth stating).
        case value(Value, shown: String?)
    }

    /// The general form; the initialisers below are the usual cases of it.
    init(name: String, placeholder: String, help: String, format: ValueFormat<Value>, absence: Absence,
         note: String? = nil, repeatable: Bool = false) {
        self.name = name
        self.placeholder = placeholder
        self.help = help
        self.format = format
        self.absence = absence
        self.note = note
        isRepeatable = repeatable
    }

    /// An option with a default value, shown in the help as the format writes it.
    init(name: String, placeholder: String, help: String, format: ValueFormat<Value>, default fallback: Value,
         note: String? = nil, repeatable: Bool = false) {
        self.init(name: name, placeholder: placeholder, help: help, format: format,
                  absence: .value(fallback, shown: format.describe(fallback)), note: note, repeatable: repeatable)
    }

    /// A required option: without it the verb is a usage error.
    init(name: String, placeholder: String, help: String, format: ValueFormat<Value>, note: String? = nil) {
        self.init(name: name, placeholder: placeholder, help: help, format: format, absence: .required, note: note)
    }

    /// An option whose value is nil when it is not given; `defaultDescription` says what
    /// happens then where that is not a constant ("the workspace's", "until the pool is empty").
    init<Wrapped: Sendable>(name: String, placeholder: String, help: String, format: ValueFormat<Wrapped>,
                            defaultDescription: String? = nil, note: String? = nil, repeatable: Bool = false)
        where Value == Wrapped? {
        self.init(name: name, placeholder: placeholder, help: help, format: format.optional,
                  absence: .value(nil, shown: defaultDescription), note: note, repeatable: repeatable)
    }

    var kind: ParameterKind { .option(name: name, repeatable: isRepeatable) }

    var usage: String {
        if case .required = absence { return "\(name) \(placeholder)" }
        return "[\(name) \(placeholder)]"
    }

    var shownDefault: String? {
        if case .value(_, let shown) = absence { return shown }
        return nil
    }

    /// "how many queries to answer, 1-100000 (default: until the pool is empty)".
    var helpEntry: HelpEntry? {
        var explanation = help + (format.allowed?.inHelp ?? "")
        let parenthesis = [shownDefault.map { "default: \($0)" }, note].compactMap { $0 }
        if !parenthesis.isEmpty { explanation += " (" + parenthesis.joined(separator: "; ") + ")" }
        return HelpEntry(term: "\(name) \(placeholder)", explanation: explanation, shownDefault: shownDefault)
    }

    /// The value given on the command line, or what its absence means.
    func value(in arguments: Arguments) throws(UsageError) -> Value {
        guard let text = arguments.text(of: name) else {
            switch absence {
            case .required: throw UsageError("missing required option '\(name)'")
            case .value(let fallback, _): return fallback
            }
        }
        // An empty value of a required option is as good as none.
        if case .required = absence, text.isEmpty { throw UsageError("missing required option '\(name)'") }
        do {
            return try format.parse(text)
        } catch {
            throw UsageError("option '\(name)' \(error.reason)")
        }
    }
}

/// Why an option's text was refused, in words that follow "option '--name' ", e.g.
/// "must be between 1 and 100000, got 0".
struct Refusal: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// What values an option allows, as its help entry says it.
enum AllowedValues: Sendable {
    /// A span, e.g. "1-100000" or "above 0 and below 1".
    case span(String)
    /// A list of words, e.g. ["weld", "cast"].
    case choices([String])

    /// Follows the help phrase: ", 1-100000" or ": weld or cast".
    var inHelp: String {
        switch self {
        case .span(let text): ", " + text
        case .choices(let words): ": " + listed(words, joinedBy: "or")
        }
    }
}

/// "a, b or c".
func listed(_ words: [String], joinedBy conjunction: String) -> String {
    guard words.count > 1 else { return words.first ?? "" }
    return words.dropLast().joined(separator: ", ") + " \(conjunction) " + words.last!
}

/// How an option's text becomes its value: the parse with its checks, what the help says is
/// allowed, and how a default value is written in the help.
struct ValueFormat<Value: Sendable>: Sendable {
    let allowed: AllowedValues?
    let parse: @Sendable (String) throws(Refusal) -> Value
    let describe: @Sendable (Value) -> String

    init(allowed: AllowedValues? = nil, describe: @escaping @Sendable (Value) -> String = { "\($0)" },
         parse: @escaping @Sendable (String) throws(Refusal) -> Value) {
        self.allowed = allowed
        self.parse = parse
        self.describe = describe
    }

    /// The same format for an option that may be absent.
    var optional: ValueFormat<Value?> {
        let parse = self.parse, describe = self.describe
        return ValueFormat<Value?>(allowed: allowed, describe: { $0.map(describe) ?? "" }) { (text) throws(Refusal) in
            try parse(text)
        }
    }
}
