import Foundation
import NearCAIPI
import NeuralNet

/// `nearcaipi init`: a workspace over a data set.
enum InitCommand: Command {
    static let name = "init"
    static let summary = "create a workspace (image index, splits, settings) over a data set"
    static let discussion = """
    Indexes every image of the data set (which is only read, never written) into
    WORKSPACE/workspace.sqlite: path, content hash, truth label and mask, and a seeded split
    stratified by class into train / validation / test / pool. The pool's labels are hidden
    from the engine until someone gives them. Files that cannot be decoded are reported by
    name, kept in the index as unusable, and skipped. Odd images, judged against the data
    set's own typical image — a side under 16 px, one grey level, pure noise, 16 times more
    or fewer pixels, twice as wide or narrow — are listed and set aside in the pool, whatever
    their folder says: they train only once a person has labelled them. Nothing is written
    unless the whole workspace could be built.

    Layouts:
      folders  OK images in folders named ok/good, NOK in nok/defect/def (or --ok / --nok:
               repeatable, comma-separated names), found up to two levels down; masks in masks/ with the
               same base name, beside the image as NAME_mask.png, or NAME.png beside NAME.jpg
      mvtec    MVTec AD: train/good and test/good are OK, test/<defect>/ NOK, masks in
               ground_truth/<defect>/NNN_mask.png
      auto     mvtec when train/good or ground_truth exists, else folders
    """

    static let data = Option<String>(name: "--data", placeholder: "DIR", help: "the data set folder (read only)", format: .text)
    static let split = Option<[Double]>(
        name: "--split", placeholder: "F,F,F,F", help: "train, validation, test, pool fractions summing to 1",
        format: ValueFormat(describe: { $0.map { written($0) }.joined(separator: ",") }) { (text) throws(Refusal) in
            let parts = text.split(separator: ",").map { Double($0) }
            guard parts.count == 4, parts.allSatisfy({ $0 != nil && $0! >= 0 }), abs(parts.map { $0! }.reduce(0, +) - 1) < 1e-6 else {
                throw Refusal("needs four non-negative fractions summing to 1, e.g. 0.3,0.1,0.2,0.4; got '\(text)'")
            }
            return parts.map { $0! }
        },
        default: WorkspaceOptions().split)
    static let initialTrain = Option<Int?>(
        name: "--initial-train", placeholder: "N",
        help: "exactly N training images (stratified); the others split by the remaining fractions",
        format: .wholeNumber(in: 1...1_000_000), note: "the paper: 211 casting, 135 welding")
    static let validationCount = Option<Int?>(
        name: "--validation", placeholder: "N", help: "exactly N validation images (stratified); the others split by the remaining fractions",
        format: .wholeNumber(in: 1...1_000_000), note: "a small labelled validation set, as an active-learning budget has")
    static let architecture = Option<String>(name: "--arch", placeholder: "NAME", help: "the model, recorded for training",
                                             format: .oneOf(Architecture.allCases.map(\.rawValue)), default: WorkspaceOptions().architecture)
    /// Its default depends on --arch: resnet18 is made for 224 pixels.
    static let input = Option<Int?>(name: "--input", placeholder: "N", help: "model input side", format: .wholeNumber(in: 32...512),
                                    defaultDescription: "128; resnet18: 224")
    static let seed = Option<UInt64>(name: "--seed", placeholder: "N", help: "split seed", format: .nonNegativeWholeNumber,
                                     default: WorkspaceOptions().seed)
    static let pretrain = Flag(name: "--pretrain",
                               help: "then pretrain the network on the workspace's unlabelled images ('nearcaipi pretrain', default options)")
    static let parameters: [any Parameter] = [Positional.workspace, data, SharedParameters.layout, SharedParameters.okFolders,
                                              SharedParameters.nokFolders, split, initialTrain, validationCount, architecture, input, seed, pretrain]

    static func run(_ arguments: Arguments) throws {
        let workspace = try arguments.positionals([Positional.workspace])[0]
        let data = try arguments[Self.data]
        var options = WorkspaceOptions()
        options.layout = try arguments[SharedParameters.layout]
        options.okFolders = try arguments[SharedParameters.okFolders]
        options.nokFolders = try arguments[SharedParameters.nokFolders]
        options.split = try arguments[split]
        options.initialTrain = try arguments[initialTrain]
        options.validationCount = try arguments[validationCount]
        options.architecture = try arguments[architecture]
        options.inputSize = try arguments[input] ?? Architecture(rawValue: options.architecture)!.defaultInputSize
        options.seed = try arguments[seed]

        let summary: WorkspaceSummary
        let opened: Workspace
        do {
            (opened, summary) = try Workspace.create(at: workspace, dataRoot: data, options: options) { problem in
                printError("nearcaipi init: \(problem) (skipped)")
            }
        } catch {
            throw RuntimeFailure(error)
        }
        print("Created workspace \(workspace) over \(data) (\(summary.layout) layout): \(summary.items) images, \(summary.unusable.count) skipped as unreadable"
              + (summary.setAside.isEmpty ? "" : ", \(summary.setAside.count) set aside as odd"))
        if !summary.setAside.isEmpty {
            print("Set aside in the pool (trained on only once a person has labelled them in the screens):")
            for odd in summary.setAside.prefix(20) { print("  \(odd)") }
            if summary.setAside.count > 20 { print("  … and \(summary.setAside.count - 20) more ('nearcaipi status' lists them)") }
        }
        try StatusCommand.printStatus(opened)
        if arguments[pretrain] {
            do {
                let summary = try PretrainCommand.pretrain(opened, options: try opened.suggestedPretrainingOptions(), restart: false)
                if !summary.isFinished {
                    print("pretraining stopped after epoch \(summary.epochsDone) of \(summary.epochs); 'nearcaipi pretrain \(workspace)' resumes it")
                    exit(130)
                }
            } catch {
                throw RuntimeFailure(error)
            }
        }
    }
}
