import FileAccess
import Foundation
import Imaging
import NearCAIPI
import NeuralNet

/// `nearcaipi simulate`: the main paper's strategy comparison with the simulated expert.
enum SimulateCommand: Command {
    static let name = "simulate"
    static let summary = "compare the five strategies with a simulated expert (the paper's Tables 2-3)"
    static let help = """
    Usage: nearcaipi simulate --data DIR --out DIR [--layout auto|mvtec|folders] [--ok NAMES] [--nok NAMES]
                              [--strategies LIST] [--rounds R] [--per-round N] [--initial-train N0]
                              [--seeds LIST] [--test-fraction F] [--validation-fraction F]
                              [--refutations K] [--epochs E] [--initial-epochs E] [--patience P]
                              [--lr X] [--from-scratch] [--arch NAME] [--input S]

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
      caipi       AL plus refutations from the true defect region
      near-caipi  CAIPI plus near hits and misses with their own refutations

    Writes to --out: results.csv (strategy, seed, round, train size, accuracy, F1, MCC on the
    test split), results.md (strategy x metric by round, mean ± std over seeds), results.png
    (mean MCC per round, one line per strategy) and one workspace per seed and strategy.

    Options:
      --rounds R              rounds of interactions, 1-100 (default 5)
      --per-round N           expert interactions per round, 1-10000 (default 10)
      --initial-train N0      training images of the initial model (default 20)
      --seeds LIST            comma-separated seeds (default 1,2,3)
      --test-fraction F       share of the images held out for testing (default 0.2)
      --validation-fraction F share held out for early stopping (default 0.1)
      --refutations K         refutations per accepted defect region, 0-64 (default 4)
      --epochs E              epochs of each round's training, 1-1000 (default 10)
      --initial-epochs E      epochs of the initial model, 1-1000 (default 60)
      --patience P            epochs without validation improvement before stopping (default 25)
      --lr X                  Adam learning rate (default 0.0005)
      --arch NAME, --input S  model (default resnet18-w4 at 128)
    """
    static let options: Set<String> = ["--data", "--out", "--layout", "--ok", "--nok", "--strategies", "--rounds", "--per-round",
                                       "--initial-train", "--seeds", "--test-fraction", "--validation-fraction", "--refutations",
                                       "--epochs", "--initial-epochs", "--patience", "--lr", "--arch", "--input"]
    static let flags: Set<String> = ["--from-scratch"]

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.positionals(exactly: [])
        let data = try arguments.requiredString("--data"), out = try arguments.requiredString("--out")
        var plan = SimulationPlan(dataRoot: data, out: out)
        plan.workspace.layout = try arguments.choice("--layout", default: WorkspaceOptions.Layout.auto)
        if let names = arguments.string("--ok") { plan.workspace.okFolders = names.split(separator: ",").map(String.init) }
        if let names = arguments.string("--nok") { plan.workspace.nokFolders = names.split(separator: ",").map(String.init) }
        if let text = arguments.string("--strategies") {
            plan.strategies = try text.split(separator: ",").map { word in
                guard let strategy = LoopStrategy(rawValue: String(word)) else {
                    throw UsageError("option '--strategies' takes random, al, near-al, caipi, near-caipi; got '\(word)'")
                }
                return strategy
            }
            guard !plan.strategies.isEmpty, Set(plan.strategies).count == plan.strategies.count else {
                throw UsageError("option '--strategies' needs distinct strategy names, got '\(text)'")
            }
        }
        if let text = arguments.string("--seeds") {
            let seeds = text.split(separator: ",").map { UInt64($0) }
            guard !seeds.isEmpty, seeds.allSatisfy({ $0 != nil }), Set(seeds).count == seeds.count else {
                throw UsageError("option '--seeds' needs distinct non-negative integers separated by commas, got '\(text)'")
            }
            plan.seeds = seeds.map { $0! }
        }
        plan.rounds = try arguments.integer("--rounds", default: 5, in: 1...100)
        plan.interactionsPerRound = try arguments.integer("--per-round", default: 10, in: 1...10_000)
        plan.workspace.initialTrain = try arguments.integer("--initial-train", default: 20, in: 2...1_000_000)
        let test = try fraction(arguments, "--test-fraction", default: 0.2)
        let validation = try fraction(arguments, "--validation-fraction", default: 0.1)
        guard test + validation < 1 else { throw UsageError("options '--test-fraction' and '--validation-fraction' must leave images for the pool") }
        // Train is fixed by --initial-train; the other fractions share the rest.
        plan.workspace.split = [0, validation, test, 1 - validation - test]
        plan.refutationsPerItem = try arguments.integer("--refutations", default: 4, in: 0...64)
        guard let rate = Float(arguments.string("--lr") ?? "0.0005"), rate > 0, rate < 10 else {
            throw UsageError("option '--lr' must be a positive number below 10")
        }
        for (options, flag, epochs) in [(\SimulationPlan.initialTraining, "--initial-epochs", 60), (\SimulationPlan.roundTraining, "--epochs", 10)] {
            plan[keyPath: options].method = .adam(learningRate: rate)
            plan[keyPath: options].epochs = try arguments.integer(flag, default: epochs, in: 1...1000)
            plan[keyPath: options].patience = try arguments.integer("--patience", default: 25, in: 1...1000)
            // Refutations are made from defect regions, so the training set drifts towards NOK;
            // weighting the classes inversely to their frequency keeps the decision unbiased.
            plan[keyPath: options].classWeighting = .balanced
        }
        plan.fromScratch = arguments.flag("--from-scratch")
        plan.workspace.architecture = arguments.string("--arch") ?? "resnet18-w4"
        guard ["resnet18-w4", "resnet18"].contains(plan.workspace.architecture) else {
            throw UsageError("option '--arch' must be resnet18-w4 or resnet18; got '\(plan.workspace.architecture)'")
        }
        plan.workspace.inputSize = try arguments.integer("--input", default: plan.workspace.architecture == "resnet18" ? 224 : 128, in: 32...512)
        guard BinaryFile.isDirectory(data) else { throw RuntimeFailure("\(data): no such data folder") }

