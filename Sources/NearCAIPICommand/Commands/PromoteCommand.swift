import NearCAIPI

/// `nearcaipi promote`: decide on a candidate round — one that was worse on the validation
/// split than the active round when it was trained.
enum PromoteCommand: Command {
    static let name = "promote"
    static let summary = "make a candidate round (trained, but worse on validation) active, or discard it"
    static let discussion = """
    A round judged worse on the validation split than the active one is kept as a candidate
    rather than put to use (the workspace's promotion rule: by default, unless-worse — worse
    on the parts the two rounds judge differently, with 90 % confidence; 'nearcaipi status'
    and the operator screen say why). Promoting it makes its model
    active and the answers it trained on count as trained; discarding it sets it aside for
    good (kept, marked discarded). 'nearcaipi status' shows each round and its status.
    """

    static let round = Option<Int>(name: "--round", placeholder: "N", help: "the candidate round", format: .wholeNumber(in: 1...1_000_000))
    static let discard = Flag(name: "--discard", help: "set the candidate aside instead of making it active")
    static let parameters: [any Parameter] = [Positional.workspace, round, discard]

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let number = try arguments[round]
        do {
            let workspace = try Workspace(opening: path)
            try workspace.refuseIfReadOnly()
            if arguments[discard] {
                try workspace.discard(round: number)
                print("round \(number) is discarded; the active round stays")
            } else {
                try workspace.promote(round: number)
                print("round \(number) is active")
            }
        } catch {
            throw RuntimeFailure(error)
        }
    }
}
