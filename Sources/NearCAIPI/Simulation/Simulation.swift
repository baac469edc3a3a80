import FileAccess
import Imaging
import Foundation
import NeuralNet

/// The main paper's experiment (sec. 4.2, Tables 2–3): every strategy spends the same budget
/// of expert interactions, answered by the simulated expert, on its own copy of one workspace
/// that starts from the same split and the same initial model.
public struct SimulationPlan: Sendable {
    public var dataRoot: String
    /// Layout, class folder names, architecture, input size, split fractions (train is given
    /// by `initialTrain`); the seed is set per run.
    public var workspace = WorkspaceOptions()
    public var strategies: [LoopStrategy] = LoopStrategy.allCases
    public var seeds: [UInt64] = [1, 2, 3]
    public var rounds = 5
    public var interactionsPerRound = 10
    public var refutationsPerItem = 4
    /// Training of the initial model (from scratch, or from round 0): the first round's recipe.
    public var initialTraining = TrainingOptions.firstRound
    /// Training of every later round.
    public var roundTraining = TrainingOptions()
    /// Retrain every round from scratch instead of fine-tuning the active weights.
    public var fromScratch = false
    /// When a round replaces the model in use: the workspaces' rule (a round worse on the
    /// validation split stays a candidate), or always.
    public var promotion: RoundPromotion = .unlessWorse
    /// The share of each class's answered parts kept for validation (the workspaces' rule;
    /// 0: every answer trains, the paper's protocol).
    public var answersForValidation = Workspace.standardAnswersForValidation
    /// Whether every round, the initial model's included, trains the network's defect map on
    /// the regions known (the data set's masks of the initial training parts, painted masks,
    /// refutations' masks) — the workspaces' `mask_loss`.
    public var maskLoss = Workspace.standardMaskLoss
    /// Whether every round, the initial model's included, penalises the classifier's NOK
    /// evidence outside those regions — the workspaces' `right_reasons`.
    public var rightReasons = Workspace.standardRightReasons
    /// Pretraining of each seed's network on its workspace's unlabelled images before the
    /// initial model (which then starts from it); nil: none, the initial model starts from
    /// random weights. Run once per seed, shared by every strategy.
    public var pretraining: PretrainingMethod? = nil
    /// Epochs of that pretraining; nil: what the workspace suggests for the method.
    public var pretrainingEpochs: Int? = nil
    /// How the strategies that choose queries (all but Random Add) choose them; nil: the
    /// paper's least confidence.
    public var queryRule: QueryStrategy? = nil
    /// The simulated expert sees the InvRISE map of each query (the workspace's fill and
    /// masks, convergence stop) in the strategies that use explanations (CAIPI, Near CAIPI),
    /// judges it against the mask where there is one, and accepts a map that shows a region
    /// where there is none, as the paper's simulated user does — so refutations come from the
    /// accepted map on mask-less data too.
    public var withHeatmaps = false
    public var out: String

    public init(dataRoot: String, out: String) {
        self.dataRoot = dataRoot
        self.out = out
    }
}

/// One measured point: a strategy's model after a round, on the test split.
public struct SimulationRow: Sendable, Equatable {
    public var strategy: LoopStrategy
    public var seed: UInt64
    /// 0 = the initial model, 1… = after each round of interactions.
    public var round: Int
    public var trainingSize: Int
    public var accuracy: Double
    public var f1: Double
    public var mcc: Double
    /// Labelled images used so far: the initial training images, the validation split, and
    /// every answer of the simulated inspector and supervisor (refutations are free).
    public var labelsSpent: Int = 0
    /// Of the round's explanations the inspector judged, the share judged right (nil: none
    /// judged — no heatmaps, a strategy without explanations, or the initial model).
    public var explanationsRight: Double? = nil
    /// Where the round's time went (nil: the initial model, or a round finished by an
    /// earlier version of the run that kept no timings).
    public var seconds: RoundSeconds? = nil
    /// The round did worse on the validation split than the model in use and stayed a
    /// candidate (the promotion rule): the row's metrics are the model in use's.
    public var keptBack = false
    /// At the model in use's pass threshold (`OperatingPoint`), on the test split: the share
    /// of defective parts passed, and of good parts passed without review (nil: a round
    /// without cuts).
    public var missedDefects: Double? = nil
    public var passedGood: Double? = nil
}

/// The wall-clock seconds of one round of a strategy.
public struct RoundSeconds: Sendable, Equatable {
    /// The simulated inspector's and supervisor's answers (queries, refutations, reviews).
    public var interacting: Double
    /// The InvRISE maps the inspector was shown.
    public var heatmaps: Double
    /// Training the round, then the new model's pool predictions.
    public var training: Double

