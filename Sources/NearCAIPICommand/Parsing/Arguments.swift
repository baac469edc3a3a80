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
        // A server workspace is named "workspace 'NAME' on postgresql://…": its address, with
        // the password the message leaves out, is the person's to give.
        let command = error.path.hasPrefix("workspace '") ? "'nearcaipi train ADDRESS'" : "'nearcaipi train \(error.path)'"
        return "\(error.path): no trained model yet; run \(command)"
    case .initialTrainingOutOfRange(let available):
        return "\(error.path): option '--initial-train' must be between 1 and \(available)"
    case .other, .trainingCancelled, .trainingElsewhere:
        return "\(error)"
    }
}

/// The arguments of one verb, split into positionals, `--name value` options and flags by the
/// verb's declared parameters. `--name=value` is accepted too. Anything the verb does not
/// declare is a usage error, so a typo never silently becomes a default.
struct Arguments {
    private(set) var positionals: [String] = []
    private var values: [String: String] = [:]
    private var presentFlags: Set<String> = []

    init(_ words: [String], declared parameters: [any Parameter]) throws(UsageError) {
        var flags: Set<String> = [], options: Set<String> = [], repeatable: Set<String> = []
        for parameter in parameters {
            switch parameter.kind {
            case .positional: break
            case .flag(let name): flags.insert(name)
            case .option(let name, let isRepeatable):
                options.insert(name)
                if isRepeatable { repeatable.insert(name) }
            }
        }
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
                if repeated && !repeatable.contains(name) { throw UsageError("option '\(name)' given twice") }
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

    /// Whether the flag was given.
    subscript(flag: Flag) -> Bool { presentFlags.contains(flag.name) }

    /// The option's value: as given, checked by its format, or what its absence means.
    subscript<Value>(option: Option<Value>) -> Value {
        get throws(UsageError) { try option.value(in: self) }
    }

    /// Whether the option or flag was given at all.
    func isGiven(_ parameter: any Parameter) -> Bool {
        guard let name = parameter.kind.name else { return false }
        return values[name] != nil || presentFlags.contains(name)
    }

    /// The text given for the option `name`, repeated values joined with commas; nil when absent.
    func text(of name: String) -> String? { values[name] }

    /// The positionals, one per declared positional (the last may repeat), named in the
    /// message when missing or extra.
    func positionals(_ declared: [Positional]) throws(UsageError) -> [String] {
        if positionals.count < declared.count {
            throw UsageError("missing \(declared[positionals.count].missing)")
        }
        if positionals.count > declared.count, declared.last?.repeats != true {
            throw UsageError("unexpected argument '\(positionals[declared.count])'")
        }
        for (word, positional) in zip(positionals, declared) {
            guard let check = positional.check else { continue }
            do { try check(word) } catch { throw UsageError("\(error)") }
        }
        return positionals
    }
}
