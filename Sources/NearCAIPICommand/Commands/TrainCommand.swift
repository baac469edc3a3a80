import FileAccess
import Imaging
import NearCAIPI
import NeuralNet

/// `nearcaipi train --data`: a checkpoint straight from a class-folder data set.
enum TrainCommand: Command {
    static let name = "train"
    static let summary = "train a workspace's next round, or a checkpoint straight from a class-folder data set"
    static let help = """
    Usage: nearcaipi train WORKSPACE [--epochs N] [--patience N] [--lr X] [--optimizer adam|sgd]
                           [--batch N] [--from-scratch] [--pretrained FILE.safetensors] [--seed N]
           nearcaipi train --data DIR --out CHECKPOINT [--arch NAME] [--size S] [--channels 1|3]
                           [--epochs N] [--batch N] [--optimizer adam|sgd] [--lr X]
                           [--validation F] [--patience N] [--balanced] [--no-augment] [--seed N]
                           [--ok NAMES] [--nok NAMES] [--occlusion on|off]

    With a WORKSPACE: trains on its training split (fine-tuning the active round's weights
    unless --from-scratch; --pretrained loads a backbone such as a converted torchvision
    ResNet-18, keeping a fresh 2-class head), early-stops on the validation split, writes
    WORKSPACE/models/round-NNN.safetensors and records the round with accuracy, F1 and MCC on
    the validation and test splits; it becomes the active round.

    With --data: reads the data set (OK images in folders named ok/good, NOK in nok/defect/def,
    or the names given), splits off a stratified validation part, trains from scratch with early
    stopping on the validation loss (the best epoch's weights are kept) and writes a
    safetensors checkpoint. Progress goes to standard error, one line per epoch.
    Unreadable images are reported by name and skipped.

    Options:
      --data DIR          the data set folder (read only)
      --out CHECKPOINT    the checkpoint file to write
      --arch NAME         resnet18-w4 (default), resnet18-w2, resnet18-w8 or resnet18
      --size S            input side in pixels, 32-512 (default 128; resnet18: 224)
      --channels C        1 (grey) or 3 (RGB); default: what the first image holds
      --epochs N          at most this many epochs, 1-1000 (default 250; the learning rate
                          decays along a cosine over them)
      --batch N           mini-batch size, 1-256 (default 16)
      --optimizer NAME    adam (default) or sgd (momentum 0.9; the paper's setting with --lr 0.001)
      --lr X              learning rate (default 0.0005)
      --validation F      fraction of each class held out for early stopping (default 0.2)
      --patience N        epochs without validation improvement before stopping (default 100;
                          small validation sets need a long patience)
      --balanced          weight the classes inversely to their frequency
      --no-augment        no flips, shifts or brightness/contrast changes (nor occlusion)
      --occlusion on|off  OK training parts with random regions swapped in from other OK parts,
                          so that a masked part is not a defect by itself and heatmaps point at
                          defects (default \(OcclusionAugmentation.standard ? "on" : "off"); with a
                          WORKSPACE the choice is stored for its later rounds)
      --seed N            seed of initial weights, split, shuffling and augmentation (default 1)
      --ok NAMES, --nok NAMES  comma-separated class folder names
    """
    static let options: Set<String> = ["--data", "--out", "--arch", "--size", "--channels", "--epochs", "--batch",
                                       "--optimizer", "--lr", "--validation", "--patience", "--seed", "--ok", "--nok",
                                       "--pretrained", "--occlusion"]
    static let flags: Set<String> = ["--balanced", "--no-augment", "--from-scratch"]

    enum Optimizer: String, CaseIterable { case adam, sgd }
    enum Switch: String, CaseIterable { case on, off }

