import NearCAIPI

/// `nearcaipi rollback`: make an earlier round active again.
enum RollbackCommand: Command {
    static let name = "rollback"
    static let summary = "make an earlier round's model active again; later rounds are kept, marked rolled back"
    static let help = """
    Usage: nearcaipi rollback WORKSPACE --to ROUND

    Restores ROUND's checkpoint as the active model. Later rounds stay in the workspace,
    marked rolled back, and the feedback they trained on is marked reverted (excluded until
    it is given again) — nothing is deleted.
    """
    static let options: Set<String> = ["--to"]
    static let flags: Set<String> = []

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals(exactly: ["the workspace folder WORKSPACE"])[0]
        let round = try arguments.integer("--to", default: -1, in: 1...1_000_000)
        guard arguments.string("--to") != nil else { throw UsageError("missing required option '--to'") }
        do {
            let workspace = try Workspace(opening: path)
            try workspace.rollback(to: round)
            print("round \(round) is active again; later rounds are marked rolled back")
        } catch {
            throw RuntimeFailure(error)
        }
    }
}
