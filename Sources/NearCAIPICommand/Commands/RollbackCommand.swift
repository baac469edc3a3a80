import NearCAIPI

/// `nearcaipi rollback`: make an earlier round active again.
enum RollbackCommand: Command {
    static let name = "rollback"
    static let summary = "make an earlier round's model active again; later rounds are kept, answers stay"
    static let discussion = """
    Restores ROUND's checkpoint as the active model. Later rounds stay in the workspace,
    marked rolled back; nothing is deleted. The answers those rounds trained on — labels and
    painted masks — stay true: the model now active has not learnt from them, so they wait
    for the next round. To withdraw answers, use 'nearcaipi revert'.
    """

    static let round = Option<Int>(name: "--to", placeholder: "ROUND", help: "the round to make active",
                                   format: .wholeNumber(in: 1...1_000_000))
    static let parameters: [any Parameter] = [Positional.workspace, round]

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let round = try arguments[Self.round]
        do {
            let workspace = try Workspace(opening: path)
            try workspace.refuseIfReadOnly()
            let waiting = try workspace.answersTrained(after: round).count
            try workspace.rollback(to: round)
            print("round \(round) is active again; later rounds are marked rolled back; "
                  + "\(waiting) answer\(waiting == 1 ? "" : "s") they trained on stay and wait for the next round")
        } catch {
            throw RuntimeFailure(error)
        }
    }
}