    static func run(_ arguments: Arguments) throws {
        if !arguments.positionals.isEmpty {
            try trainWorkspace(arguments)
            return
        }
        let data = try arguments.requiredString("--data")
        let out = try arguments.requiredString("--out")
        let architecture = arguments.string("--arch") ?? "resnet18-w4"
        guard ResNetConfiguration.named(architecture, inputChannels: 3, inputSize: 128, classCount: 2) != nil else {
            throw UsageError("option '--arch' must be resnet18-w4, resnet18-w2, resnet18-w8 or resnet18; got '\(architecture)'")
        }
        let size = try arguments.integer("--size", default: architecture == "resnet18" ? 224 : 128, in: 32...512)
        let options = try trainingOptions(arguments)
        guard let validationShare = Double(arguments.string("--validation") ?? "0.2"), validationShare > 0, validationShare < 1 else {
            throw UsageError("option '--validation' must be a fraction between 0 and 1 (exclusive)")
        }
        let seed = options.seed
        var channels: Int? = nil
        if let text = arguments.string("--channels") {
            guard text == "1" || text == "3" else { throw UsageError("option '--channels' must be 1 or 3, got '\(text)'") }
            channels = Int(text)
        }

        var dataset = try openDataset(data, arguments)
        let inputChannels = try channels ?? firstImageChannels(dataset)
        let loaded = dataset.load(size: size, channels: inputChannels)
        for problem in dataset.problems { printError("nearcaipi train: \(problem) (skipped)") }
        let labels = loaded.map(\.item.label.classIndex)
        guard Set(labels).count == 2 else { throw RuntimeFailure("\(data): needs readable OK and NOK images, found \(labels.count) image(s) of \(Set(labels).count) class(es)") }
        let (validationIndices, trainingIndices) = StratifiedSplit.split(labels: labels, fraction: validationShare, seed: seed)

        let configuration = ResNetConfiguration.named(architecture, inputChannels: inputChannels, inputSize: size, classCount: 2)!
        printError("nearcaipi train: \(architecture) at \(size)x\(size)x\(inputChannels), \(trainingIndices.count) training and \(validationIndices.count) validation images")
        let start = monotonicSeconds()
        let (model, info, report) = SupervisedTraining.train(
            configuration: configuration,
            training: trainingIndices.map { (loaded[$0].image, labels[$0]) },
            validation: validationIndices.map { (loaded[$0].image, labels[$0]) },
            options: options, classNames: ClassFolderDataset.classNames,
            occlusion: try arguments.choice("--occlusion", default: OcclusionAugmentation.standard ? Switch.on : .off) == .on) { progress in
                reportEpoch(progress, of: options.epochs)
                return true
            }
        do { try Checkpoint.save(model, info: info, to: out) } catch { throw RuntimeFailure(error) }
        let best = report.history[report.bestEpoch - 1]
        print(String(format: "best epoch %d of %d%@: validation loss %.4f, accuracy %.3f; %.0f s; checkpoint %@",
                     report.bestEpoch, report.epochsRun, report.stoppedEarly ? " (stopped early)" : "",
                     best.validationLoss ?? 0, best.validationAccuracy ?? 0, monotonicSeconds() - start, out))
    }

    static func trainingOptions(_ arguments: Arguments) throws -> TrainingOptions {
        var options = TrainingOptions()
        guard let rate = Float(arguments.string("--lr") ?? "0.0005"), rate > 0, rate < 10 else {
            throw UsageError("option '--lr' must be a positive number below 10")
        }
        let optimizer = try arguments.choice("--optimizer", default: Optimizer.adam)
        options.method = optimizer == .adam ? .adam(learningRate: rate) : .sgd(learningRate: rate, momentum: 0.9)
        options.epochs = try arguments.integer("--epochs", default: 250, in: 1...1000)
        options.batchSize = try arguments.integer("--batch", default: 16, in: 1...256)
        options.patience = try arguments.integer("--patience", default: 100, in: 1...1000)
        options.classWeighting = arguments.flag("--balanced") ? .balanced : .none
        options.augment = !arguments.flag("--no-augment")
        options.seed = try arguments.unsigned("--seed", default: 1)
        return options
    }

