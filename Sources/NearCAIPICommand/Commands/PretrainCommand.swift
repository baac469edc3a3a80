import FileAccess
import Imaging
import NearCAIPI
import NeuralNet
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT / SIGTERM while pretraining: stop after the batch, keep the epochs done.
nonisolated(unsafe) private var stopRequested: Int32 = 0

/// `nearcaipi pretrain`: pretraining of a workspace's network, without labels, on its own
/// unlabelled images, before the first label.
enum PretrainCommand: Command {
    static let name = "pretrain"
    static let summary = "teach the network the workspace's parts from its unlabelled images, before the first round"
    static let discussion = """
    Trains the workspace's network without labels on every usable image outside the test
    split (pool, training and validation images; the test split stays unseen). Nothing read
    is a label. The result is round 0: every round trained from scratch, the first one
    included, starts from it, and so do the embeddings its near hits and misses are found in.

    --method defects: each image is shown as it is or with synthetic defects drawn on it —
    a patch of another part, a thin scar, an irregular blob of foreign texture or changed
    brightness; with --warps on also a warp, the part's own outline moved — and the whole
    network, its OK / NOK output included, learns to tell which. Parts it already calls
    defective are shown only with defects drawn on (a plant's pool holds defective parts).
    Round 0 then gives every part an anomaly score before any label — how far its patches lie
    from their nearest match on the other parts, how much of the others it lacks (a missing
    bead), and what is left of it under its most alike parts laid over it whole (a dent):
    'status' ranks the pool by it, 'eval-detection' measures it. --show N
    --out DIR writes examples of the synthetic defects with their masks outlined, to judge
    them (--kind NAME: of one kind only).

    --method simclr / simsiam: two randomly cropped, flipped and brightened views of each
    image are pulled together (SimCLR: and pushed away from the other images'). It learns
    what makes one part look unlike another; where that is not the defect, the first rounds
    do not gain — Docs/Pretraining.md has the measurements.

    The state is saved after every epoch; an interrupted run (Ctrl-C, a crash) resumes where
    it stopped when the command is run again, unless --restart. Progress, with the time left,
    goes to standard error.
    """

    static let epochs = Option<Int?>(name: "--epochs", placeholder: "N", help: "passes over the images",
                                     format: .wholeNumber(in: 1...10_000),
                                     defaultDescription: "defects: about 3 000 batches, 30-1000 epochs; simclr, simsiam: 60",
                                     note: "about 2 s (defects) or 4 s (simclr) per epoch for 1 000 images at 128 px on 2 cores")
    static let batch = Option<Int>(name: "--batch", placeholder: "N", help: "images per batch (each gives two views)",
                                   format: .wholeNumber(in: 2...512), default: PretrainingOptions().batchSize)
    static let temperature = Option<Float>(name: "--temperature", placeholder: "T", help: "τ of the contrastive loss",
                                           format: .number(.strictlyBetween(0, 10)), default: PretrainingOptions().temperature)
    static let seed = Option<UInt64>(name: "--seed", placeholder: "N", help: "seed of the initial weights and the views",
                                     format: .nonNegativeWholeNumber, default: 1)
    /// The methods by name; shared with `simulate --pretrain-method`.
    static let methodFormat = ValueFormat<PretrainingMethod>(allowed: .choices(PretrainingMethod.allCases.map(\.rawValue)),
                                                              describe: { $0.rawValue }) { (text) throws(Refusal) in
        guard let method = PretrainingMethod(rawValue: text) else {
            throw Refusal("takes \(PretrainingMethod.allCases.map(\.rawValue).joined(separator: ", ")); got '\(text)'")
        }
        return method
    }
    static let method = Option<PretrainingMethod>(
        name: "--method", placeholder: "NAME",
        help: "defects: tell each part from itself with synthetic defects drawn on it; simclr: NT-Xent between two views; "
            + "simsiam: a predictor between two views, no negatives",
        format: methodFormat, default: Workspace.defaultPretrainingMethod)
    static let crop = Option<Float>(name: "--min-crop", placeholder: "A", help: "smallest share of the image a view keeps",
                                    format: .number(.between(0.05, 1)), default: PretrainingOptions().minimumCropArea)
    static let defectMap = Option<TrainCommand.Switch>(
        name: "--defect-map", placeholder: "on|off",
        help: "defects: also train a dense head that maps where the synthetic defects are (eval-detection gives its pixel AUROC)",
        format: .choice, default: .off, note: "off: it measured below the image output alone so far (Docs/Pretraining.md)")
    static let mapWeight = Option<Float>(name: "--map-weight", placeholder: "λ", help: "with --defect-map on: the weight of the map's loss beside the image's",
                                         format: .number(.strictlyBetween(0, 100)), default: PretrainingOptions().mapLossWeight)
    static let suspects = Option<TrainCommand.Switch>(
        name: "--suspects", placeholder: "on|off",
        help: "defects: show parts the network already calls defective only with synthetic defects, so real defects in the pool "
            + "are not learnt as normal", format: .choice, default: .on)
    static let warps = Option<TrainCommand.Switch>(
        name: "--warps", placeholder: "on|off",
        help: "defects: also draw warps — the part's own outline moved (dents, kinks, bent edges)", format: .choice, default: .off)
    static let restart = Flag(name: "--restart", help: "start again from random weights instead of resuming")
    static let show = Option<Int?>(name: "--show", placeholder: "N",
                                   help: "do not train: write N examples of synthetic defects on the workspace's parts to --out",
                                   format: .wholeNumber(in: 1...1000))
    static let out = Option<String?>(name: "--out", placeholder: "DIR", help: "with --show: the folder for the examples", format: .text)
    static let kind = Option<String?>(name: "--kind", placeholder: "NAME", help: "with --show: draw only this kind of synthetic defect",
                                      format: .oneOf(SyntheticDefects.Kind.allCases.map(\.rawValue)), defaultDescription: "every kind")
    static let parameters: [any Parameter] = [Positional.workspace, epochs, batch, temperature, method, crop, defectMap, mapWeight,
                                              suspects, warps, seed, restart, show, out, kind]

