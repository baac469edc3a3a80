import FileAccess
import NearCAIPI

/// `nearcaipi export`: labels, masks and the feedback log out of a workspace.
enum ExportCommand: Command {
    static let name = "export"
    static let summary = "write a workspace's labels, masks and feedback log as a data set"
    static let discussion = """
    Every usable image whose label the workspace knows — the data set's outside the pool, the
    experts' inside it — with its mask (the expert's latest correction, else the data set's
    mask outside the pool), and feedback.csv (every verdict, reverted ones marked). Files are
    named after their source path with '/' replaced by '_'.

    Formats:
      folders  DIR/ok/, DIR/nok/, DIR/masks/NAME.png
      mvtec    DIR/train/good, DIR/test/good, DIR/test/defect, DIR/ground_truth/defect/NAME_mask.png
      csv      DIR/images/, DIR/masks/, DIR/labels.csv (file,source,label,split,mask)
    """

    static let out = Option<String>(name: "--out", placeholder: "DIR", help: "where to write", format: .text)
    static let format = Option<Workspace.ExportFormat>(name: "--format", placeholder: "NAME", help: "the layout written",
                                                       format: .choice, default: .folders)
    static let force = Flag(name: "--force", help: "write into DIR even if it already holds files")
    static let parameters: [any Parameter] = [Positional.workspace, out, format, force]

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let out = try arguments[Self.out]
        let format = try arguments[Self.format]
        if BinaryFile.exists(out), !((try? BinaryFile.entries(of: out)) ?? []).isEmpty, !arguments[force] {
            throw RuntimeFailure("\(out): already holds files; pass --force to write into it")
        }
        do {
            let workspace = try Workspace(opening: path)
            let summary = try workspace.export(to: out, format: format)
            print("Exported \(summary.images) labelled images, \(summary.masks) masks and \(summary.feedback) feedback events to \(out) (\(format.rawValue))")
        } catch {
            throw RuntimeFailure(error)
        }
    }
}
