import FileAccess
import Foundation
import Imaging
import NearCAIPI
import NeuralNet

/// `nearcaipi simulate`: the main paper's strategy comparison with the simulated expert.
enum SimulateCommand: Command {
    static let name = "simulate"
    static let summary = "compare the five strategies with a simulated expert (the paper's Tables 2-3)"
    static let discussion = """
    For every seed: one workspace over the data set with N0 training images, a validation and
    a test split and the rest as the unlabelled pool, and one initial model trained from
    scratch. Every strategy then gets its own copy of that workspace and runs R rounds of N
    interactions answered by a simulated expert from the data set's labels and masks,
    retraining after each round (fine-tuning the active weights unless --from-scratch).
    An interrupted run continues where it stopped when started again with the same --out.

    Strategies (comma-separated):
      random      Random Add: random pool items, label only
      al          least-confident pool items, label only
      near-al     AL plus the near hit and near miss of every wrong prediction
      caipi       AL plus refutations from the defect region (the mask, or an accepted heatmap)
      near-caipi  CAIPI plus near hits and misses with their own refutations

    Writes to --out: results.csv (strategy, seed, round, train size, labels spent, accuracy,
    F1, MCC on the test split, share of explanations judged right), results.md (mean ± std
    over seeds by round; labels spent; each strategy against AL and Random Add, paired by
    seed, with bootstrap 95 % intervals and whether they resolve; what one test image moves
    MCC by), results.png and results-labels.png (mean MCC with ± std bands by round and by
    labels spent) and one workspace per seed and strategy. Labels spent count the initial
    training images, the validation split and every answer of the inspector and the
    supervisor; refutations are free.
    """

    /// The plan's own defaults, shown and used where an option is not given.
    private static let standard = SimulationPlan(dataRoot: "", out: "")

