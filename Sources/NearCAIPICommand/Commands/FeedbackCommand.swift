import FileAccess
import NearCAIPI

/// `nearcaipi feedback --import`: verdicts from a file, e.g. from another inspection tool.
enum FeedbackCommand: Command {
    static let name = "feedback"
    static let summary = "record expert verdicts from a CSV file into a workspace"
    static let discussion = """
    FILE.csv has a header line and the columns path,prediction,explanation,label:
      path         the item, relative to the data set root (as `status` and the index name it)
      prediction   the verdict on the shown prediction: right, wrong or skip (may be empty)
      explanation  the verdict on the heatmap: right, wrong or skip (may be empty)
      label        the expert's class, ok or nok (may be empty)
    Each line is committed to the workspace before "recorded LINE" is printed: whatever was
    acknowledged survives a crash. A malformed line or an unknown item is reported with its
    line number and skipped; the exit status is 1 if any line was skipped.
    """

    static let file = Option<String>(name: "--import", placeholder: "FILE.csv", help: "the verdicts to record", format: .text)
    static let user = Option<String>(name: "--user", placeholder: "NAME", help: "who gave them, recorded with each",
                                     format: .text, default: "import")
    static let parameters: [any Parameter] = [Positional.workspace, file, user]

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let file = try arguments[Self.file]
        let user = try arguments[Self.user]
        let text: String
        do { text = String(decoding: try BinaryFile.read(file), as: UTF8.self) } catch { throw RuntimeFailure(error.description) }
        let workspace: Workspace
        do { workspace = try Workspace(opening: path) } catch { throw RuntimeFailure(error) }
        do { try workspace.refuseIfReadOnly() } catch { throw RuntimeFailure(error) }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingTrailingCarriageReturn }
        guard let header = lines.first, header.lowercased() == "path,prediction,explanation,label" else {
            throw RuntimeFailure("\(file): the first line must be the header path,prediction,explanation,label")
        }
        lines.removeFirst()
        var skipped = 0, recorded = 0
        for (offset, line) in lines.enumerated() where !line.isEmpty {
            let number = offset + 2
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            // An empty field is no verdict (or no label); any other word must be one of the vocabulary's.
            func verdict(_ text: String) -> Verdict?? { text.isEmpty ? .some(nil) : Verdict(rawValue: text).map { .some($0) } }
            func label(_ text: String) -> ClassLabel?? { text.isEmpty ? .some(nil) : ClassLabel.allCases.first { $0.name == text }.map { .some($0) } }
            guard fields.count == 4, let prediction = verdict(fields[1]), let explanation = verdict(fields[2]),
                  let correctedLabel = label(fields[3]) else {
                printError("nearcaipi feedback: \(file):\(number): expected path,right|wrong|skip,right|wrong|skip,ok|nok (skipped)")
                skipped += 1
                continue
            }
            let event = FeedbackEvent(itemPath: fields[0], user: user, prediction: prediction, explanation: explanation,
                                      correctedLabel: correctedLabel)
            do {
                try workspace.recordFeedback(event)
                recorded += 1
                printNow("recorded \(number)")
            } catch {
                printError("nearcaipi feedback: \(file):\(number): \(error) (skipped)")
                skipped += 1
            }
        }
        printNow("\(recorded) recorded, \(skipped) skipped")
        if skipped > 0 { throw RuntimeFailure("\(skipped) line(s) skipped") }
    }
}

extension Substring {
    var trimmingTrailingCarriageReturn: String { hasSuffix("\r") ? String(dropLast()) : String(self) }
}