    public init(interacting: Double, heatmaps: Double, training: Double) {
        self.interacting = interacting
        self.heatmaps = heatmaps
        self.training = training
    }
}

public struct SimulationProgress: Sendable {
    public enum Stage: Sendable, Equatable {
        case creating, pretraining(epoch: Int, epochs: Int), initialTraining(epoch: Int), interacting(done: Int), explaining(done: Int)
        case training(epoch: Int), finished
    }
    public var seed: UInt64
    /// nil while the shared initial workspace of a seed is being prepared.
    public var strategy: LoopStrategy?
    public var round: Int
    public var stage: Stage
    /// Strategy rounds finished (those of an earlier, interrupted run included) and planned.
    public var roundsDone = 0
    public var roundsPlanned = 0
}

/// Runs a plan. Everything lives in workspaces under `plan.out`, so an interrupted run resumes
/// where it stopped: a finished round is in its workspace's rounds table, the interactions of
/// an unfinished one are feedback rows, and a copy or creation that was cut short is redone.
public final class Simulation {
    public let plan: SimulationPlan
    let expert = SimulatedExpert(name: "simulated-expert")
    let supervisor = SimulatedExpert(name: "simulated-supervisor")

    /// Seconds of each strategy round, by "strategy,seed,round"; kept in timings.csv so a
    /// resumed run still reports the rounds finished before.
    var timings: [String: RoundSeconds] = [:]
    /// Strategy rounds finished, for the progress.
    var roundsDone = 0

    public init(plan: SimulationPlan) { self.plan = plan }

    var timingsPath: String { "\(plan.out)/timings.csv" }

    public func run(progress: (SimulationProgress) -> Void = { _ in }) throws -> [SimulationRow] {
        try BinaryFile.createDirectory(plan.out)
        timings = Self.readTimings(at: timingsPath)
        let planned = plan.seeds.count * plan.strategies.count * plan.rounds
        return try withoutActuallyEscaping(progress) { progress in
            // Every report carries how far the whole run is.
            let report: (SimulationProgress) -> Void = { step in
                var step = step
                step.roundsDone = self.roundsDone
                step.roundsPlanned = planned
                progress(step)
            }
            var rows: [SimulationRow] = []
            for (seedIndex, seed) in plan.seeds.enumerated() {
                let base = try initialWorkspace(seed: seed, progress: report)
                for (strategyIndex, strategy) in plan.strategies.enumerated() {
                    let before = (seedIndex * plan.strategies.count + strategyIndex) * plan.rounds
                    roundsDone = before
                    let workspace = try strategyWorkspace(strategy, seed: seed, from: base)
                    try runStrategy(strategy, seed: seed, workspace: workspace, roundsBefore: before, progress: report)
                    roundsDone = before + plan.rounds
                    rows += try Self.rows(of: workspace, strategy: strategy, seed: seed).map { row in
                        var row = row
                        row.seconds = timings[Self.timingKey(strategy, seed, row.round)]
                        return row
                    }
                    report(SimulationProgress(seed: seed, strategy: strategy, round: plan.rounds, stage: .finished))
                }
            }
            return rows
        }
    }

    static func timingKey(_ strategy: LoopStrategy, _ seed: UInt64, _ round: Int) -> String { "\(strategy.rawValue),\(seed),\(round)" }

    static let timingsHeader = "strategy,seed,round,interacting_s,heatmaps_s,training_s"