        let start = monotonicSeconds()
        let simulation = Simulation(plan: plan)
        var last = ""
        let rows: [SimulationRow]
        do {
            rows = try simulation.run { progress in
                let line = describe(progress, plan: plan)
                if line != last { printError(line) }
                last = line
            }
        } catch {
            throw RuntimeFailure(error)
        }
        let seconds = monotonicSeconds() - start
        let title = "NearCAIPI simulation on \(data): \(plan.rounds) rounds × \(plan.interactionsPerRound) interactions, \(plan.workspace.initialTrain!) initial training images"
        do {
            try BinaryFile.writeAtomically(Array(SimulationReport.csv(rows).utf8), to: "\(out)/results.csv")
            try BinaryFile.writeAtomically(Array(SimulationReport.markdown(rows, strategies: plan.strategies, title: title).utf8), to: "\(out)/results.md")
            let chart = SimulationChart.draw(rows, strategies: plan.strategies, title: "MCC on the test split")
            try ImageFile.writePNG(chart, to: "\(out)/results.png")
        } catch {
            throw RuntimeFailure(error)
        }
        print(SimulationReport.markdown(rows, strategies: plan.strategies, title: title))
        print(String(format: "Wrote %@/results.csv, results.md and results.png in %.0f s.", out, seconds))
    }

    static func fraction(_ arguments: Arguments, _ name: String, default fallback: Double) throws -> Double {
        guard let text = arguments.string(name) else { return fallback }
        guard let value = Double(text), value > 0, value < 1 else { throw UsageError("option '\(name)' must be a fraction between 0 and 1 (exclusive), got '\(text)'") }
        return value
    }

    /// One line per change of stage: a bar of the strategy's rounds and what is happening.
    static func describe(_ progress: SimulationProgress, plan: SimulationPlan) -> String {
        let name = progress.strategy?.title ?? "initial model"
        let done = progress.strategy == nil ? 0 : min(20, max(0, progress.round - 1) * 20 / max(plan.rounds, 1))
        let bar = "[" + String(repeating: "#", count: done) + String(repeating: ".", count: 20 - done) + "]"
        let what: String
        switch progress.stage {
        case .creating: what = "creating the workspace"
        case .initialTraining(let epoch): what = "training the initial model, epoch \(epoch)/\(plan.initialTraining.epochs)"
        case .interacting: what = "round \(progress.round)/\(plan.rounds): interactions"
        case .training(let epoch): what = "round \(progress.round)/\(plan.rounds): training, epoch \(epoch)/\(plan.roundTraining.epochs)"
        case .finished: return "seed \(progress.seed) \(name): [" + String(repeating: "#", count: 20) + "] done"
        }
        return "seed \(progress.seed) \(name): \(bar) \(what)"
    }
}
