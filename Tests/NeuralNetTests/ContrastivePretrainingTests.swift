import FileAccess
import NeuralNet
import SeededRandom
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Self-supervised pretraining: the loss against its definition on embeddings made by hand,
/// its gradient against finite differences, a run that learns, and a resumed run that is the
/// uninterrupted one.
@Suite struct ContrastivePretrainingTests {
    /// NT-Xent straight from its definition, in double precision.
    static func definition(_ rows: [[Double]], temperature: Double) -> Double {
        let unit = rows.map { row in row.map { $0 / max(row.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-12) } }
        let n = rows.count
        var total = 0.0
        for i in 0..<n {
            let positive = (i + n / 2) % n
            func s(_ k: Int) -> Double { zip(unit[i], unit[k]).map(*).reduce(0, +) / temperature }
            total += -s(positive) + log((0..<n).filter { $0 != i }.map { exp(s($0)) }.reduce(0, +))
        }
        return total / Double(n)
    }

    @Test func lossOnHandMadeEmbeddings() {
        let tau: Float = 0.5
        // Each image's two views point the same way, the two images at right angles: the
        // positive has similarity 1, both negatives 0 — ℓ = log(e^{1/τ} + 2) − 1/τ for every row.
        let aligned = Tensor(shape: [4, 3], data: [1, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0.5, 0])
        let expected = log(exp(1 / Double(tau)) + 2) - 1 / Double(tau)
        #expect(abs(Double(NTXent.loss(aligned, temperature: tau).loss) - expected) < 1e-5)
        // Collapsed (every row the same direction): nothing told apart, ℓ = log(2N − 1).
        let collapsed = Tensor(shape: [4, 2], data: [1, 1, 2, 2, 1, 1, 3, 3])
        #expect(abs(NTXent.loss(collapsed, temperature: tau).loss - logf(3)) < 1e-5)
        // Pairs pushed apart (each view closer to the other image) cost more than both.
        let swapped = Tensor(shape: [4, 3], data: [1, 0, 0, 0, 2, 0, 0, 1, 0, 2, 0, 0])
        #expect(NTXent.loss(swapped, temperature: tau).loss > logf(3))
        // Random rows: the definition, computed independently.
        let values = GradientCheckTests.randomValues(6 * 5, seed: 9)
        let rows = (0..<6).map { r in (0..<5).map { Double(values[r * 5 + $0]) } }
        let loss = NTXent.loss(Tensor(shape: [6, 5], data: values), temperature: 0.2).loss
        #expect(abs(Double(loss) - Self.definition(rows, temperature: 0.2)) < 1e-4)
    }

    @Test func lossGradientMatchesFiniteDifferences() {
        var values = GradientCheckTests.randomValues(8 * 6, seed: 4)
        let (_, gradient) = NTXent.loss(Tensor(shape: [8, 6], data: values), temperature: 0.3)
        GradientCheckTests.check("NT-Xent ∂z", values: &values, analytic: gradient.data, samples: 48, epsilon: 1e-3) {
            NTXent.loss(Tensor(shape: [8, 6], data: $0), temperature: 0.3).loss
        }
    }

    @Test func negativeCosineOnHandMadeVectors() {
        // Each prediction points the way of its partner's projection, whatever the lengths: −1.
        let z = Tensor(shape: [4, 2], data: [1, 0, 0, 2, 3, 0, 0, 1])
        let p = Tensor(shape: [4, 2], data: [5, 0, 0, 1, 1, 0, 0, 7])
        #expect(abs(NegativeCosine.loss(predictions: p, targets: z).loss + 1) < 1e-6)
        // At right angles to the partner: 0; opposite: +1.
        let across = Tensor(shape: [4, 2], data: [0, 1, 1, 0, 0, 1, 1, 0])
        #expect(abs(NegativeCosine.loss(predictions: across, targets: z).loss) < 1e-6)
        let opposite = Tensor(shape: [4, 2], data: [-1, 0, 0, -1, -1, 0, 0, -1])
        #expect(abs(NegativeCosine.loss(predictions: opposite, targets: z).loss - 1) < 1e-6)
    }

    @Test func negativeCosineGradientMatchesFiniteDifferences() {
        var values = GradientCheckTests.randomValues(6 * 5, seed: 6)
        let targets = Tensor(shape: [6, 5], data: GradientCheckTests.randomValues(6 * 5, seed: 7))
        let (_, gradient) = NegativeCosine.loss(predictions: Tensor(shape: [6, 5], data: values), targets: targets)
        GradientCheckTests.check("negative cosine ∂p", values: &values, analytic: gradient.data, samples: 30, epsilon: 1e-3) {
            NegativeCosine.loss(predictions: Tensor(shape: [6, 5], data: $0), targets: targets).loss
        }
    }

    @Test func projectionHeadGradientMatchesFiniteDifferences() {
        var random = SplitMix64(seed: 2)
        let head = ProjectionHead(inFeatures: 5, hidden: 7, outFeatures: 3, random: &random)
        head.setTraining(true)
        var input = GradientCheckTests.randomValues(4 * 5, seed: 3)
        let r = GradientCheckTests.randomValues(4 * 3, seed: 5)
        _ = head(Tensor(shape: [4, 5], data: input))
        let dx = head.backward(Tensor(shape: [4, 3], data: r))
        GradientCheckTests.check("head ∂h", values: &input, analytic: dx.data, epsilon: 1e-3) {
            GradientCheckTests.weightedSum(head(Tensor(shape: [4, 5], data: $0)).data, r)
        }
    }

