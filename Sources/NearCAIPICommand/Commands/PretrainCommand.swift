import FileAccess
import NearCAIPI
import NeuralNet
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT / SIGTERM while pretraining: stop after the batch, keep the epochs done.
nonisolated(unsafe) private var stopRequested: Int32 = 0

/// `nearcaipi pretrain`: self-supervised pretraining of a workspace's network on its own
/// unlabelled images, before the first label.
enum PretrainCommand: Command {
    static let name = "pretrain"
    static let summary = "teach the network the workspace's parts from its unlabelled images, before the first round"
    static let discussion = """
    Trains the workspace's network without labels on every usable image outside the test
    split (pool, training and validation images; the test split stays unseen), SimCLR-style:
    two randomly cropped, flipped and brightened views of each image are pulled together and
    pushed away from the other images' (NT-Xent). The result is round 0, a backbone that
    tells the parts apart: every round trained from scratch, the first one included, starts
    from it, and so do the embeddings its near hits and misses are found in. Nothing read is
    a label.

    It learns what makes one part look unlike another; where that is the defect, the first
    rounds gain, where it is the part's position, lighting or tone and the defects are a few
    pixels, they do not — Docs/Pretraining.md has the measurements ('nearcaipi
    eval-neighbours' checks a workspace's own).

    The state is saved after every epoch; an interrupted run (Ctrl-C, a crash) resumes where
    it stopped when the command is run again, unless --restart. Progress, with the time left,
    goes to standard error.
    """

    static let epochs = Option<Int>(name: "--epochs", placeholder: "N", help: "passes over the images",
                                    format: .wholeNumber(in: 1...10_000), default: PretrainingOptions().epochs,
                                    note: "about 4 s per epoch for 1 000 images at 128 px on 2 cores")
    static let batch = Option<Int>(name: "--batch", placeholder: "N", help: "images per batch (each gives two views)",
                                   format: .wholeNumber(in: 2...512), default: PretrainingOptions().batchSize)
    static let temperature = Option<Float>(name: "--temperature", placeholder: "T", help: "τ of the contrastive loss",
                                           format: .number(.strictlyBetween(0, 10)), default: PretrainingOptions().temperature)
    static let seed = Option<UInt64>(name: "--seed", placeholder: "N", help: "seed of the initial weights and the views",
                                     format: .nonNegativeWholeNumber, default: 1)
    static let method = Option<PretrainingMethod>(
        name: "--method", placeholder: "NAME", help: "how two views are made to agree: NT-Xent against the other images, or a predictor without negatives",
        format: ValueFormat(allowed: .choices(PretrainingMethod.allCases.map(\.rawValue)), describe: { $0.rawValue }) { (text) throws(Refusal) in
            guard let method = PretrainingMethod(rawValue: text) else { throw Refusal("takes simclr or simsiam; got '\(text)'") }
            return method
        },
        default: PretrainingOptions().method)
    static let crop = Option<Float>(name: "--min-crop", placeholder: "A", help: "smallest share of the image a view keeps",
                                    format: .number(.between(0.05, 1)), default: PretrainingOptions().minimumCropArea)
    static let restart = Flag(name: "--restart", help: "start again from random weights instead of resuming")
    static let parameters: [any Parameter] = [Positional.workspace, epochs, batch, temperature, method, crop, seed, restart]

    static func options(_ arguments: Arguments) throws -> PretrainingOptions {
        var options = PretrainingOptions()
        options.epochs = try arguments[epochs]
        options.batchSize = try arguments[batch]
        options.temperature = try arguments[temperature]
        options.seed = try arguments[seed]
        options.method = try arguments[method]
        options.minimumCropArea = try arguments[crop]
        return options
    }

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let options = try options(arguments)
        let summary: PretrainingSummary
        do {
            summary = try pretrain(try Workspace(opening: path), options: options, restart: arguments[restart])
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
        for number in [SIGINT, SIGTERM] { signal(number) { stopRequested = $0 } }
        defer { for number in [SIGINT, SIGTERM] { signal(number, SIG_DFL) } }
        let images = try workspace.pretrainingItems().count
        printError("nearcaipi pretrain: \(images) images, \(options.epochs) epochs ("
                   + (options.method == .simclr ? "SimCLR, batch \(options.batchSize), τ \(options.temperature))" : "SimSiam, batch \(options.batchSize))"))
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
}
