/// Help text generated from declared parameters: the usage lines and the Options block. The
/// verb's own prose (what it does) goes between them unchanged.
enum HelpText {
    /// The widest line the generated parts write; the hand-written prose keeps its own breaks.
    static let width = 96
    /// Terms longer than this do not widen the Options block's first column; their
    /// explanation starts after them on the same line.
    static let widestAlignedTerm = 24

    /// The verb's whole help: usage lines, its discussion, the Options block, its epilogue.
    static func help(for command: any Command.Type) -> String {
        var sections = [usageLines(verb: command.name, forms: command.usageForms).joined(separator: "\n"),
                        command.discussion]
        let entries = command.parameters.compactMap(\.helpEntry)
        if !entries.isEmpty { sections.append((["Options:"] + optionLines(entries)).joined(separator: "\n")) }
        if !command.epilogue.isEmpty { sections.append(command.epilogue) }
        return sections.joined(separator: "\n\n")
    }

    /// "Usage: nearcaipi VERB …" for the first form, the others beneath it, each wrapped with
    /// its continuation lines under the form's first parameter.
    static func usageLines(verb: String, forms: [[any Parameter]]) -> [String] {
        forms.enumerated().flatMap { index, form in
            let prefix = (index == 0 ? "Usage: " : "       ") + "nearcaipi \(verb) "
            return wrap(form.map(\.usage), prefix: prefix, indent: prefix.count)
        }
    }

    /// One entry per option or flag: the term, then its explanation in a column.
    static func optionLines(_ entries: [HelpEntry]) -> [String] {
        let aligned = entries.map(\.term.count).filter { $0 <= widestAlignedTerm }.max() ?? widestAlignedTerm
        let column = 2 + aligned + 2
        return entries.flatMap { entry in
            let head = "  " + entry.term
            let prefix = head.count + 2 <= column ? head + String(repeating: " ", count: column - head.count) : head + "  "
            return wrap(entry.explanation.split(separator: " ").map(String.init), prefix: prefix, indent: column)
        }
    }

    /// `words` after `prefix`, separated by single spaces, broken before a word that would pass
    /// `width`; continuation lines start with `indent` spaces.
    static func wrap(_ words: [String], prefix: String, indent: Int) -> [String] {
        var lines: [String] = []
        var line = prefix
        var lineHasWord = false
        for word in words {
            if lineHasWord && line.count + 1 + word.count > width {
                lines.append(line)
                line = String(repeating: " ", count: indent)
                lineHasWord = false
            }
            line += (lineHasWord ? " " : "") + word
            lineHasWord = true
        }
        lines.append(line)
        return lines
    }
}
