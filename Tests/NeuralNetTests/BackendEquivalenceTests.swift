import Foundation
import NeuralNet
import Testing

/// The oneDNN backend computes what the OpenBLAS reference computes: the same network, the
/// same weights and images, through both. Agreement is relative to each tensor's largest
/// magnitude, so a gradient of 1e-6 next to one of 1 is not held to 1e-4 of itself.
@Suite struct BackendEquivalenceTests {
    static func largestRelativeGap(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        let scale = max(b.map(abs).max() ?? 0, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    /// Two copies of one network, one per backend.
    static func pair(_ configuration: ResNetConfiguration, seed: UInt64) -> (reference: ResNet, oneDNN: ResNet) {
        let reference = ResNet(configuration, seed: seed), fast = ResNet(configuration, seed: seed)
        reference.backend = .openBLAS
        fast.backend = .oneDNN
        // Non-trivial batch-norm parameters and statistics, so folding is exercised.
        var random = SplitMix64Like(seed: seed &+ 1)
        for ((name, p), (_, q)) in zip(reference.namedParameters, fast.namedParameters) where p.shape.count == 1 {
            p.value = p.value.map { name.hasSuffix("running_mean") ? random.next() * 0.1 : $0 + random.next() * 0.2 }
            q.value = p.value
        }
        return (reference, fast)
    }

    static let configurations: [ResNetConfiguration] = [
        .resnet18w4(inputChannels: 3, inputSize: 64, classCount: 2),
        // Widths that are no multiple of oneDNN's channel blocks, one input channel.
        ResNetConfiguration(architecture: "odd", widths: [5, 12, 20, 24], blocks: [1, 2, 1, 1],
                            inputChannels: 1, inputSize: 40, classCount: 3),
    ]

    static func images(_ configuration: ResNetConfiguration, batch: Int, seed: UInt64) -> Tensor {
        var random = SplitMix64Like(seed: seed)
        let size = configuration.inputSize
        return Tensor(shape: [batch, configuration.inputChannels, size, size],
                      data: (0..<(batch * configuration.inputChannels * size * size)).map { _ in random.next() })
    }

    @Test(.enabled(if: DNNL.isAvailable), arguments: configurations)
    func inferenceAgrees(_ configuration: ResNetConfiguration) {
        let (reference, fast) = Self.pair(configuration, seed: 5)
        let images = Self.images(configuration, batch: 3, seed: 6)
        let expected = reference.forward(images, training: false), actual = fast.forward(images, training: false)
        #expect(fast.lastForwardBackend == .oneDNN && reference.lastForwardBackend == .openBLAS)
        #expect(expected.embedding.data.filter { $0 > 0 }.count > expected.embedding.count / 4, "a live network")
        #expect(Self.largestRelativeGap(actual.embedding.data, expected.embedding.data) < 1e-4)
        #expect(Self.largestRelativeGap(actual.logits.data, expected.logits.data) < 1e-4)
        // A changed weight reaches the folded copy.
        for model in [reference, fast] { model.conv1.weight.value[0] += 0.5 }
        let after = (reference.forward(images, training: false), fast.forward(images, training: false))
        #expect(after.0.embedding.data != expected.embedding.data)
        #expect(Self.largestRelativeGap(after.1.embedding.data, after.0.embedding.data) < 1e-4)
    }

    /// bfloat16 inference (the heatmaps' passes) stays within bfloat16's rounding of the
    /// float32 result: embeddings within 3 % of their largest magnitude, logits within 3 % —
    /// 8 significant bits per product, float32 sums — and it runs bf16 kernels where the CPU
    /// has them. Where it does not, the pass is the float32 pass, value for value.
    @Test(.enabled(if: DNNL.isAvailable), arguments: configurations)
    func bfloat16InferenceStaysWithinItsRounding(_ configuration: ResNetConfiguration) {
        let (_, model) = Self.pair(configuration, seed: 5)
        let images = Self.images(configuration, batch: 4, seed: 6)
        model.setTraining(false)
        let float32 = model.forward(images, precision: .float32), bfloat16 = model.forward(images, precision: .bfloat16)
        guard DNNL.multipliesBFloat16Natively else {
            #expect(bfloat16.embedding.data == float32.embedding.data)
            return
        }
        let kernels = model.oneDNNImplementations(batch: 4, training: false, precision: .bfloat16) ?? []
        #expect(kernels.contains { $0.implementation.contains("bf16") }, "\(kernels.map(\.implementation))")
        #expect(bfloat16.embedding.data != float32.embedding.data, "the bfloat16 pass ran in float32")
        #expect(Self.largestRelativeGap(bfloat16.embedding.data, float32.embedding.data) < 0.03)
        #expect(Self.largestRelativeGap(bfloat16.logits.data, float32.logits.data) < 0.03)
    }

    @Test(.enabled(if: DNNL.isAvailable), arguments: configurations)
    func trainingStepAgrees(_ configuration: ResNetConfiguration) {
        let (reference, fast) = Self.pair(configuration, seed: 7)
        let images = Self.images(configuration, batch: 4, seed: 8)
        let labels = (0..<4).map { $0 % configuration.classCount }
        var logits: [[Float]] = []
        for model in [reference, fast] {
            model.zeroGradients()
            let output = model.forward(images, training: true)
            logits.append(output.logits.data)
            #expect(model.lastForwardBackend == model.backend)
            model.backward(softmaxCrossEntropy(logits: output.logits, labels: labels).gradient)
        }
        #expect(Self.largestRelativeGap(logits[1], logits[0]) < 1e-4, "training logits")
        for ((name, p), (_, q)) in zip(reference.namedParameters, fast.namedParameters) {
            if p.isTrainable {
                let gap = Self.largestRelativeGap(q.gradient, p.gradient)
                if ProcessInfo.processInfo.environment["SHOW_GAPS"] != nil { print("gap \(name) \(gap)") }
                #expect(gap < 1e-4, "∂\(name): relative gap \(gap)")
            } else {
                let gap = Self.largestRelativeGap(q.value, p.value)
                #expect(gap < 1e-4, "\(name) after the step: relative gap \(gap)")
            }
        }
        // One SGD step each: the weights stay together.
        for model in [reference, fast] { SGD(parameters: model.trainableParameters, learningRate: 0.1).step() }
        for ((name, p), (_, q)) in zip(reference.namedParameters, fast.namedParameters) where p.isTrainable {
            let gap = Self.largestRelativeGap(q.value, p.value)
            #expect(gap < 1e-4, "\(name) after one SGD step: relative gap \(gap)")
        }
        #expect(zip(reference.layers(of: BatchNorm2d.self), fast.layers(of: BatchNorm2d.self)).allSatisfy { $0.1.batchesTracked == $1.1.batchesTracked })
    }
}

/// A tiny deterministic generator for test data, uniform in [−1, 1).
struct SplitMix64Like {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 23) - 1
    }
}

/// The cores are shared, never oversubscribed, when a heatmap and a training run at once.
@Suite struct CoreShareTests {
    @Test func explainingAndTrainingSplitTheCores() throws {
        let cores = CoreShare.cores
        #expect(CoreShare.threads(for: .explaining) == cores)
        let (alone, together) = CoreShare.run(as: .explaining) { () -> (Int, Int) in
            let alone = CoreShare.threads(for: .explaining)
            // A training thread starts while this heatmap computes.
            final class Panel: @unchecked Sendable { var threads = 0 }
            let training = Panel()
            var explaining = 0
            let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
            let thread = Thread {
                CoreShare.run(as: .training) {
                    training.threads = CoreShare.threads(for: .training)
                    started.signal()
                    release.wait()
                }
            }
            thread.start()
            started.wait()
            explaining = CoreShare.threads(for: .explaining)
            release.signal()
            return (alone, training.threads + explaining)
        }
        #expect(alone == cores)
        #expect(together == max(cores, 2), "explaining and training together use every core once (one each on 2 cores)")
    }
}