    /// Options that belong to another method, or to an option not given: usage errors, found
    /// before anything is opened.
    static func checkCombinations(_ arguments: Arguments) throws {
        let method = try arguments[method]
        for option in [temperature as any Parameter, crop] where method == .defects && arguments.isGiven(option) {
            throw UsageError("option '\(option.kind.name!)' belongs to the contrastive methods (simclr, simsiam), not to defects")
        }
        for option in [defectMap as any Parameter, suspects, warps] where method != .defects && arguments.isGiven(option) {
            throw UsageError("option '\(option.kind.name!)' belongs to the defects method")
        }
        if try arguments[defectMap] == .off, arguments.isGiven(mapWeight) {
            throw UsageError("option '--map-weight' needs '--defect-map on'")
        }
        let examples = try arguments[show], folder = try arguments[out]
        if examples != nil, folder == nil { throw UsageError("option '--show' needs '--out DIR'") }
        if examples == nil, folder != nil { throw UsageError("option '--out' goes with '--show'") }
        if examples == nil, arguments.isGiven(kind) { throw UsageError("option '--kind' goes with '--show'") }
    }

    /// The options the command line gives, with the workspace's suggestion where it says nothing.
    static func options(_ arguments: Arguments, for workspace: Workspace) throws -> PretrainingOptions {
        let method = try arguments[method]
        var options = try workspace.suggestedPretrainingOptions(method: method)
        if let epochs = try arguments[epochs] { options.epochs = epochs }
        options.batchSize = try arguments[batch]
        options.temperature = try arguments[temperature]
        options.seed = try arguments[seed]
        options.minimumCropArea = try arguments[crop]
        options.defectMap = try arguments[defectMap] == .on
        options.mapLossWeight = try arguments[mapWeight]
        options.setsSuspectsAside = try arguments[suspects] == .on
        options.syntheticWarps = try arguments[warps] == .on
        return options
    }

