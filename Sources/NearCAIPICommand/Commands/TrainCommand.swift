import FileAccess
import Imaging
import NearCAIPI
import NeuralNet

/// `nearcaipi train --data`: a checkpoint straight from a class-folder data set.
enum TrainCommand: Command {
    static let name = "train"
    static let summary = "train a workspace's next round, or a checkpoint straight from a class-folder data set"
    static let discussion = """
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
    """

    enum Optimizer: String, CaseIterable, Sendable { case adam, sgd }
    enum Switch: String, CaseIterable, Sendable { case on, off }

    static let data = Option<String>(name: "--data", placeholder: "DIR", help: "the data set folder (read only)", format: .text)
    static let out = Option<String>(name: "--out", placeholder: "CHECKPOINT", help: "the checkpoint file to write", format: .text)
    static let architecture = Option<String>(
        name: "--arch", placeholder: "NAME", help: "the model",
        format: .oneOf(Architecture.allCases.map(\.rawValue)), default: Architecture.standard.rawValue)
    /// Its default depends on --arch: resnet18 is made for 224 pixels.
    static let size = Option<Int?>(name: "--size", placeholder: "S", help: "input side in pixels", format: .wholeNumber(in: 32...512),
                                   defaultDescription: "128; resnet18: 224")
    static let channels = Option<Int?>(name: "--channels", placeholder: "C", help: "input colour channels (grey or RGB)", format: .oneOf([1, 3]),
                                       defaultDescription: "what the first image holds")
    static let epochs = Option<Int>(name: "--epochs", placeholder: "N", help: "at most this many epochs",
                                    format: .wholeNumber(in: 1...1000), default: 250,
                                    note: "the learning rate decays along a cosine over them")
    static let batch = Option<Int>(name: "--batch", placeholder: "N", help: "mini-batch size", format: .wholeNumber(in: 1...256),
                                   default: 16)
    static let optimizer = Option<Optimizer>(name: "--optimizer", placeholder: "NAME", help: "how the weights are updated",
                                             format: .choice, default: .adam,
                                             note: "sgd: momentum 0.9, the paper's setting with --lr 0.001")
    static let learningRate = Option<Float>(name: "--lr", placeholder: "X", help: "learning rate",
                                            format: .number(.strictlyBetween(0, 10)), default: 0.0005)
    static let validation = Option<Double>(name: "--validation", placeholder: "F",
                                           help: "fraction of each class held out for early stopping",
                                           format: .number(.fraction), default: 0.2)
    static let patience = Option<Int>(name: "--patience", placeholder: "N", help: "epochs without validation improvement before stopping",
                                      format: .wholeNumber(in: 1...1000), default: 100,
                                      note: "small validation sets need a long patience")
    static let headFirst = Option<Int>(name: "--head-first", placeholder: "N",
                                       help: "train only the output layer for the first N epochs, then the whole network",
                                       format: .wholeNumber(in: 0...1000), default: TrainingOptions.firstRound.headOnlyEpochs,
                                       note: "keeps a pretrained backbone's features while the head learns the classes")
    static let balanced = Flag(name: "--balanced", help: "weight the classes inversely to their frequency")
    static let noAugment = Flag(name: "--no-augment", help: "no flips, shifts or brightness/contrast changes (nor occlusion)")
    static let occlusion = Option<Switch>(
        name: "--occlusion", placeholder: "on|off",
        help: """
        OK training parts with random regions swapped in from other OK parts, so that a masked part is not a defect \
        by itself and heatmaps point at defects
        """,
        format: .choice, default: OcclusionAugmentation.standard ? .on : .off,
        note: "with a WORKSPACE the choice is stored for its later rounds")
    static let maskLoss = Option<Switch>(
        name: "--mask-loss", placeholder: "on|off",
        help: """
        with a WORKSPACE: also train the network's defect map on the defect regions it knows: painted masks, refutations' masks, \
        the data set's masks of the parts it labelled; good parts train it towards an empty map
        """,
        format: .choice, default: Workspace.standardMaskLoss ? .on : .off,
        note: "stored for the workspace's later rounds")
    static let maskWeight = Option<Float>(name: "--mask-weight", placeholder: "λ",
                                         help: "with the mask loss: how much the map's loss counts beside the decision's",
                                         format: .number(.strictlyBetween(0, 100)), default: Workspace.maskLossWeight,
                                         note: "this round only")
    static let rightReasons = Option<Switch>(
        name: "--right-reasons", placeholder: "on|off",
        help: """
        with a WORKSPACE: penalise the classifier's evidence for NOK (its class activation map) outside the defect regions it \
        knows, so that its decisions come from the marked region
        """,
        format: .choice, default: Workspace.standardRightReasons ? .on : .off,
        note: "stored for the workspace's later rounds")
    static let seed = Option<UInt64>(name: "--seed", placeholder: "N", help: "seed of initial weights, split, shuffling and augmentation",
                                     format: .nonNegativeWholeNumber, default: 1)
    static let fromScratch = Flag(name: "--from-scratch", help: "with a WORKSPACE: start from fresh weights, not the active round's")
    static let force = Flag(name: "--force",
                            help: "with a WORKSPACE: make the round active even when it is worse on the validation split than the active one")
    static let pretrained = Option<String?>(name: "--pretrained", placeholder: "FILE.safetensors",
                                            help: "with a WORKSPACE: start from this backbone, keeping a fresh 2-class head",
                                            format: .text)