    /// One line per epoch with a bar of the epochs done, on standard error.
    static func reportEpoch(_ progress: TrainingProgress, of epochs: Int) {
        guard let validationLoss = progress.validationLoss, let validationAccuracy = progress.validationAccuracy else { return }
        let done = min(20, progress.epoch * 20 / max(epochs, 1))
        let bar = String(repeating: "#", count: done) + String(repeating: ".", count: 20 - done)
        printError(String(format: "[%@] epoch %3d  loss %.4f  accuracy %.3f  validation loss %.4f  accuracy %.3f",
                          bar, progress.epoch, progress.loss, progress.accuracy, validationLoss, validationAccuracy))
    }

    static func trainWorkspace(_ arguments: Arguments) throws {
        let path = try arguments.positionals(exactly: ["the workspace folder WORKSPACE"])[0]
        for option in ["--data", "--out", "--arch", "--size", "--channels", "--validation", "--ok", "--nok"] where arguments.string(option) != nil {
            throw UsageError("option '\(option)' belongs to 'train --data'; a workspace has its own data and settings")
        }
        let options = try trainingOptions(arguments)
        let pretrained = arguments.string("--pretrained")
        do {
            let workspace = try Workspace(opening: path)
            if let occlusion = arguments.string("--occlusion") {
                guard let choice = Switch(rawValue: occlusion) else { throw UsageError("option '--occlusion' must be on or off, got '\(occlusion)'") }
                try workspace.setOcclusionTraining(choice == .on)
            }
            let (round, metrics) = try workspace.trainRound(options: options, fromScratch: arguments.flag("--from-scratch"),
                                                            pretrained: pretrained) { progress in
                reportEpoch(progress, of: options.epochs)
                return true
            }
            print(String(format: "round %d: %@, %d training images, best epoch %d of %d, %.0f s",
                         round.number, round.checkpoint, round.trainingSize, metrics.bestEpoch, metrics.epochs, metrics.seconds))
            print(String(format: "  validation: accuracy %.3f  F1 %.3f  MCC %.3f  (%d images)", metrics.validation.accuracy,
                         metrics.validation.f1, metrics.validation.mcc, metrics.validation.count))
            print(String(format: "  test:       accuracy %.3f  F1 %.3f  MCC %.3f  (%d images)", metrics.test.accuracy,
                         metrics.test.f1, metrics.test.mcc, metrics.test.count))
            // The new round's pool predictions, cached now so the screens open at once.
            let caching = monotonicSeconds()
            let pool = try PoolModel(workspace: workspace)
            printError(String(format: "pool predictions cached for the screens: %d items, %.1f s",
                              pool.predictions.count, monotonicSeconds() - caching))
        } catch let error as UsageError {
            throw error
        } catch {
            throw RuntimeFailure(error)
        }
    }

    /// The data set at `data` with the class folder names of `--ok` / `--nok`, in `layout`.
    static func openDataset(_ data: String, _ arguments: Arguments,
                            layout: WorkspaceOptions.Layout = .folders) throws -> ClassFolderDataset {
        let names = { (option: String, fallback: [String]) in
            arguments.string(option).map { $0.split(separator: ",").map(String.init) } ?? fallback
        }
        do {
            return try ClassFolderDataset.open(data, layout: layout, okFolders: names("--ok", ["ok", "good"]),
                                               nokFolders: names("--nok", ["nok", "defect", "def"]))
        } catch let error as WorkspaceError {
            throw RuntimeFailure(error)
        } catch {
            throw RuntimeFailure("\(data): not a readable data set folder")
        }
    }

    static func firstImageChannels(_ dataset: ClassFolderDataset) throws -> Int {
        for item in dataset.items {
            if let decoded = try? ImageFile.read("\(dataset.root)/\(item.path)") { return decoded.image.colorChannels }
        }
        throw RuntimeFailure("\(dataset.root): no readable image in the class folders")
    }
}
