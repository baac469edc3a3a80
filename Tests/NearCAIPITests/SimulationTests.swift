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
        return plan
    }

    @Test func strategiesShareTheStartSpendTheSameBudgetAndResume() throws {
        let directory = TemporaryDirectory("simulation")
        defer { directory.remove() }
        var stages: [SimulationProgress.Stage] = []
        let rows = try Simulation(plan: Self.tinyPlan(directory, rounds: 2)).run { stages.append($0.stage) }
        #expect(rows.count == 2 * 3)
        let al = rows.filter { $0.strategy == .al }, near = rows.filter { $0.strategy == .nearCAIPI }
        // The same split and initial model: round 0 is identical.
        #expect(al[0].round == 0 && near[0].round == 0 && al[0].accuracy == near[0].accuracy && al[0].trainingSize == 12)
        // AL adds exactly its interactions; Near CAIPI adds refutations and neighbours on top.
        #expect(al.map(\.trainingSize) == [12, 15, 18])
        #expect(zip(al, near).allSatisfy { $0.trainingSize <= $1.trainingSize })
        #expect(stages.contains(.initialTraining(epoch: 1)) && stages.contains(.training(epoch: 1)) && stages.last == .finished)
        // Each strategy's workspace: the expert's 3 interactions per round, all trained on.
        let alWorkspace = try Workspace(opening: directory.file("sim/seed-5/al"))
        #expect(try alWorkspace.feedbackLog().filter { $0.user == "simulated-expert" }.count == 6)
        #expect(try alWorkspace.pendingFeedbackCount() == 0)
        #expect(try LoopSettings.stored(in: alWorkspace).queryStrategy == .leastConfidence)

        // Run again: nothing is redone.
        #expect(try Simulation(plan: Self.tinyPlan(directory, rounds: 2)).run() == rows)

        // An interrupted round: one interaction already given. A longer plan continues from
        // there — the round gets 2 more queries, not 3, and the earlier rounds stay as they were.
        let session = try LoopSession(workspace: alWorkspace, user: "simulated-expert")
        let query = try #require(try session.nextQuery())
        _ = try session.submit(try SimulatedExpert().answer(try session.view(of: query.path), in: alWorkspace))
        let longer = try Simulation(plan: Self.tinyPlan(directory, rounds: 3)).run()
        #expect(Array(longer.filter { $0.strategy == .al }.prefix(3)) == al)
        #expect(longer.filter { $0.strategy == .al }.map(\.trainingSize) == [12, 15, 18, 21])
        #expect(try alWorkspace.feedbackLog().filter { $0.user == "simulated-expert" }.count == 9)
    }

    @Test func reportHasThePapersShape() {
        func row(_ strategy: LoopStrategy, _ seed: UInt64, _ round: Int, _ mcc: Double) -> SimulationRow {
            SimulationRow(strategy: strategy, seed: seed, round: round, trainingSize: 10 + round, accuracy: 0.5, f1: 0.5, mcc: mcc)
        }
        let rows = [row(.al, 1, 0, 0.2), row(.al, 2, 0, 0.4), row(.al, 1, 1, 0.5), row(.al, 2, 1, 0.7),
                    row(.caipi, 1, 0, 0.2), row(.caipi, 2, 0, 0.4), row(.caipi, 1, 1, 0.8), row(.caipi, 2, 1, 0.8)]
        let csv = SimulationReport.csv(rows).split(separator: "\n")
        #expect(csv[0] == "strategy,seed,round,train_size,accuracy,f1,mcc" && csv[3] == "al,1,1,11,0.5000,0.5000,0.5000" && csv.count == 9)
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
