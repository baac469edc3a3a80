import FileAccess
import NearCAIPI

/// `nearcaipi export`: labels, masks and the feedback log out of a workspace.
enum ExportCommand: Command {
    static let name = "export"
    static let summary = "write a workspace's labels, masks and feedback log as a data set"
    static let help = """
    Usage: nearcaipi export WORKSPACE --out DIR [--format folders|mvtec|csv] [--force]

    Every usable image whose label the workspace knows — the data set's outside the pool, the
    experts' inside it — with its mask (the expert's latest correction, else the data set's
    mask outside the pool), and feedback.csv (every verdict, reverted ones marked). Files are
    named after their source path with '/' replaced by '_'.

    Formats:
      folders  DIR/ok/, DIR/nok/, DIR/masks/NAME.png (default)
      mvtec    DIR/train/good, DIR/test/good, DIR/test/defect, DIR/ground_truth/defect/NAME_mask.png
      csv      DIR/images/, DIR/masks/, DIR/labels.csv (file,source,label,split,mask)
    """
    static let options: Set<String> = ["--out", "--format"]
    static let flags: Set<String> = ["--force"]

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals(exactly: ["the workspace folder WORKSPACE"])[0]
        let out = try arguments.requiredString("--out")
        let format = try arguments.choice("--format", default: Workspace.ExportFormat.folders)
        if BinaryFile.exists(out), !((try? BinaryFile.entries(of: out)) ?? []).isEmpty, !arguments.flag("--force") {
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