    /// The timings a run wrote; an unreadable or missing file gives none (they are a report,
    /// not state: the rounds themselves are in the workspaces).
    static func readTimings(at path: String) -> [String: RoundSeconds] {
        guard let bytes = try? BinaryFile.read(path) else { return [:] }
        var timings: [String: RoundSeconds] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 6, let a = Double(fields[3]), let b = Double(fields[4]), let c = Double(fields[5]) else { continue }
            timings[fields[0...2].joined(separator: ",")] = RoundSeconds(interacting: a, heatmaps: b, training: c)
        }
        return timings
    }

    func writeTimings() throws {
        var text = Self.timingsHeader + "\n"
        for key in timings.keys.sorted() {
            let t = timings[key]!
            text += key + String(format: ",%.2f,%.2f,%.2f\n", t.interacting, t.heatmaps, t.training)
        }
        try BinaryFile.writeAtomically(Array(text.utf8), to: timingsPath)
    }

    func seedFolder(_ seed: UInt64) -> String { "\(plan.out)/seed-\(seed)" }

    /// The seed's split and initial model, shared by every strategy.
    func initialWorkspace(seed: UInt64, progress: (SimulationProgress) -> Void) throws -> Workspace {
        let path = "\(seedFolder(seed))/initial"
        try BinaryFile.createDirectory(seedFolder(seed))
        let workspace: Workspace
        if BinaryFile.exists("\(path)/\(Workspace.databaseName)") {
            workspace = try Workspace(opening: path)
        } else {
            progress(SimulationProgress(seed: seed, strategy: nil, round: 0, stage: .creating))
            var options = plan.workspace
            options.seed = seed
            workspace = try Workspace.create(at: path, dataRoot: plan.dataRoot, options: options).0
        }
        if let method = plan.pretraining, try workspace.activeRound() == nil, !workspace.hasPretrainedBackbone {
            var pretraining = try workspace.suggestedPretrainingOptions(method: method)
            if let epochs = plan.pretrainingEpochs { pretraining.epochs = epochs }
            pretraining.seed = seed
            let summary = try workspace.pretrain(options: pretraining) { step in
                if step.batch == step.batchesPerEpoch {
                    progress(SimulationProgress(seed: seed, strategy: nil, round: 0, stage: .pretraining(epoch: step.epoch, epochs: step.epochs)))
                }
                return true
            }
            guard summary.isFinished else { throw WorkspaceError(path, "pretraining stopped before its last epoch") }
        }
        if try workspace.activeRound() == nil {
            try workspace.setMaskLoss(plan.maskLoss)
            try workspace.setRightReasons(plan.rightReasons)
            var training = plan.initialTraining
            training.seed = seed
            _ = try workspace.trainRound(options: training, fromScratch: true) { epoch in
                progress(SimulationProgress(seed: seed, strategy: nil, round: 0, stage: .initialTraining(epoch: epoch.epoch)))
                return true
            }
        }
        // Copies are taken from the main database file alone.
        try workspace.store.checkpointLog()
        return workspace
    }

    /// A strategy's own copy of the initial workspace (database and initial checkpoint),
    /// made under a temporary name and renamed into place when complete.
    func strategyWorkspace(_ strategy: LoopStrategy, seed: UInt64, from base: Workspace) throws -> Workspace {
        let path = "\(seedFolder(seed))/\(strategy.rawValue)"
        if !BinaryFile.exists("\(path)/\(Workspace.databaseName)") {
            let temporary = "\(path).copying"
            try BinaryFile.removeTree(temporary)
            try BinaryFile.removeTree(path)
            try BinaryFile.createDirectory("\(temporary)/models")
            for round in try base.rounds() {
                try BinaryFile.copy(base.checkpointPath(of: round), to: "\(temporary)/\(round.checkpoint)")
            }
            // Round 0: a round trained from scratch starts from the pretrained backbone too.
            if base.hasPretrainedBackbone {
                try BinaryFile.copy(base.pretrainedBackbonePath, to: "\(temporary)/models/round-000.safetensors")
                // Its anomaly scores too (the rules that read them), when it made some.
                if BinaryFile.exists(base.anomalyScoresPath) {
                    try BinaryFile.copy(base.anomalyScoresPath, to: "\(temporary)/models/anomaly-scores.csv")
                }
            }
            try BinaryFile.copy("\(base.path)/\(Workspace.databaseName)", to: "\(temporary)/\(Workspace.databaseName)")
            try BinaryFile.move(temporary, to: path)
        }
        let workspace = try Workspace(opening: path)
        var settings = LoopSettings(strategy: strategy)
        if let rule = plan.queryRule, strategy != .randomAdd { settings.queryStrategy = rule }
        settings.interactionsPerRound = plan.interactionsPerRound
        settings.refutationsPerItem = plan.refutationsPerItem
        try settings.store(in: workspace)
        try workspace.setPromotion(plan.promotion)
        try workspace.setAnswersForValidation(plan.answersForValidation)
        try workspace.setMaskLoss(plan.maskLoss)
        try workspace.setRightReasons(plan.rightReasons)
        return workspace
    }

    /// Interactions of the round in progress: the simulated expert's answers given since the
    /// last round began training — whether that round went live or stayed a candidate (the
    /// supervisor's answers on near hits and misses come on top, as in Algorithm 1).
    func interactionsSoFar(_ workspace: Workspace) throws -> Int {
        guard let since = try workspace.rounds().last?.lastFeedbackID else { return try workspace.pendingFeedbackCount(user: expert.name) }
        return try workspace.feedbackLog().filter { $0.user == expert.name && !$0.reverted && $0.id > since }.count
    }

    func runStrategy(_ strategy: LoopStrategy, seed: UInt64, workspace: Workspace, roundsBefore: Int = 0,
                     progress: (SimulationProgress) -> Void) throws {
        // One session: its pool predictions are refreshed by every retrain, not recomputed.
        let session = try LoopSession(workspace: workspace, user: expert.name)
        while true {
            let finished = try workspace.rounds().count - 1
            roundsDone = roundsBefore + min(finished, plan.rounds)
            guard finished < plan.rounds else { return }
            let round = finished + 1
            let began = monotonicSeconds()
            var heatmapSeconds = 0.0
            var done = try interactionsSoFar(workspace)
            try supervisor.answerOpenReviews(in: session, seed: seed)
            while done < plan.interactionsPerRound {
                progress(SimulationProgress(seed: seed, strategy: strategy, round: round, stage: .interacting(done: done)))
                guard let query = try session.nextQuery(seed: seed &* 1_000 &+ UInt64(round)) else { break }
                let view = try session.view(of: query.path)
                var heatmap: Image? = nil, showsRegion = false
                if plan.withHeatmaps, session.settings.makesRefutations {
                    progress(SimulationProgress(seed: seed, strategy: strategy, round: round, stage: .explaining(done: done)))
                    let explaining = monotonicSeconds()
                    let result = try session.explain(view)
                    heatmapSeconds += monotonicSeconds() - explaining
                    heatmap = result.heatmap
                    showsRegion = !result.noise.isFlat
                }
                let answer = try expert.answer(view, heatmap: heatmap, showsRegion: showsRegion, in: workspace)
                _ = try session.submit(answer, heatmap: heatmap, seed: seed)
                try supervisor.answerOpenReviews(in: session, seed: seed)
                done += 1
            }
            guard done > 0 else { return }  // the pool is exhausted: nothing left to learn from
            var training = plan.roundTraining
            training.seed = seed &+ UInt64(round)
            let trainingBegan = monotonicSeconds()
            try session.retrain(options: training, fromScratch: plan.fromScratch) { epoch in
                progress(SimulationProgress(seed: seed, strategy: strategy, round: round, stage: .training(epoch: epoch.epoch)))
                return true
            }
            let now = monotonicSeconds()
            // To the hundredth, as timings.csv keeps them: a resumed run reports the same.
            func kept(_ seconds: Double) -> Double { (max(0, seconds) * 100).rounded() / 100 }
            timings[Self.timingKey(strategy, seed, round)] = RoundSeconds(interacting: kept(trainingBegan - began - heatmapSeconds),
                                                                          heatmaps: kept(heatmapSeconds), training: kept(now - trainingBegan))
            try writeTimings()
        }
    }

    /// The measured rounds of one strategy's workspace: after each round, the test metrics of
    /// the model in use — the round's own when it became active, the one before it when it
    /// stayed a candidate — and the labels spent so far.
    public static func rows(of workspace: Workspace, strategy: LoopStrategy, seed: UInt64) throws -> [SimulationRow] {
        var inUse: RoundMetrics? = nil
        let rounds = try workspace.rounds().filter { $0.status != .failed }
        // A label is a person's answer on an image; a skip is none. The initial training
        // images and the validation split were labelled before the loop began.
        let log = try workspace.feedbackLog()
        let answerIDs = log.filter { $0.prediction != .skip }.map(\.id)
        // The inspector's verdicts on explanations, to share out by round.
        let judged = log.filter { $0.role != .supervisor && ($0.explanation == .right || $0.explanation == .wrong) }
        // The validation split as it began: answers held out for validation are counted as answers.
        let before = (rounds.first?.trainingSize ?? 0) + (try workspace.items(in: .validation).count - workspace.answersHeldForValidation())
        return try rounds.map { round in
            guard let metrics = round.metrics else {
                throw WorkspaceError(workspace.path, "round \(round.number) has no readable metrics")
            }
            if round.status != .candidate && round.status != .discarded || inUse == nil { inUse = metrics }
            let deployed = inUse ?? metrics
            let answers = round.lastFeedbackID.map { last in answerIDs.filter { $0 <= last }.count } ?? 0
            // This round's verdicts: after the previous round's last answer, up to its own.
            let previousLast = rounds.last { $0.number < round.number }?.lastFeedbackID ?? 0
            let mine = round.lastFeedbackID.map { last in judged.filter { $0.id > previousLast && $0.id <= last } } ?? []
            return SimulationRow(strategy: strategy, seed: seed, round: round.number - 1, trainingSize: round.trainingSize,
                                 accuracy: deployed.test.accuracy, f1: deployed.test.f1, mcc: deployed.test.mcc,
                                 labelsSpent: before + answers,
                                 explanationsRight: mine.isEmpty ? nil : Double(mine.filter { $0.explanation == .right }.count) / Double(mine.count),
                                 keptBack: round.status == .candidate || round.status == .discarded,
                                 missedDefects: deployed.operatingPoint.map { $0.test.missedDefects.rate },
                                 passedGood: deployed.operatingPoint.map { $0.test.passedGood.rate })
        }
    }
}
