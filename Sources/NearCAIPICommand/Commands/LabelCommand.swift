import Explanations
import Foundation
import InspectorUI
import NearCAIPI

/// `nearcaipi label`: the interactive loop in the terminal.
enum LabelCommand: Command {
    static let name = "label"
    static let summary = "the interactive loop in the terminal: inspector, supervisor and operator screens"
    static let discussion = """
    Shows the pool image the active model is least sure of, its InvRISE heatmap (computed in
    the background, drawn as it progresses, the next queries' maps computed ahead), and takes
    the verdicts: prediction right / wrong, explanation right / wrong with a painted mask.
    Every answer is stored before the next image appears. Supervisors also review the near
    hits and near misses of wrong predictions; operators also retrain, roll back and export.
    Press ? in the program for every key. The workspace needs a trained round
    ('nearcaipi train WORKSPACE').
    """

    static let user = Option<String?>(name: "--user", placeholder: "NAME", help: "who answers; recorded with every answer",
                                      format: .personName, defaultDescription: "$USER")
    static let role = Option<Role>(name: "--role", placeholder: "ROLE", help: "which screens you get", format: .choice,
                                   default: .inspector)
    static let graphics = Option<GraphicsChoice>(
        name: "--graphics", placeholder: "MODE", help: "how images are drawn", format: .choice, default: .auto,
        note: "auto: kitty when the terminal answers the kitty graphics protocol's question, else sixel when its device attributes list it, ascii for TERM=dumb or NO_COLOR, half-block otherwise")
    static let fill = Option<MaskFill?>(
        name: "--fill", placeholder: "NAME", help: "what hides a region in the heatmaps, stored for the workspace",
        format: .choice, defaultDescription: MaskFill.standard.rawValue,
        note: "the same pixels of the best aligned OK training part; see 'explain --help'")
    static let query = Option<QueryStrategy?>(
        name: "--query", placeholder: "RULE", help: "which pool part the inspector is asked about next, stored for the workspace",
        format: .choice, defaultDescription: "the workspace's, at first least-confidence",
        note: "anomaly: round 0's anomaly score first ('nearcaipi pretrain'); anomaly-uncertainty: with the model's doubt; disagreement-first: parts whose own defect map and InvRISE point apart, for rounds trained with --mask-loss on")
    static let parameters: [any Parameter] = [Positional.workspace, user, role, graphics, fill, query]

    enum GraphicsChoice: String, CaseIterable { case auto, kitty, sixel, halfblock, ascii }

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let environment = ProcessInfo.processInfo.environment
        // Who answers is recorded with every answer: the login name when --user is not given
        // (never a made-up name that would lump everyone together).
        guard let user = try arguments[Self.user] ?? environment["USER"] ?? loginName() else {
            throw UsageError("option '--user' is needed: this account has no login name to record answers under")
        }
        guard !user.isEmpty, user.count <= 64 else { throw UsageError("option '--user' needs a name of 1 to 64 characters") }
        let role = try arguments[Self.role]
        let choice = try arguments[graphics]
        let fill = try arguments[Self.fill], rule = try arguments[query]
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw RuntimeFailure("label needs a terminal on standard input and output")
        }
        let workspace: Workspace
        do {
            workspace = try Workspace(opening: path)
            try workspace.refuseIfReadOnly()
            if fill != nil || rule != nil {
                var settings = try LoopSettings.stored(in: workspace)
                if let fill { settings.heatmapFill = fill }
                if let rule { settings.queryStrategy = rule }
                try settings.store(in: workspace)
            }
        } catch { throw RuntimeFailure(error) }
        let override = choice == .auto ? nil : GraphicsMode(rawValue: choice.rawValue)
        // Asked before curses starts (its own input handling would swallow the replies).
        let report = TerminalReport.query()
        var mode = GraphicsMode.choose(override: override, deviceAttributes: report.deviceAttributes, kittyGraphics: report.kittyGraphics,
                                       environment: environment)
        var notice: String? = nil
        if let blocker = GraphicsMode.blocker(for: mode, environment: environment) {
            // Blank panels without a word are worse than coarser pictures: say it, draw half-block.
            notice = "\(blocker): pictures are drawn in half-block. Run outside it for \(mode.rawValue) pictures."
            mode = .halfblock
        }
        let truecolor = ["truecolor", "24bit"].contains(environment["COLORTERM"] ?? "")
        let status: Int32
        do {
            let app = try LabelApp(workspace: workspace, user: user, role: role, graphics: mode, truecolor: truecolor, terminal: report,
                                   notice: notice)
            status = try app.run()
        } catch {
            throw RuntimeFailure(error)
        }
        if status != 0 { exit(status) }
    }

    /// The account's login name from the password database, when it has one.
    static func loginName() -> String? {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return nil }
        let text = String(cString: name)
        return text.isEmpty ? nil : text
    }
}
