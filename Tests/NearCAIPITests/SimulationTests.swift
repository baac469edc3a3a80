import FileAccess
import Imaging
@testable import NearCAIPI
import NeuralNet
import Testing
import TestSupport

@Suite(.serialized) struct SimulationTests {
    static func tinyPlan(_ directory: TemporaryDirectory, rounds: Int) -> SimulationPlan {
        var plan = SimulationPlan(dataRoot: repositoryRoot() + "/SampleData/weld", out: directory.file("sim"))
        plan.workspace.inputSize = 32
        plan.workspace.initialTrain = 12
        plan.workspace.split = [0, 0.1, 0.2, 0.7]
        plan.strategies = [.al, .nearCAIPI]
        plan.seeds = [5]
        plan.rounds = rounds
        plan.interactionsPerRound = 3
        plan.refutationsPerItem = 2
        plan.initialTraining.epochs = 1
        plan.roundTraining.epochs = 1
        // Every round goes live, so every answer is trained on: which rounds the promotion
        // rule keeps back depends on the models, not on what these tests check.
        plan.promotion = .always
        return plan
    }

    @Test func strategiesShareTheStartSpendTheSameBudgetAndResume() throws {
        let directory = TemporaryDirectory("simulation")
        defer { directory.remove() }
        var stages: [SimulationProgress.Stage] = []
        var done: [Int] = [], planned = Set<Int>()
        let rows = try Simulation(plan: Self.tinyPlan(directory, rounds: 2)).run {
            stages.append($0.stage)
            done.append($0.roundsDone)
            planned.insert($0.roundsPlanned)
        }
        // Progress: 2 strategies × 2 rounds planned, counted up to the end, never back.
        #expect(planned == [4] && done.last == 4 && zip(done, done.dropFirst()).allSatisfy { $0 <= $1 })
        // Every round after the initial model says where its time went; timings.csv keeps it.
        #expect(rows.filter { $0.round > 0 }.allSatisfy { ($0.seconds?.training ?? 0) > 0 && $0.seconds!.heatmaps == 0 })
        #expect(rows.filter { $0.round == 0 }.allSatisfy { $0.seconds == nil })
        #expect(BinaryFile.exists(directory.file("sim/timings.csv")))
        #expect(rows.count == 2 * 3)
        let al = rows.filter { $0.strategy == .al }, near = rows.filter { $0.strategy == .nearCAIPI }
        // The same split and initial model: round 0 is identical.
        #expect(al[0].round == 0 && near[0].round == 0 && al[0].accuracy == near[0].accuracy && al[0].trainingSize == 12)
        // AL adds exactly its interactions — but for every fifth answered part of a class,
        // which validates instead (answers_for_validation); Near CAIPI adds refutations and
        // neighbours on top.
        let alWorkspace = try Workspace(opening: directory.file("sim/seed-5/al"))
        let heldOut = try alWorkspace.answersHeldForValidation()
        #expect(al.map(\.trainingSize).first == 12 && al.last!.trainingSize + heldOut == 18)
        #expect(zip(al, al.dropFirst()).allSatisfy { $0.trainingSize <= $1.trainingSize })
        #expect(stages.contains(.initialTraining(epoch: 1)) && stages.contains(.training(epoch: 1)) && stages.last == .finished)
        // Each strategy's workspace: the expert's 3 interactions per round, all trained on.
        #expect(try alWorkspace.feedbackLog().filter { $0.user == "simulated-expert" }.count == 6)
        #expect(try alWorkspace.pendingFeedbackCount() == 0)
        #expect(try LoopSettings.stored(in: alWorkspace).queryStrategy == .leastConfidence)
        // Labels spent: the initial 12 and the validation split, then AL's 3 answers a round;
        // Near CAIPI's supervisor answers count too (its refutations do not).
        let validation = try alWorkspace.items(in: .validation).count - heldOut
        #expect(validation > 0 && al.map(\.labelsSpent) == [12 + validation, 15 + validation, 18 + validation])
        let nearWorkspace = try Workspace(opening: directory.file("sim/seed-5/near-caipi"))
        let nearAnswers = try nearWorkspace.feedbackLog().filter { $0.prediction != .skip }
        #expect(nearAnswers.contains { $0.user != "simulated-expert" })
        #expect(near.last!.labelsSpent == 12 + validation + nearAnswers.count && near.last!.labelsSpent > al.last!.labelsSpent)
        #expect(near.last!.trainingSize + (try nearWorkspace.answersHeldForValidation()) >= near.last!.labelsSpent - validation)

        // Run again: nothing is redone.
        #expect(try Simulation(plan: Self.tinyPlan(directory, rounds: 2)).run() == rows)

        // An interrupted round: one interaction already given. A longer plan continues from
        // there — the round gets 2 more queries, not 3, and the earlier rounds stay as they were.
        let session = try LoopSession(workspace: alWorkspace, user: "simulated-expert")
        let query = try #require(try session.nextQuery())
        _ = try session.submit(try SimulatedExpert().answer(try session.view(of: query.path), in: alWorkspace))
        let longer = try Simulation(plan: Self.tinyPlan(directory, rounds: 3)).run()
        #expect(Array(longer.filter { $0.strategy == .al }.prefix(3)) == al)
        #expect(longer.filter { $0.strategy == .al }.last!.trainingSize + (try alWorkspace.answersHeldForValidation()) == 21)
        #expect(try alWorkspace.feedbackLog().filter { $0.user == "simulated-expert" }.count == 9)
    }