    static let data = Option<String>(name: "--data", placeholder: "DIR", help: "the data set folder (read only)", format: .text)
    static let out = Option<String>(name: "--out", placeholder: "DIR", help: "where the results and workspaces go", format: .text)
    static let strategies = Option<[LoopStrategy]>(
        name: "--strategies", placeholder: "LIST", help: "the strategies to compare, comma-separated",
        format: ValueFormat(describe: { $0.map(\.rawValue).joined(separator: ",") }) { (text) throws(Refusal) in
            let strategies = try text.split(separator: ",").map { (word) throws(Refusal) in
                guard let strategy = LoopStrategy(rawValue: String(word)) else {
                    throw Refusal("takes random, al, near-al, caipi, near-caipi; got '\(word)'")
                }
                return strategy
            }
            guard !strategies.isEmpty, Set(strategies).count == strategies.count else {
                throw Refusal("needs distinct strategy names, got '\(text)'")
            }
            return strategies
        },
        default: standard.strategies)
    static let rounds = Option<Int>(name: "--rounds", placeholder: "R", help: "rounds of interactions", format: .wholeNumber(in: 1...100),
                                    default: standard.rounds)
    static let perRound = Option<Int>(name: "--per-round", placeholder: "N", help: "expert interactions per round",
                                      format: .wholeNumber(in: 1...10_000), default: standard.interactionsPerRound)
    static let initialTrain = Option<Int>(name: "--initial-train", placeholder: "N0", help: "training images of the initial model",
                                          format: .wholeNumber(in: 2...1_000_000), default: 20)
    static let seeds = Option<[UInt64]>(
        name: "--seeds", placeholder: "LIST", help: "comma-separated seeds",
        format: ValueFormat(describe: { $0.map(String.init).joined(separator: ",") }) { (text) throws(Refusal) in
            let seeds = text.split(separator: ",").map { UInt64($0) }
            guard !seeds.isEmpty, seeds.allSatisfy({ $0 != nil }), Set(seeds).count == seeds.count else {
                throw Refusal("needs distinct non-negative integers separated by commas, got '\(text)'")
            }
            return seeds.map { $0! }
        },
        default: standard.seeds)
    static let testFraction = Option<Double>(name: "--test-fraction", placeholder: "F", help: "share of the images held out for testing",
                                             format: .number(.fraction), default: 0.2)
    static let validationFraction = Option<Double>(name: "--validation-fraction", placeholder: "F",
                                                   help: "share held out for early stopping", format: .number(.fraction), default: 0.1)
    static let validationCount = Option<Int?>(
        name: "--validation", placeholder: "N", help: "exactly N validation images (stratified) instead of --validation-fraction",
        format: .wholeNumber(in: 1...1_000_000), note: "a small labelled validation set, as an active-learning budget has")
    static let refutations = Option<Int>(name: "--refutations", placeholder: "K", help: "refutations per accepted defect region",
                                         format: .wholeNumber(in: 0...64), default: standard.refutationsPerItem)
    static let epochs = Option<Int>(name: "--epochs", placeholder: "E", help: "epochs of each round's training",
                                    format: .wholeNumber(in: 1...1000), default: 10)
    static let initialEpochs = Option<Int>(name: "--initial-epochs", placeholder: "E",
                                           help: "epochs of the initial model, trained as 'nearcaipi train' trains a first round",
                                           format: .wholeNumber(in: 1...1000), default: TrainingOptions.firstRound.epochs,
                                           note: "early stopping after \(TrainingOptions.firstRound.patience) epochs without improvement")
    static let patience = Option<Int>(name: "--patience", placeholder: "P",
                                      help: "epochs of a round without validation improvement before stopping",
                                      format: .wholeNumber(in: 1...1000), default: 25)
    static let learningRate = Option<Float>(name: "--lr", placeholder: "X", help: "Adam learning rate",
                                            format: .number(.strictlyBetween(0, 10)), default: 0.0005)
    static let fromScratch = Flag(name: "--from-scratch", help: "train every round from fresh weights, not the active round's")
    static let forcePromotion = Flag(name: "--force-promotion",
                                     help: "every round replaces the model in use, even when worse on the validation split (--promotion always)")
    static let promotion = Option<RoundPromotion>(name: "--promotion", placeholder: "RULE",
                                                  help: "when a round replaces the model in use: unless-worse (the paired comparison on "
                                                      + "the validation parts), if-not-worse (validation MCC at least the active round's) "
                                                      + "or always",
                                                  format: .choice, default: .unlessWorse)
    static let answersForValidation = Option<Double>(name: "--answers-for-validation", placeholder: "F",
                                                     help: "the share of each class's answered parts kept for validation instead of training",
                                                     format: .number(.between(0, 0.5)), default: Workspace.standardAnswersForValidation,
                                                     note: "0: every answer trains, the paper's protocol")
    static let maskLoss = Option<TrainCommand.Switch>(name: "--mask-loss", placeholder: "on|off",
                                                      help: "every round, the initial model's included, also trains the network's defect map "
                                                          + "on the known defect regions (data-set masks of the initial parts, painted masks, "
                                                          + "refutations)",
                                                      format: .choice, default: Workspace.standardMaskLoss ? .on : .off)
    static let maskWeight = Option<Float>(name: "--mask-weight", placeholder: "λ",
                                          help: "with --mask-loss on: how much the map's loss counts beside the decision's",
                                          format: .number(.strictlyBetween(0, 100)), default: Workspace.maskLossWeight)
    static let rightReasons = Option<TrainCommand.Switch>(name: "--right-reasons", placeholder: "on|off",
                                                          help: "every round, the initial model's included, penalises the classifier's "
                                                              + "NOK evidence outside the known defect regions",
                                                          format: .choice, default: Workspace.standardRightReasons ? .on : .off)
    static let reasonsWeight = Option<Float>(name: "--reasons-weight", placeholder: "λ",
                                             help: "with --right-reasons on: how much that penalty counts beside the decision's loss",
                                             format: .number(.strictlyBetween(0, 100)), default: Workspace.rightReasonsWeight)
    static let architecture = Option<String>(name: "--arch", placeholder: "NAME", help: "the model",
                                             format: .oneOf(Architecture.allCases.map(\.rawValue)), default: standard.workspace.architecture)
    /// Its default depends on --arch: resnet18 is made for 224 pixels.
    static let input = Option<Int?>(name: "--input", placeholder: "S", help: "model input side", format: .wholeNumber(in: 32...512),
                                    defaultDescription: "128; resnet18: 224")
    static let withHeatmaps = Flag(name: "--with-heatmaps",
                                   help: "the expert sees each query's InvRISE map in CAIPI and Near CAIPI, judges it against the mask, "
                                       + "accepts one that shows a region where there is no mask; refutations come from accepted maps")
    static let pretrain = Flag(name: "--pretrain",
                               help: "pretrain each seed's network on its workspace's images first ('nearcaipi pretrain'); the initial model starts from it")
    static let pretrainEpochs = Option<Int?>(name: "--pretrain-epochs", placeholder: "E", help: "epochs of pretraining, with --pretrain",
                                             format: .wholeNumber(in: 1...10_000),
                                             defaultDescription: "as 'nearcaipi pretrain' chooses for the method and the images")
    static let pretrainMethod = Option<PretrainingMethod>(name: "--pretrain-method", placeholder: "NAME",
                                                          help: "how to pretrain, with --pretrain (see 'nearcaipi pretrain --help')",
                                                          format: PretrainCommand.methodFormat, default: Workspace.defaultPretrainingMethod)
    static let query = Option<QueryStrategy?>(
        name: "--query", placeholder: "RULE",
        help: "how every strategy but Random Add picks its queries; anomaly and anomaly-uncertainty read round 0's anomaly scores "
            + "(--pretrain with the defects method); disagreement-first compares the own defect map with InvRISE (--mask-loss on)",
        format: .choice,
        defaultDescription: "least-confidence, the paper's")
    static let parameters: [any Parameter] = [
        data, out, SharedParameters.layout, SharedParameters.okFolders, SharedParameters.nokFolders, strategies, rounds, perRound,
        initialTrain, seeds, testFraction, validationFraction, validationCount, refutations, epochs, initialEpochs, patience, learningRate,
        fromScratch, forcePromotion, promotion, answersForValidation, maskLoss, maskWeight, rightReasons, reasonsWeight, withHeatmaps, query, pretrain, pretrainMethod, pretrainEpochs, architecture, input,
    ]

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.positionals([])
        let data = try arguments[Self.data], out = try arguments[Self.out]
        var plan = SimulationPlan(dataRoot: data, out: out)
        plan.workspace.layout = try arguments[SharedParameters.layout]
        plan.workspace.okFolders = try arguments[SharedParameters.okFolders]
        plan.workspace.nokFolders = try arguments[SharedParameters.nokFolders]
        plan.strategies = try arguments[strategies]
        plan.seeds = try arguments[seeds]
        plan.rounds = try arguments[rounds]
        plan.interactionsPerRound = try arguments[perRound]
        plan.workspace.initialTrain = try arguments[initialTrain]
        let test = try arguments[testFraction]
        plan.workspace.validationCount = try arguments[validationCount]
        if plan.workspace.validationCount != nil, arguments.isGiven(validationFraction) {
            throw UsageError("options '--validation' and '--validation-fraction' both set the validation split: give one")
        }
        let validation = plan.workspace.validationCount == nil ? try arguments[validationFraction] : 0
        guard test + validation < 1 else { throw UsageError("options '--test-fraction' and '--validation-fraction' must leave images for the pool") }
        // Train is fixed by --initial-train; the other fractions share the rest.
        plan.workspace.split = [0, validation, test, 1 - validation - test]
        plan.refutationsPerItem = try arguments[refutations]
        let rate = try arguments[learningRate]
        // The initial model is a first round like any workspace's (TrainingOptions.firstRound).
        plan.initialTraining.method = .adam(learningRate: rate)
        plan.initialTraining.epochs = try arguments[initialEpochs]
        plan.roundTraining.method = .adam(learningRate: rate)
        plan.roundTraining.epochs = try arguments[Self.epochs]
        plan.roundTraining.patience = try arguments[patience]
        // Refutations are made from defect regions, so the training set drifts towards NOK;
        // weighting the classes inversely to their frequency keeps the decision unbiased.
        plan.roundTraining.classWeighting = .balanced
        plan.fromScratch = arguments[fromScratch]
        plan.promotion = arguments[forcePromotion] ? .always : try arguments[promotion]
        plan.answersForValidation = try arguments[answersForValidation]
        plan.maskLoss = try arguments[maskLoss] == .on
        if arguments.isGiven(maskWeight), !plan.maskLoss { throw UsageError("option '--mask-weight' needs '--mask-loss on'") }
        plan.initialTraining.maskLossWeight = try arguments[maskWeight]
        plan.roundTraining.maskLossWeight = try arguments[maskWeight]
        plan.rightReasons = try arguments[rightReasons] == .on
        if arguments.isGiven(reasonsWeight), !plan.rightReasons { throw UsageError("option '--reasons-weight' needs '--right-reasons on'") }
        plan.initialTraining.rightReasonsWeight = try arguments[reasonsWeight]
        plan.roundTraining.rightReasonsWeight = try arguments[reasonsWeight]
        plan.withHeatmaps = arguments[withHeatmaps]
        plan.queryRule = try arguments[query]
        if arguments[pretrain] {
            plan.pretraining = try arguments[pretrainMethod]
            plan.pretrainingEpochs = try arguments[pretrainEpochs]
        } else if let option = [pretrainEpochs as any Parameter, pretrainMethod].first(where: arguments.isGiven) {
            throw UsageError("option '\(option.kind.name!)' needs '--pretrain'")
        }
        plan.workspace.architecture = try arguments[architecture]
        plan.workspace.inputSize = try arguments[input] ?? Architecture(rawValue: plan.workspace.architecture)!.defaultInputSize
        guard BinaryFile.isDirectory(data) else { throw RuntimeFailure("\(data): no such data folder") }

