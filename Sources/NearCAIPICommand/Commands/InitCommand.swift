import Foundation
import NearCAIPI
import NeuralNet

/// `nearcaipi init`: a workspace over a data set.
enum InitCommand: Command {
    static let name = "init"
    static let summary = "create a workspace (image index, splits, settings) over a data set"
    static let help = """
    Usage: nearcaipi init WORKSPACE --data DIR [--layout auto|mvtec|folders] [--ok NAMES] [--nok NAMES]
                          [--split TRAIN,VAL,TEST,POOL] [--initial-train N] [--arch NAME] [--input N]
                          [--seed N]

    Indexes every image of the data set (which is only read, never written) into
    WORKSPACE/workspace.sqlite: path, content hash, truth label and mask, and a seeded split
    stratified by class into train / validation / test / pool. The pool's labels are hidden
    from the engine until someone gives them. Files that cannot be decoded are reported by
    name, kept in the index as unusable, and skipped. Nothing is written unless the whole
    workspace could be built.

    Layouts:
      folders  OK images in folders named ok/good, NOK in nok/defect/def (or --ok / --nok:
               repeatable, comma-separated names), found up to two levels down; masks in masks/ with the
               same base name, beside the image as NAME_mask.png, or NAME.png beside NAME.jpg
      mvtec    MVTec AD: train/good and test/good are OK, test/<defect>/ NOK, masks in
               ground_truth/<defect>/NNN_mask.png
      auto     mvtec when train/good or ground_truth exists, else folders (default)

    Options:
      --split F,F,F,F     train, validation, test, pool fractions summing to 1
                          (default 0.3,0.1,0.2,0.4)
      --initial-train N   exactly N training images (stratified); the others split by the
                          remaining fractions (the paper: 211 casting, 135 welding)
      --arch NAME         resnet18-w4 (default) or resnet18, recorded for training
      --input N           model input side, 32-512 (default 128; resnet18: 224)
      --seed N            split seed (default 1)
    """
    static let options: Set<String> = ["--data", "--layout", "--ok", "--nok", "--split", "--initial-train", "--arch", "--input", "--seed"]
    static let flags: Set<String> = []

    static func run(_ arguments: Arguments) throws {
        let workspace = try arguments.positionals(exactly: ["the workspace folder WORKSPACE"])[0]
        let data = try arguments.requiredString("--data")
        var options = WorkspaceOptions()
        options.layout = try arguments.choice("--layout", default: WorkspaceOptions.Layout.auto)
        if let names = arguments.string("--ok") { options.okFolders = names.split(separator: ",").map(String.init) }
        if let names = arguments.string("--nok") { options.nokFolders = names.split(separator: ",").map(String.init) }
        if let text = arguments.string("--split") {
            let parts = text.split(separator: ",").map { Double($0) }
            guard parts.count == 4, parts.allSatisfy({ $0 != nil && $0! >= 0 }), abs(parts.map { $0! }.reduce(0, +) - 1) < 1e-6 else {
                throw UsageError("option '--split' needs four non-negative fractions summing to 1, e.g. 0.3,0.1,0.2,0.4; got '\(text)'")
            }
            options.split = parts.map { $0! }
        }
        if arguments.string("--initial-train") != nil {
            options.initialTrain = try arguments.integer("--initial-train", default: 0, in: 1...1_000_000)
        }
        options.architecture = arguments.string("--arch") ?? "resnet18-w4"
        guard ["resnet18-w4", "resnet18"].contains(options.architecture) else {
            throw UsageError("option '--arch' must be resnet18-w4 or resnet18; got '\(options.architecture)'")
        }
        options.inputSize = try arguments.integer("--input", default: options.architecture == "resnet18" ? 224 : 128, in: 32...512)
        options.seed = try arguments.unsigned("--seed", default: 1)

        let summary: WorkspaceSummary
        let opened: Workspace
        do {
            (opened, summary) = try Workspace.create(at: workspace, dataRoot: data, options: options) { problem in
                printError("nearcaipi init: \(problem) (skipped)")
            }
        } catch {
            throw RuntimeFailure(error)
        }
        print("Created workspace \(workspace) over \(data) (\(summary.layout) layout): \(summary.items) images, \(summary.unusable.count) skipped as unreadable")
        try StatusCommand.printStatus(opened)
    }
}