    @Test func reportHasThePapersShape() {
        func row(_ strategy: LoopStrategy, _ seed: UInt64, _ round: Int, _ mcc: Double) -> SimulationRow {
            SimulationRow(strategy: strategy, seed: seed, round: round, trainingSize: 10 + round, accuracy: 0.5, f1: 0.5, mcc: mcc)
        }
        let rows = [row(.al, 1, 0, 0.2), row(.al, 2, 0, 0.4), row(.al, 1, 1, 0.5), row(.al, 2, 1, 0.7),
                    row(.caipi, 1, 0, 0.2), row(.caipi, 2, 0, 0.4), row(.caipi, 1, 1, 0.8), row(.caipi, 2, 1, 0.8)]
        let csv = SimulationReport.csv(rows).split(separator: "\n")
        #expect(csv[0] == "strategy,seed,round,train_size,labels_spent,accuracy,f1,mcc,explanations_right,interacting_s,heatmaps_s,training_s,"
                + "missed_defects,passed_good" && csv[3] == "al,1,1,11,0,0.5000,0.5000,0.5000,,,,,," && csv.count == 9)
        // The decisions of the model in use, where the rounds have cuts.
        var decided = rows
        for index in decided.indices { decided[index].passedGood = 0.25 * Double(decided[index].round + 1); decided[index].missedDefects = 0 }
        #expect(SimulationReport.csv(decided).split(separator: "\n")[3].hasSuffix(",0.0000,0.5000"))
        let decisions = SimulationReport.markdown(decided, strategies: [.al, .caipi], title: "T")
        #expect(decisions.contains("good parts passed without review") && decisions.contains("| AL | 0.25 | 0.50 |"), "\(decisions)")
        let markdown = SimulationReport.markdown(rows, strategies: [.al, .caipi], title: "T")
        #expect(markdown.contains("| Strategy | Metric | R0 | R1 |"))
        #expect(markdown.contains("| AL | MCC | 0.300 ± 0.141 | 0.600 ± 0.141 |"))
        #expect(markdown.contains("| CAIPI | MCC | 0.300 ± 0.141 | 0.800 ± 0.000 |"))
        #expect(!markdown.contains("Near"))

        let chart = SimulationChart.draw(rows, strategies: [.al, .caipi], title: "MCC")
        #expect(chart.width == 800 && chart.height == 500 && chart.channels == 3)
        // Both strategies' lines are drawn in their own colours.
        for strategy in [LoopStrategy.al, .caipi] {
            let colour = SimulationChart.palette[strategy]!
            let found = (0..<(chart.width * chart.height)).contains { i in
                (0..<3).allSatisfy { abs(chart.pixels[$0 * chart.width * chart.height + i] - colour[$0]) < 1e-6 }
            }
            #expect(found, "\(strategy)")
        }
    }
}