        let start = monotonicSeconds()
        let simulation = Simulation(plan: plan)
        var last = ""
        // The time left: the strategy rounds to go at the pace of those finished in this run,
        // plus the initial models of the seeds to come at the pace of those made.
        var firstDone: (rounds: Int, at: Double)? = nil, seenDone = -1
        // The time left as last estimated (at a finished round), counted down between
        // estimates: a seed's initial model (a pretext) takes minutes without finishing one.
        var estimate: (seconds: Double, at: Double)? = nil
        var initialBegan: [UInt64: Double] = [:], initialSeconds: [UInt64: Double] = [:]
        let rows: [SimulationRow]
        do {
            rows = try simulation.run { progress in
                let now = monotonicSeconds()
                if firstDone == nil { firstDone = (progress.roundsDone, now) }
                if progress.strategy == nil {
                    if initialBegan[progress.seed] == nil { initialBegan[progress.seed] = now }
                } else if let began = initialBegan[progress.seed], initialSeconds[progress.seed] == nil {
                    initialSeconds[progress.seed] = now - began
                }
                if progress.roundsDone != seenDone, let firstDone {
                    seenDone = progress.roundsDone
                    let finished = progress.roundsDone - firstDone.rounds
                    let initials = initialSeconds.values.reduce(0, +)
                    if finished > 0, progress.roundsPlanned > progress.roundsDone {
                        var seconds = (now - firstDone.at - initials) / Double(finished) * Double(progress.roundsPlanned - progress.roundsDone)
                        let seedsToCome = plan.seeds.count - 1 - (plan.seeds.firstIndex(of: progress.seed) ?? 0)
                        if !initialSeconds.isEmpty { seconds += Double(seedsToCome) * initials / Double(initialSeconds.count) }
                        estimate = (seconds, now)
                    } else {
                        estimate = nil
                    }
                }
                // Past its estimate, nothing is said rather than "0 s".
                let remaining = estimate.map { $0.seconds - (now - $0.at) } ?? 0
                let left = remaining >= 1 ? " · about " + readableDuration(remaining) + " left" : ""
                let line = describe(progress, plan: plan) + left
                if line != last { printError(line) }
                last = line
            }
        } catch {
            throw RuntimeFailure(error)
        }
        let seconds = monotonicSeconds() - start
        // The first seed's test split, for what one test image moves MCC by.
        var testSplit: (images: Int, nokShare: Double)? = nil
        if let seed = plan.seeds.first, let initial = try? Workspace(opening: "\(out)/seed-\(seed)/initial"),
           let test = try? initial.items(in: .test), !test.isEmpty {
            testSplit = (test.count, Double(test.filter { $0.truthLabel == .nok }.count) / Double(test.count))
        }
        let title = "NearCAIPI simulation on \(data): \(plan.rounds) rounds × \(plan.interactionsPerRound) interactions, \(plan.workspace.initialTrain!) initial training images"
        do {
            try BinaryFile.writeAtomically(Array(SimulationReport.csv(rows).utf8), to: "\(out)/results.csv")
            try BinaryFile.writeAtomically(Array(SimulationReport.markdown(rows, strategies: plan.strategies, title: title, testSplit: testSplit).utf8), to: "\(out)/results.md")
            let chart = SimulationChart.draw(rows, strategies: plan.strategies, title: "MCC on the test split")
            try ImageFile.writePNG(chart, to: "\(out)/results.png")
            let byLabels = SimulationChart.draw(rows, strategies: plan.strategies, title: "MCC on the test split by labels spent",
                                                axis: .labelsSpent)
            try ImageFile.writePNG(byLabels, to: "\(out)/results-labels.png")
        } catch {
            throw RuntimeFailure(error)
        }
        print(SimulationReport.markdown(rows, strategies: plan.strategies, title: title, testSplit: testSplit))
        print(String(format: "Wrote %@/results.csv, results.md, results.png and results-labels.png in %.0f s.", out, seconds))
    }

    /// One line per change of stage: a bar of the strategy's rounds and what is happening.
    static func describe(_ progress: SimulationProgress, plan: SimulationPlan) -> String {
        let name = progress.strategy?.title ?? "initial model"
        let bar = "[" + progressBar(progress.strategy == nil ? 0 : progress.round - 1, of: plan.rounds) + "]"
        let what: String
        switch progress.stage {
        case .creating: what = "creating the workspace"
        case .pretraining(let epoch, let epochs): what = "pretraining, epoch \(epoch)/\(epochs)"
        case .initialTraining(let epoch): what = "training the initial model, epoch \(epoch)/\(plan.initialTraining.epochs)"
        case .interacting, .explaining: what = "round \(progress.round)/\(plan.rounds): interactions" + (plan.withHeatmaps ? " with heatmaps" : "")
        case .training(let epoch): what = "round \(progress.round)/\(plan.rounds): training, epoch \(epoch)/\(plan.roundTraining.epochs)"
        case .finished: return "seed \(progress.seed) \(name): [" + progressBar(1, of: 1) + "] done"
        }
        return "seed \(progress.seed) \(name): \(bar) \(what)"
    }
}
