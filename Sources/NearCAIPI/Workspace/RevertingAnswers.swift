import Foundation

/// Which standing answers to revert: every condition given must hold. Reverting is a
/// deliberate act about people's work — one person's answers, one round's, one stretch of
/// time — so a selection without any condition selects nothing.
public struct AnswerSelection: Sendable, Equatable, CustomStringConvertible {
    /// Given by this person.
    public var user: String?
    /// Trained on by the round with this number.
    public var round: Int?
    /// Given at or after this time.
    public var since: Date?
    /// Given before this time.
    public var until: Date?

    public init(user: String? = nil, round: Int? = nil, since: Date? = nil, until: Date? = nil) {
        self.user = user
        self.round = round
        self.since = since
        self.until = until
    }

    /// No condition: selects nothing.
    public var isEmpty: Bool { user == nil && round == nil && since == nil && until == nil }

    public func matches(_ answer: FeedbackRecord) -> Bool { matches(answer, reading: ISO8601DateFormatter()) }

    /// `matches`, with the formatter that reads the answers' times (made once per log).
    func matches(_ answer: FeedbackRecord, reading times: ISO8601DateFormatter) -> Bool {
        guard !isEmpty, !answer.reverted else { return false }
        if let user, answer.user != user { return false }
        // What the round learnt, also after a rollback handed the answer back to the next round;
        // a skip and an answer kept for validation taught no round anything.
        if let round, answer.roundNumber != round, !answer.trainedInto.contains(round) { return false }
        if round != nil, answer.establishedLabel == nil || answer.heldForValidation { return false }
        if since != nil || until != nil {
            guard let time = times.date(from: answer.time) else { return false }
            if let since, time < since { return false }
            if let until, time >= until { return false }
        }
        return true
    }

    /// The conditions in words ("anna's answers, trained into round 3, since …").
    public var description: String {
        guard !isEmpty else { return "no answers (no condition given)" }
        var conditions: [String] = []
        if let round { conditions.append("trained into round \(round)") }
        let format = ISO8601DateFormatter()
        if let since { conditions.append("given since \(format.string(from: since))") }
        if let until { conditions.append("given before \(format.string(from: until))") }
        return ([user.map { "\($0)'s answers" } ?? "answers"] + [conditions.joined(separator: ", ")]).filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}

extension Workspace {
    /// The standing (not reverted) answers `selection` picks, oldest first: what `revert`
    /// would revert, to be shown before anyone confirms.
    public func answers(matching selection: AnswerSelection) throws -> [FeedbackRecord] {
        let times = ISO8601DateFormatter()
        return try feedbackLog().filter { selection.matches($0, reading: times) }
    }

    /// Reverts the answers `selection` picks, in one transaction, and returns them. A reverted
    /// answer no longer counts: its item keeps the label of a later standing answer, or goes
    /// back to the pool to be asked again (the refutations made from it leave training), and
    /// exports no longer carry its mask. The answer itself stays in the log, marked reverted.
    @discardableResult
    public func revert(_ selection: AnswerSelection) throws -> [FeedbackRecord] {
        let chosen = try answers(matching: selection)
        try store.revert(chosen.map(\.id))
        return chosen
    }

    /// The standing answers the rounds after `number` trained on: what a rollback to `number`
    /// hands back to the next round (they stay; only the model changes).
    public func answersTrained(after number: Int) throws -> [FeedbackRecord] {
        try feedbackLog().filter { !$0.reverted && $0.establishedLabel != nil && !$0.heldForValidation && ($0.roundNumber ?? 0) > number }
    }
}
