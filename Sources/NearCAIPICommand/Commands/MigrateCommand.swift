import Foundation
import NearCAIPI

/// `nearcaipi migrate`: copy a workspace between a folder and a PostgreSQL server.
enum MigrateCommand: Command {
    static let name = "migrate"
    static let summary = "copy a workspace, rows and files, from a folder to a PostgreSQL server or back"
    static let discussion = """
    Copies WORKSPACE — its image index, answers, painted masks, rounds, reviews, settings,
    and its files: every round's checkpoint, round 0 and its anomaly scores, the refutation
    images — to a new workspace at ADDRESS: a server address
    (postgresql://USER@HOST:PORT/DATABASE?workspace=NAME) or a folder. Ids are kept, so the
    log, the rounds and the reviews read the same; leases are not copied. The copy is made
    whole or not at all (one transaction on a server; a temporary database renamed into place
    in a folder), then opened and checked: every table must hold as many rows as the
    original, every file must be there. WORKSPACE is not changed. The data set's image
    folder is not copied: the copy reads it where the original did.
    """

    static let to = Option<String>(name: "--to", placeholder: "ADDRESS", help: "where the copy is made (a folder, or a server address)",
                                   format: .text)
    static let parameters: [any Parameter] = [Positional.workspace, to]

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let target = try arguments[to]
        do {
            let workspace = try Workspace(opening: path)
            let summary = try workspace.migrate(to: target)
            let shown = try WorkspaceAddress(parsing: target).description
            let rows = summary.rows
            print("copied to \(shown): \(rows["items"] ?? 0) items, \(rows["feedback"] ?? 0) answers, \(rows["rounds"] ?? 0) rounds, "
                  + "\(rows["review_queue"] ?? 0) reviews, \(summary.files) files (\(readableBytes(summary.bytes))); every count checked")
        } catch {
            throw RuntimeFailure(error)
        }
    }

    static func readableBytes(_ count: Int) -> String {
        count < 1 << 20 ? "\(count / 1024) KB" : String(format: "%.1f MB", Double(count) / Double(1 << 20))
    }
}