    /// What the run is, for its first line.
    static func describe(_ options: PretrainingOptions) -> String {
        switch options.method {
        case .defects: "synthetic defects, batch \(options.batchSize)"
        case .simclr: "SimCLR, batch \(options.batchSize), τ \(options.temperature)"
        case .simsiam: "SimSiam, batch \(options.batchSize)"
        }
    }

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        try checkCombinations(arguments)
        let examples = try arguments[show], folder = try arguments[out]
        let workspace: Workspace
        do { workspace = try Workspace(opening: path) } catch { throw RuntimeFailure(error) }
        do { try workspace.refuseIfReadOnly() } catch { throw RuntimeFailure(error) }
        if let examples, let folder {
            try writeExamples(of: workspace, count: examples, seed: try arguments[seed], warps: try arguments[warps] == .on,
                              kind: try arguments[kind].flatMap(SyntheticDefects.Kind.init(rawValue:)), to: folder)
            return
        }
        let options = try options(arguments, for: workspace)
        let summary: PretrainingSummary
        do {
            summary = try pretrain(workspace, options: options, restart: arguments[restart])
        } catch {
            throw RuntimeFailure(error)
        }
        if !summary.isFinished {
            print("pretraining stopped after epoch \(summary.epochsDone) of \(summary.epochs); "
                  + "'nearcaipi pretrain \(path)' resumes it")
            exit(130)
        }
    }

    /// Runs pretraining on `workspace` with a progress line on standard error; Ctrl-C stops
    /// it after the current batch (the epochs done are kept). Shared with `init --pretrain`.
    static func pretrain(_ workspace: Workspace, options: PretrainingOptions, restart: Bool) throws -> PretrainingSummary {
        stopRequested = 0
        catchStopSignals { stopRequested = $0 }
        defer { releaseStopSignals() }
        let images = try workspace.pretrainingItems().count
        printError("nearcaipi pretrain: \(images) images, \(options.epochs) epochs (\(describe(options)))")
        let start = monotonicSeconds()
        let terminal = isatty(STDERR_FILENO) == 1
        var firstEpoch: Int?, batchesDone = 0, lastLine = 0.0
        let summary = try workspace.pretrain(options: options, restart: restart) { progress in
            if firstEpoch == nil {
                firstEpoch = progress.epoch
                if progress.epoch > 1 { printError("resuming after epoch \(progress.epoch - 1)") }
            }
            batchesDone += 1
            let total = (options.epochs - firstEpoch! + 1) * progress.batchesPerEpoch
            let elapsed = monotonicSeconds() - start
            let left = elapsed / Double(batchesDone) * Double(total - batchesDone)
            let endOfEpoch = progress.batch == progress.batchesPerEpoch
            if terminal ? (monotonicSeconds() - lastLine > 0.5 || endOfEpoch) : endOfEpoch {
                lastLine = monotonicSeconds()
                let line = String(format: "[%@] epoch %d/%d  loss %.4f  %@ left", progressBar(progress.epoch, of: progress.epochs),
                                  progress.epoch, progress.epochs, progress.loss, readableDuration(left))
                if terminal {
                    BinaryFile.writeAll(Array(("\r" + line + "\u{1B}[K" + (endOfEpoch && progress.epoch == progress.epochs ? "\n" : "")).utf8),
                                        to: STDERR_FILENO)
                } else {
                    printError(line)
                }
            }
            return stopRequested == 0
        }
        if terminal && !summary.isFinished { printError("") }
        let last = summary.losses.last.map { String(format: "%.4f", $0) } ?? "–"
        print(String(format: "pretrained %d of %d epochs on %d images in %@ (final loss %@)%@", summary.epochsDone, summary.epochs,
                     summary.images, readableDuration(summary.seconds), last,
                     summary.isFinished ? "; round 0 is the backbone the first round trains from" : ""))
        return summary
    }

    /// Writes each example as one picture — the part, the part with its synthetic defects, and
    /// the same with the changed pixels outlined — at twice the model's input size, named
    /// after the part it was drawn on.
    static func writeExamples(of workspace: Workspace, count: Int, seed: UInt64, warps: Bool, kind: SyntheticDefects.Kind?,
                              to folder: String) throws {
        do {
            try BinaryFile.createDirectory(folder)
            let examples = try workspace.syntheticDefectExamples(count: count, seed: seed, warps: warps, kind: kind)
            for (index, example) in examples.enumerated() {
                let original = example.original.rgb(), drawn = example.defect.image.rgb()
                var outlined = drawn
                let mask = example.defect.mask, edge = mask.dilated(radius: 1)
                for y in 0..<mask.height {
                    for x in 0..<mask.width where edge[y, x] && !mask[y, x] {
                        outlined[0, y, x] = 1
                        outlined[1, y, x] = 0.1
                        outlined[2, y, x] = 0.1
                    }
                }
                let (w, h) = (original.width, original.height)
                var sheet = Image(width: 3 * w + 8, height: h, channels: 3, filledWith: 1)
                sheet.paste(original, atX: 0, y: 0)
                sheet.paste(drawn, atX: w + 4, y: 0)
                sheet.paste(outlined, atX: 2 * w + 8, y: 0)
                sheet = sheet.resized(width: sheet.width * 2, height: sheet.height * 2)
                // The file name alone: a data set's class folders would tell the answer.
                let base = (example.path.split(separator: "/").last ?? "").split(separator: ".").dropLast().joined(separator: ".")
                let name = String(format: "%03d-%@-%@.png", index + 1, base,
                                  example.defect.kinds.map(\.rawValue).joined(separator: "+").isEmpty ? "none"
                                      : example.defect.kinds.map(\.rawValue).joined(separator: "+"))
                try ImageFile.writePNG(sheet, to: "\(folder)/\(name)")
                print("\(folder)/\(name): \(example.defect.mask.area) changed pixels (\(example.defect.kinds.map(\.rawValue).joined(separator: ", ")))")
            }
        } catch {
            throw RuntimeFailure(error)
        }
    }
}
