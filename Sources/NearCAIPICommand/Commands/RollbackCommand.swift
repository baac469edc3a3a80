import NearCAIPI

/// `nearcaipi rollback`: make an earlier round active again.
enum RollbackCommand: Command {
    static let name = "rollback"
    static let summary = "make an earlier round's model active again; later rounds are kept, marked rolled back"
    static let discussion = """
    Restores ROUND's checkpoint as the active model. Later rounds stay in the workspace,
    marked rolled back, and the feedback they trained on is marked reverted (excluded until
    it is given again) — nothing is deleted.
    """

    static let round = Option<Int>(name: "--to", placeholder: "ROUND", help: "the round to make active",
                                   format: .wholeNumber(in: 1...1_000_000))
    static let parameters: [any Parameter] = [Positional.workspace, round]

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let round = try arguments[Self.round]
        do {
            let workspace = try Workspace(opening: path)
            try workspace.rollback(to: round)
            print("round \(round) is active again; later rounds are marked rolled back")
        } catch {
            throw RuntimeFailure(error)
        }
    }
}
