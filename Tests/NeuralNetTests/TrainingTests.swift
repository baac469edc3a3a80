import NeuralNet
import SeededRandom
import Testing

@Suite struct TrainingTests {
    static let tiny = ResNetConfiguration(architecture: "tiny", widths: [4, 8, 8, 8], blocks: [1, 1, 1, 1],
                                          inputChannels: 1, inputSize: 32, classCount: 2)

    /// 32×32 noise; class 1 carries a bright 6×6 square somewhere.
    static func squares(count: Int, seed: UInt64) -> LabelledImages {
        var random = SplitMix64(seed: seed)
        var data = [Float](repeating: 0, count: count * 32 * 32)
        var labels: [Int] = []
        for n in 0..<count {
            let label = n % 2
            labels.append(label)
            for i in 0..<(32 * 32) { data[n * 1024 + i] = random.uniform(-0.3, 0.3) }
            if label == 1 {
                let x0 = random.integer(2, 24), y0 = random.integer(2, 24)
                for y in y0..<(y0 + 6) { for x in x0..<(x0 + 6) { data[n * 1024 + y * 32 + x] += 1.5 } }
            }
        }
        return LabelledImages(images: Tensor(shape: [count, 1, 32, 32], data: data), labels: labels)
    }

    static func options(epochs: Int) -> TrainingOptions {
        var options = TrainingOptions()
        options.method = .adam(learningRate: 0.01)
        options.epochs = epochs
        options.batchSize = 8
        options.augment = false
        options.seed = 4
        return options
    }

    @Test func tinyNetOverfitsTinyDataset() {
        let data = Self.squares(count: 16, seed: 1)
        let model = ResNet(Self.tiny, seed: 2)
        let before = Trainer.evaluate(model, on: data)
        let report = Trainer.train(model, on: data, options: Self.options(epochs: 40))
        let after = Trainer.evaluate(model, on: data)
        #expect(report.epochsRun == 40)
        #expect(after.accuracy == 1, "accuracy \(after.accuracy) after 40 epochs")
        #expect(after.loss < before.loss / 4)
    }

    @Test func sameSeedSameWeights() {
        let data = Self.squares(count: 12, seed: 3)
        var options = Self.options(epochs: 3)
        options.augment = true
        options.method = .sgd(learningRate: 0.05, momentum: 0.9)
        options.classWeighting = .balanced
        let a = ResNet(Self.tiny, seed: 5), b = ResNet(Self.tiny, seed: 5)
        Trainer.train(a, on: data, options: options)
        Trainer.train(b, on: data, options: options)
        for ((name, p), (_, q)) in zip(a.namedParameters, b.namedParameters) {
            #expect(p.value.map(\.bitPattern) == q.value.map(\.bitPattern), "\(name) differs")
        }
        options.seed = 99
        let c = ResNet(Self.tiny, seed: 5)
        Trainer.train(c, on: data, options: options)
        #expect(c.fc.weight.value != a.fc.weight.value)
    }

    /// Head-only epochs leave every weight but the output layer's exactly as it was (batch
    /// normalisation's running statistics, which are not weights, still follow the batches);
    /// after them the whole network trains.
    @Test func headOnlyEpochsHoldTheBackbone() {
        let data = Self.squares(count: 12, seed: 6)
        var options = Self.options(epochs: 3)
        options.headOnlyEpochs = 3
        let start = ResNet(Self.tiny, seed: 7), probed = ResNet(Self.tiny, seed: 7), tuned = ResNet(Self.tiny, seed: 7)
        Trainer.train(probed, on: data, options: options)
        options.headOnlyEpochs = 2
        Trainer.train(tuned, on: data, options: options)
        var backboneMoved = false
        for (((name, p), (_, q)), (_, r)) in zip(zip(start.namedParameters, probed.namedParameters), tuned.namedParameters) {
            guard p.isTrainable else { continue }
            if name.hasPrefix("fc.") {
                #expect(p.value != q.value, "\(name) did not train")
            } else {
                #expect(p.value.map(\.bitPattern) == q.value.map(\.bitPattern), "\(name) moved during head-only epochs")
                if p.value != r.value { backboneMoved = true }
            }
        }
        #expect(backboneMoved, "the backbone did not train after the head-only epochs")
    }

    @Test func earlyStoppingKeepsTheBestEpoch() {
        let train = Self.squares(count: 8, seed: 6)
        // Validation labels are noise: its loss soon stops improving while training overfits.
        var validation = Self.squares(count: 8, seed: 7)
        validation.labels = validation.labels.map { 1 - $0 }
        var options = Self.options(epochs: 60)
        options.patience = 3
        let model = ResNet(Self.tiny, seed: 8)
        let report = Trainer.train(model, on: train, validation: validation, options: options)
        #expect(report.stoppedEarly && report.epochsRun < 60)
        #expect(report.epochsRun == report.bestEpoch + 3)
        let restored = Trainer.evaluate(model, on: validation)
        #expect(abs(restored.loss - report.bestValidationLoss!) < 1e-5)
    }

    @Test func progressReportsAndCancels() {
        let data = Self.squares(count: 16, seed: 9)
        var calls: [TrainingProgress] = []
        let report = Trainer.train(ResNet(Self.tiny, seed: 1), on: data, options: Self.options(epochs: 5)) { state in
            calls.append(state)
            return calls.count < 3
        }
        #expect(report.cancelled && calls.count == 3)
        #expect(calls[0].batch == 1 && calls[0].batchesPerEpoch == 2 && calls[0].epoch == 1)
        #expect(calls[2].epoch == 1 || calls[2].epoch == 2)
    }

    @Test func sgdAndAdamFollowPyTorchsRules() {
        // One parameter w = 1 with gradient 0.5, weight decay 0.1 (effective gradient 0.6).
        let p = Parameter(shape: [1], value: [1])
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        p.gradient = [0.5]
        sgd.step()  // v = 0.6, w = 1 − 0.06
        #expect(abs(p.value[0] - 0.94) < 1e-6)
        p.gradient = [0.5]
        sgd.step()  // g = 0.5 + 0.094 = 0.594, v = 0.54 + 0.594 = 1.134, w = 0.94 − 0.1134
        #expect(abs(p.value[0] - 0.8266) < 1e-5)
        let q = Parameter(shape: [1], value: [1])
        let adam = Adam(parameters: [q], learningRate: 0.01)
        q.gradient = [0.5]
        adam.step()  // bias-corrected m/√v = 1: w = 1 − 0.01
        #expect(abs(q.value[0] - 0.99) < 1e-6)
    }
}
