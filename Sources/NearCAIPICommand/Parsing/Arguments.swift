import NearCAIPI

/// A mistake in how the program was called: reported with the verb's usage, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// The work could not be done (missing file, corrupt data, full disk): exit status 1.
struct RuntimeFailure: Error, CustomStringConvertible {
    let message: String
    /// The engine's error this failure reports, kept (not only its text).
    let cause: Error?

    init(_ message: String) {
        self.message = message
        cause = nil
    }

    /// The work failed with `cause`: told in the command line's words (`userMessage`).
    init(_ cause: Error) {
        message = userMessage(for: cause)
        self.cause = cause
    }

    var description: String { message }
}

/// An error as a person at the command line reads it: the engine's failures that the command
/// line can do something about name the command or option that does it; the rest say what
/// the error says.
func userMessage(for error: Error) -> String {
    guard let error = error as? WorkspaceError else { return "\(error)" }
    switch error.reason {
    case .noTrainedModel:
        return "\(error.path): no trained model yet; run 'nearcaipi train \(error.path)'"
    case .initialTrainingOutOfRange(let available):
        return "\(error.path): option '--initial-train' must be between 1 and \(available)"
    case .other:
        return "\(error)"
    }
}

/// The arguments of one verb, split into positionals, `--name value` options and flags.
/// `--name=value` is accepted too. Anything not declared by the verb is a usage error,
/// so a typo never silently becomes a default.
struct Arguments {
    private(set) var positionals: [String] = []
    private var values: [String: String] = [:]
    private var presentFlags: Set<String> = []

    /// Options that may be given several times; their values are joined with commas
    /// (`--ok a --ok b` is `--ok a,b`).
    static let repeatable: Set<String> = ["--ok", "--nok"]

    init(_ words: [String], options: Set<String>, flags: Set<String>) throws(UsageError) {
        var index = 0
        var onlyPositionals = false
        while index < words.count {
            let word = words[index]
            index += 1
            if onlyPositionals || !word.hasPrefix("--") || word == "-" {
                if word.hasPrefix("-") && word != "-" && !onlyPositionals {
                    throw UsageError("unknown option '\(word)'")
                }
                positionals.append(word)
                continue
            }
            if word == "--" { onlyPositionals = true; continue }
            var name = word
            var inlineValue: String? = nil
            if let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                inlineValue = String(word[word.index(after: equals)...])
            }
            if flags.contains(name) {
                guard inlineValue == nil else { throw UsageError("option '\(name)' takes no value") }
                presentFlags.insert(name)
            } else if options.contains(name) {
                let repeated = values[name] != nil
                if repeated && !Self.repeatable.contains(name) { throw UsageError("option '\(name)' given twice") }
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard index < words.count, !words[index].hasPrefix("--") else {
                        throw UsageError("option '\(name)' needs a value")
                    }
                    value = words[index]
                    index += 1
                }
                values[name] = repeated ? values[name]! + "," + value : value
            } else {
                throw UsageError("unknown option '\(name)'")
            }
        }
    }

    func flag(_ name: String) -> Bool { presentFlags.contains(name) }

    func string(_ name: String) -> String? { values[name] }

    func requiredString(_ name: String) throws(UsageError) -> String {
        guard let value = values[name], !value.isEmpty else { throw UsageError("missing required option '\(name)'") }
        return value
    }

    func integer(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text) else { throw UsageError("option '\(name)' needs a whole number, got '\(text)'") }
        guard range.contains(value) else {
            throw UsageError("option '\(name)' must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    func unsigned(_ name: String, default fallback: UInt64) throws(UsageError) -> UInt64 {
        guard let text = values[name] else { return fallback }
        guard let value = UInt64(text) else { throw UsageError("option '\(name)' needs a non-negative whole number, got '\(text)'") }
        return value
    }

    func choice<T: RawRepresentable>(_ name: String, default fallback: T) throws(UsageError) -> T
        where T.RawValue == String, T: CaseIterable {
        guard let text = values[name] else { return fallback }
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw UsageError("option '\(name)' must be one of: \(allowed); got '\(text)'")
        }
        return value
    }

    /// Exactly `count` positionals, named in the message when missing or extra.
    func positionals(exactly names: [String]) throws(UsageError) -> [String] {
        if positionals.count < names.count {
            throw UsageError("missing \(names[positionals.count])")
        }
        if positionals.count > names.count {
            throw UsageError("unexpected argument '\(positionals[names.count])'")
        }
        return positionals
    }
}