extension SimulationTests {
    /// A copy of the bundled weld seams without masks: the paper's casting set has none.
    static func masklessWeld(_ directory: TemporaryDirectory) throws -> String {
        let root = directory.file("maskless")
        for folder in ["ok", "nok"] { try BinaryFile.copyTree(repositoryRoot() + "/SampleData/weld/\(folder)", to: "\(root)/\(folder)") }
        return root
    }

    @Test func onMasklessDataAnAcceptedHeatmapMakesRefutationsInCAIPIAndNoneInAL() throws {
        let directory = TemporaryDirectory("simulation-maskless")
        defer { directory.remove() }
        var options = WorkspaceOptions()
        options.inputSize = 32
        let (workspace, _) = try Workspace.create(at: directory.file("ws"), dataRoot: try Self.masklessWeld(directory), options: options)
        var quick = TrainingOptions()
        quick.epochs = 1
        _ = try workspace.trainRound(options: quick, fromScratch: true) { _ in true }
        var caipi = LoopSettings(strategy: .caipi)
        caipi.heatmapMasks = 200
        let session = try LoopSession(workspace: workspace, user: "simulated-expert", settings: caipi)
        let noks = try session.pool.predictions.filter { try SimulatedExpert.truth(of: $0.path, in: workspace).label == .nok }
        #expect(noks.count >= 3)
        let expert = SimulatedExpert()
        let heatmap = try session.explain(try session.view(of: noks[0].path)).heatmap

        // A map that shows a region, on a NOK part predicted NOK: accepted, and CAIPI makes
        // its refutations from the map's top 10 %.
        let accepted = try expert.answer(path: noks[0].path, predictedLabel: .nok, confidence: 0.7, heatmap: heatmap, in: workspace)
        #expect(accepted.explanation == .right && accepted.correctedMask == nil)
        #expect(try session.submit(accepted, heatmap: heatmap).refutations.count == caipi.refutationsPerItem)
        // A flat map shows nothing to accept: no verdict, no refutations.
        let flat = try expert.answer(path: noks[1].path, predictedLabel: .nok, confidence: 0.7, heatmap: heatmap, showsRegion: false,
                                     in: workspace)
        #expect(flat.explanation == nil)
        #expect(try session.submit(flat, heatmap: heatmap).refutations.isEmpty)
        // AL shows no explanation: the same accepted answer makes none.
        let al = try LoopSession(workspace: workspace, user: "simulated-expert", settings: LoopSettings(strategy: .al))
        let again = try expert.answer(path: noks[2].path, predictedLabel: .nok, confidence: 0.7, heatmap: heatmap, in: workspace)
        #expect(try al.submit(again, heatmap: heatmap).refutations.isEmpty)
    }

    @Test func withHeatmapsOnlyTheExplainingStrategiesJudgeExplanations() throws {
        let directory = TemporaryDirectory("simulation-heatmaps")
        defer { directory.remove() }
        var plan = Self.tinyPlan(directory, rounds: 1)
        plan.dataRoot = try Self.masklessWeld(directory)
        plan.strategies = [.al, .caipi]
        plan.withHeatmaps = true
        let rows = try Simulation(plan: plan).run()
        let alLog = try Workspace(opening: directory.file("sim/seed-5/al")).feedbackLog()
        let caipiLog = try Workspace(opening: directory.file("sim/seed-5/caipi")).feedbackLog()
        // AL's expert never saw a map; CAIPI's judged every NOK part it was shown as NOK whose
        // map showed a region, and its rows report the share.
        #expect(alLog.allSatisfy { $0.explanation == nil } && rows.filter { $0.strategy == .al }.allSatisfy { $0.explanationsRight == nil })
        let judged = caipiLog.filter { $0.explanation != nil }
        let caipiRound = try #require(rows.first { $0.strategy == .caipi && $0.round == 1 })
        #expect(judged.isEmpty == (caipiRound.explanationsRight == nil))
        if !judged.isEmpty { #expect(caipiRound.explanationsRight == 1) }
    }
}