    static let maxMissed = Option<Double?>(name: "--max-missed", placeholder: "F",
                                           help: "with a WORKSPACE: the share of defective parts the pass threshold may let through",
                                           format: .number(.between(0, 0.5)), defaultDescription: "0.01",
                                           note: "stored for the workspace's later rounds; 0 allowed")
    static let maxRejected = Option<Double?>(name: "--max-rejected", placeholder: "F",
                                             help: "with a WORKSPACE: the share of good parts the reject threshold may set aside",
                                             format: .number(.between(0, 0.5)), defaultDescription: "0.01",
                                             note: "stored for the workspace's later rounds")

    static let answersForValidation = Option<Double?>(name: "--answers-for-validation", placeholder: "F",
                                                      help: "with a WORKSPACE: the share of each class's answered parts kept for "
                                                          + "validation instead of training",
                                                      format: .number(.between(0, 0.5)), defaultDescription: "0.2",
                                                      note: "stored for the workspace's later answers; 0: every answer trains")

    static let parameters: [any Parameter] = [Positional.workspace, data, out, architecture, size, channels, epochs, batch, optimizer,
                                              learningRate, validation, patience, headFirst, balanced, noAugment, occlusion, seed,
                                              SharedParameters.okFolders, SharedParameters.nokFolders, fromScratch, force, pretrained,
                                              maxMissed, maxRejected, answersForValidation, maskLoss, maskWeight, rightReasons]
    /// With a workspace, or straight from a data set; the options that belong to the data set
    /// form only are usage errors with a workspace.
    static let dataSetOnly: [any Parameter] = [data, out, architecture, size, channels, validation,
                                               SharedParameters.okFolders, SharedParameters.nokFolders]
    /// Options that need a workspace (they are stored in it).
    static let workspaceOnly: [any Parameter] = [maxMissed, maxRejected, answersForValidation, maskLoss, maskWeight, rightReasons]
    static let usageForms: [[any Parameter]] = [
        [Positional.workspace, epochs, patience, headFirst, learningRate, optimizer, batch, balanced, noAugment, occlusion,
         fromScratch, force, pretrained, seed, maxMissed, maxRejected, answersForValidation, maskLoss, maskWeight, rightReasons],
        [data, out, architecture, size, channels, epochs, batch, optimizer, learningRate, validation, patience, headFirst,
         balanced, noAugment, seed, SharedParameters.okFolders, SharedParameters.nokFolders, occlusion],
    ]

