import Foundation
import NearCAIPI

/// `nearcaipi revert`: withdraw answers — one person's, one round's, one stretch of time —
/// after seeing which.
enum RevertCommand: Command {
    static let name = "revert"
    static let summary = "withdraw chosen answers (by person, round or time); shows them first, reverts with --yes"
    static let discussion = """
    Lists the standing answers that every condition given picks, and without --yes changes
    nothing. With --yes they are reverted in one transaction: each stays in the log, marked
    reverted; its item keeps the label of a later standing answer, or goes back to the pool to
    be asked again (refutations made from it leave training); exports no longer carry its
    mask. At least one condition is needed. A rollback never reverts answers: it only changes
    which round's model is active.
    """

    static let user = Option<String?>(name: "--user", placeholder: "NAME", help: "only this person's answers", format: .personName)
    static let round = Option<Int?>(name: "--round", placeholder: "N", help: "only the answers round N trained on (also after a rollback)",
                                    format: .wholeNumber(in: 1...1_000_000))
    static let since = Option<Date?>(name: "--since", placeholder: "TIME", help: "only answers given at or after TIME",
                                     format: .time, note: "TIME: 2026-12-02, 2026-12-02T14:30 (local time) or 2026-12-02T13:30:00Z")
    static let until = Option<Date?>(name: "--until", placeholder: "TIME", help: "only answers given before TIME", format: .time)
    static let yes = Flag(name: "--yes", help: "revert them (without it, only list them)")
    static let parameters: [any Parameter] = [Positional.workspace, user, round, since, until, yes]

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let selection = AnswerSelection(user: try arguments[user], round: try arguments[round], since: try arguments[since],
                                        until: try arguments[until])
        guard !selection.isEmpty else {
            throw UsageError("say which answers: give --user, --round, --since or --until (reverting everything is not offered)")
        }
        do {
            let workspace = try Workspace(opening: path)
            try workspace.refuseIfReadOnly()
            let chosen = try workspace.answers(matching: selection)
            for answer in chosen {
                let verdicts = [answer.prediction.map { "prediction \($0.rawValue)" }, answer.explanation.map { "explanation \($0.rawValue)" },
                                answer.correctedLabel.map { "label \($0.displayName)" }, answer.hasCorrectedMask ? "painted mask" : nil]
                print("#\(answer.id)  \(answer.time)  \(answer.user)\(answer.role.map { " (\($0.rawValue))" } ?? "")  \(answer.itemPath)  "
                      + verdicts.compactMap { $0 }.joined(separator: ", "))
            }
            guard !chosen.isEmpty else {
                print("no standing answers match (\(selection)); nothing to revert — check the name, round or times")
                return
            }
            guard arguments[yes] else {
                print("\(chosen.count) answer\(chosen.count == 1 ? "" : "s") would be reverted (\(selection)); add --yes to revert")
                return
            }
            try workspace.revert(selection)
            print("\(chosen.count) answer\(chosen.count == 1 ? "" : "s") reverted (\(selection))")
        } catch {
            throw RuntimeFailure(error)
        }
    }
}

extension ValueFormat where Value == Date {
    /// A day (midnight, local time), a local time to the minute, or an ISO 8601 time with
    /// its zone.
    static var time: Self {
        ValueFormat(describe: { ISO8601DateFormatter().string(from: $0) }) { (text) throws(Refusal) in
            if let date = ISO8601DateFormatter().date(from: text) { return date }
            for pattern in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"] {
                let format = DateFormatter()
                format.locale = Locale(identifier: "en_US_POSIX")
                format.timeZone = .current
                format.dateFormat = pattern
                if let date = format.date(from: text) { return date }
            }
            throw Refusal("needs a time such as 2026-12-02 or 2026-12-02T14:30, got '\(text)'")
        }
    }
}