    /// Small, but 16 channels wide throughout: oneDNN has fast kernels for its backward passes
    /// (at 4 or 8 channels it falls back to its slow reference code).
    static let small = ResNetConfiguration(architecture: "small", widths: [16, 16, 16, 16], blocks: [1, 1, 1, 1],
                                           inputChannels: 1, inputSize: 32, classCount: 2)

    static func options(epochs: Int) -> PretrainingOptions {
        var options = PretrainingOptions()
        options.epochs = epochs
        options.batchSize = 6
        options.learningRate = 0.01
        options.projectionSize = 8
        options.seed = 3
        return options
    }

    static func images() -> Tensor { TrainingTests.squares(count: 14, seed: 8).images }

    @Test func theLossFallsAsTheBackboneLearns() {
        let run = ContrastivePretraining(model: ResNet(Self.small, seed: 1), options: Self.options(epochs: 25))
        let images = Self.images()
        while !run.isFinished { run.runEpoch(on: images) }
        #expect(run.losses.count == 25)
        // Chance for 2 × 6 views is log(11) ≈ 2.40.
        #expect(run.losses[0] > 2 && run.losses.suffix(5).reduce(0, +) / 5 < run.losses[0] - 0.3, "\(run.losses)")
    }

    @Test func aResumedRunIsTheUninterruptedRun() throws {
        var template = Array("/tmp/nearcaipi-pretrain-XXXXXX".utf8CString)
        let directory = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
        defer { try? BinaryFile.removeTree(directory) }
        let images = Self.images(), options = Self.options(epochs: 3)
        let info = CheckpointInfo(configuration: Self.small, classNames: ["ok", "nok"], mean: [0], std: [1])

        let whole = ContrastivePretraining(model: ResNet(Self.small, seed: 1), options: options)
        while !whole.isFinished { whole.runEpoch(on: images) }

        // Stopped in the middle of epoch 2: only epoch 1 was saved.
        let first = ContrastivePretraining(model: ResNet(Self.small, seed: 1), options: options)
        first.runEpoch(on: images)
        try first.save(info: info, notes: ["images": "14"], to: directory + "/state.safetensors")
        #expect(first.runEpoch(on: images) { $0.batch < 2 } == false && first.epochsDone == 1)

        let (resumed, savedInfo) = try ContrastivePretraining.resume(from: directory + "/state.safetensors", options: options)
        #expect(savedInfo == info && resumed.epochsDone == 1)
        while !resumed.isFinished { resumed.runEpoch(on: images) }
        #expect(resumed.losses == whole.losses)
        for ((name, a), (_, b)) in zip(whole.model.namedParameters, resumed.model.namedParameters) {
            #expect(a.value.map(\.bitPattern) == b.value.map(\.bitPattern), "\(name) differs")
        }
        let saved = try ContrastivePretraining.savedProgress(at: directory + "/state.safetensors")
        #expect(saved.epochsDone == 1 && saved.epochs == 3 && saved.notes["images"] == "14")

        // Other options: refused, naming both.
        var other = options
        other.temperature = 0.7
        #expect(throws: CheckpointError.self) { try ContrastivePretraining.resume(from: directory + "/state.safetensors", options: other) }
        other = options
        other.method = .simsiam
        #expect(throws: CheckpointError.self) { try ContrastivePretraining.resume(from: directory + "/state.safetensors", options: other) }
    }

    @Test func simSiamLearnsAndResumesWithItsPredictor() throws {
        var template = Array("/tmp/nearcaipi-simsiam-XXXXXX".utf8CString)
        let directory = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
        defer { try? BinaryFile.removeTree(directory) }
        var options = Self.options(epochs: 3)
        options.method = .simsiam
        let images = Self.images()
        let info = CheckpointInfo(configuration: Self.small, classNames: ["ok", "nok"], mean: [0], std: [1])
        var longer = options
        longer.epochs = 15
        let learning = ContrastivePretraining(model: ResNet(Self.small, seed: 1), options: longer)
        while !learning.isFinished { learning.runEpoch(on: images) }
        // The negative cosine lies in [−1, 1] and falls as the views come to agree.
        #expect(learning.losses.allSatisfy { $0 >= -1 && $0 <= 1 }, "\(learning.losses)")
        #expect(learning.losses.suffix(3).reduce(0, +) / 3 < learning.losses[0] - 0.2, "\(learning.losses)")

        let whole = ContrastivePretraining(model: ResNet(Self.small, seed: 1), options: options)
        while !whole.isFinished { whole.runEpoch(on: images) }

        let first = ContrastivePretraining(model: ResNet(Self.small, seed: 1), options: options)
        first.runEpoch(on: images)
        try first.save(info: info, to: directory + "/state.safetensors")
        let (resumed, _) = try ContrastivePretraining.resume(from: directory + "/state.safetensors", options: options)
        while !resumed.isFinished { resumed.runEpoch(on: images) }
        #expect(resumed.losses == whole.losses)
        for ((name, a), (_, b)) in zip(whole.predictor!.namedParameters, resumed.predictor!.namedParameters) {
            #expect(a.value.map(\.bitPattern) == b.value.map(\.bitPattern), "predictor \(name) differs")
        }
    }
}