    static func run(_ arguments: Arguments) throws {
        if !arguments.positionals.isEmpty {
            try trainWorkspace(arguments)
            return
        }
        for option in workspaceOnly where arguments.isGiven(option) {
            throw UsageError("option '\(option.kind.name!)' is stored in a workspace; 'train --data' writes a checkpoint only")
        }
        let data = try arguments[Self.data]
        let out = try arguments[Self.out]
        let architecture = try arguments[Self.architecture]
        let size = try arguments[Self.size] ?? Architecture(rawValue: architecture)!.defaultInputSize
        let options = try trainingOptions(arguments)
        let validationShare = try arguments[validation]
        let seed = options.seed
        let channels = try arguments[Self.channels]

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
        var started: Double? = nil
        let (model, info, report) = SupervisedTraining.train(
            configuration: configuration,
            training: trainingIndices.map { (loaded[$0].image, labels[$0]) },
            validation: validationIndices.map { (loaded[$0].image, labels[$0]) },
            options: options, classNames: ClassFolderDataset.classNames,
            occlusion: try arguments[occlusion] == .on) { progress in
                reportEpoch(progress, of: options.epochs, started: &started)
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
        let rate = try arguments[learningRate]
        options.method = try arguments[optimizer] == .adam ? .adam(learningRate: rate) : .sgd(learningRate: rate, momentum: 0.9)
        options.epochs = try arguments[epochs]
        options.batchSize = try arguments[batch]
        options.patience = try arguments[patience]
        options.headOnlyEpochs = try arguments[headFirst]
        options.classWeighting = arguments[balanced] ? .balanced : .none
        options.augment = !arguments[noAugment]
        options.seed = try arguments[seed]
        return options
    }

    /// One line per epoch with a bar of the epochs done, on standard error, and the time the
    /// epochs left would take at the pace since `started` (set at the first report, when the
    /// images are read and training begins) — at most: early stopping may end the run sooner.
    static func reportEpoch(_ progress: TrainingProgress, of epochs: Int, started: inout Double?) {
        let begun = started ?? monotonicSeconds()
        started = begun
        guard let validationLoss = progress.validationLoss, let validationAccuracy = progress.validationAccuracy else { return }
        let bar = progressBar(progress.epoch, of: epochs)
        let perEpoch = (monotonicSeconds() - begun) / Double(max(progress.epoch, 1))
        let left = progress.epoch < epochs ? "  · at most \(readableDuration(perEpoch * Double(epochs - progress.epoch))) left" : ""
        printError(String(format: "[%@] epoch %3d  loss %.4f  accuracy %.3f  validation loss %.4f  accuracy %.3f",
                          bar, progress.epoch, progress.loss, progress.accuracy, validationLoss, validationAccuracy) + left)
    }

    static func trainWorkspace(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        for option in dataSetOnly where arguments.isGiven(option) {
            throw UsageError("option '\(option.kind.name!)' belongs to 'train --data'; a workspace has its own data and settings")
        }
        var options = try trainingOptions(arguments)
        options.maskLossWeight = try arguments[maskWeight]
        let pretrained = try arguments[Self.pretrained]
        // Every value read before the workspace is opened: a mistyped one is a usage error.
        let occlusionChoice = arguments.isGiven(occlusion) ? try arguments[occlusion] == .on : nil
        let maskLossChoice = arguments.isGiven(maskLoss) ? try arguments[maskLoss] == .on : nil
        let rightReasonsChoice = arguments.isGiven(rightReasons) ? try arguments[rightReasons] == .on : nil
        let (missedBudget, rejectedBudget) = (try arguments[maxMissed], try arguments[maxRejected])
        let validationShare = try arguments[answersForValidation]
        do {
            let workspace = try Workspace(opening: path)
            try workspace.refuseIfReadOnly()
            if let occlusionChoice { try workspace.setOcclusionTraining(occlusionChoice) }
            try workspace.setDecisionBudgets(maxMissedDefects: missedBudget, maxGoodRejected: rejectedBudget)
            if let validationShare { try workspace.setAnswersForValidation(validationShare) }
            if arguments.isGiven(maskWeight), !(try maskLossChoice ?? workspace.maskLoss) {
                throw UsageError("option '--mask-weight' needs the mask loss: add '--mask-loss on' (it is off for this workspace)")
            }
            if let maskLossChoice { try workspace.setMaskLoss(maskLossChoice) }
            if let rightReasonsChoice { try workspace.setRightReasons(rightReasonsChoice) }
            let active = try workspace.activeRound()
            var started: Double? = nil
            let (round, metrics) = try workspace.trainRound(options: options, fromScratch: arguments[fromScratch], pretrained: pretrained,
                                                            promotion: arguments[force] ? .always : nil) { progress in
                reportEpoch(progress, of: options.epochs, started: &started)
                return true
            }
            print(String(format: "round %d: %@, %d training images, best epoch %d of %d, %.0f s",
                         round.number, round.checkpoint, round.trainingSize, metrics.bestEpoch, metrics.epochs, metrics.seconds))
            print(String(format: "  validation: accuracy %.3f  F1 %.3f  MCC %.3f  (%d images)", metrics.validation.accuracy,
                         metrics.validation.f1, metrics.validation.mcc, metrics.validation.count))
            print(String(format: "  test:       accuracy %.3f  F1 %.3f  MCC %.3f  (%d images)", metrics.test.accuracy,
                         metrics.test.f1, metrics.test.mcc, metrics.test.count))
            if let regions = metrics.maskRegions {
                print("  mask loss:  the defect map trained on \(regions) defect region\(regions == 1 ? "" : "s") and the good parts' empty maps")
            }
            if let point = metrics.operatingPoint {
                print("  decisions:  \(point.summary)")
                print(String(format: "              pass below P(NOK) %.4g, reject above %.4g, review between", point.passBelow, point.rejectAbove))
            } else {
                print("  decisions:  none — the validation split needs good and defective parts to set the pass and reject thresholds")
            }
            let reason = Workspace.promotionReason(round, previous: active)
            guard round.status == .active else {
                print("round \(round.number) is kept as a candidate — \(reason); round \(active?.number ?? 0) stays active. "
                      + "'nearcaipi promote \(path) --round \(round.number)' makes it active anyway; train again, or add --force")
                return
            }
            print("round \(round.number) is active" + (active != nil ? " — \(reason)" : ""))
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
        let okFolders = try arguments[SharedParameters.okFolders], nokFolders = try arguments[SharedParameters.nokFolders]
        do {
            return try ClassFolderDataset.open(data, layout: layout, okFolders: okFolders, nokFolders: nokFolders)
        } catch {
            throw RuntimeFailure(error)
        }
    }

    static func firstImageChannels(_ dataset: ClassFolderDataset) throws -> Int {
        for item in dataset.items {
            if let decoded = try? ImageFile.read("\(dataset.root)/\(item.path)") { return decoded.image.colorChannels }
        }
        throw RuntimeFailure("\(dataset.root): no readable image in the class folders")
    }
}
