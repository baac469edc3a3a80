import FileAccess
import Foundation
import NeuralNet
import SeededRandom
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The dense defect head: its loss against the definition, its gradients through the whole
/// network against finite differences (on whichever backend the suite runs: `make test`
/// runs both), and its place in checkpoints.
@Suite struct DefectHeadTests {
    static let tiny = ResNetConfiguration(architecture: "tiny", widths: [4, 4, 6, 8], blocks: [1, 1, 1, 1],
                                          inputChannels: 2, inputSize: 64, classCount: 2).withDefectHead(true)

    /// The loss straight from its definition, in double precision.
    static func definition(_ z: [Float], _ t: [Float], weights: [Float], cells: Int) -> Double {
        var positive = 0.0, negative = 0.0, total = 0.0
        for (n, w) in weights.enumerated() where w > 0 {
            for i in (n * cells)..<((n + 1) * cells) {
                positive += Double(w * t[i])
                negative += Double(w * (1 - t[i]))
            }
            total += Double(w) * Double(cells)
        }
        let alpha = positive > 0 ? min(max(negative / positive, 1), 50) : 1
        var loss = 0.0
        for (n, w) in weights.enumerated() where w > 0 {
            for i in (n * cells)..<((n + 1) * cells) {
                let p = 1 / (1 + exp(-Double(z[i])))
                loss -= Double(w) * (alpha * Double(t[i]) * log(p) + (1 - Double(t[i])) * log(1 - p))
            }
        }
        return loss / total
    }

    @Test func mapLossMatchesItsDefinitionAndItsGradient() {
        var random = SplitMix64(seed: 4)
        let shape = [3, 1, 4, 4]
        var z = (0..<48).map { _ in random.uniform(-3, 3) }
        // A few defect cells, partly covered; the third image's map is unknown (weight 0).
        var t = [Float](repeating: 0, count: 48)
        for i in [1, 2, 5, 20, 21, 40] { t[i] = random.uniform(0.2, 1) }
        let weights: [Float] = [1, 0.5, 0]
        let (loss, gradient) = DefectMapLoss.loss(logits: Tensor(shape: shape, data: z), targets: Tensor(shape: shape, data: t),
                                                  weights: weights)
        #expect(abs(Double(loss) - Self.definition(z, t, weights: weights, cells: 16)) < 1e-5)
        #expect(gradient.data[32..<48].allSatisfy { $0 == 0 }, "an image of weight 0 gets no gradient")
        GradientCheckTests.check("map loss ∂z", values: &z, analytic: gradient.data, samples: 48, epsilon: 1e-3) {
            DefectMapLoss.loss(logits: Tensor(shape: shape, data: $0), targets: Tensor(shape: shape, data: t), weights: weights).loss
        }
        // No defect anywhere: plain cross-entropy towards empty maps; nothing weighed: zero.
        let empty = DefectMapLoss.loss(logits: Tensor(shape: shape, data: z), targets: Tensor(zeros: shape), weights: [1, 1, 1])
        #expect(abs(Double(empty.loss) - Self.definition(z, [Float](repeating: 0, count: 48), weights: [1, 1, 1], cells: 16)) < 1e-5)
        #expect(DefectMapLoss.loss(logits: Tensor(shape: shape, data: z), targets: Tensor(shape: shape, data: t),
                                   weights: [0, 0, 0]).loss == 0)
    }

    @Test func theMapHasOneCellPerSixteenPixels() {
        #expect(ResNetConfiguration.resnet18w4().defectMapSize == (8, 8))
        #expect(ResNetConfiguration.resnet18().defectMapSize == (14, 14))
        let net = ResNet(Self.tiny, seed: 3)
        let maps = net.defectMaps(Tensor(shape: [2, 2, 64, 64], data: GradientCheckTests.randomValues(2 * 2 * 64 * 64, seed: 5)))
        #expect(maps?.shape == [2, 1, 4, 4] && maps!.data.allSatisfy { $0 > 0 && $0 < 1 })
        // Without a head there is no map, and the forward is the plain network's.
        #expect(ResNet(Self.tiny.withDefectHead(false), seed: 3).defectMaps(Tensor(zeros: [1, 2, 64, 64])) == nil)
    }

    /// L = cross-entropy of the image output + the map loss; every checked gradient — before,
    /// in and after the tapped stage, and the head's own — against finite differences.
    @Test func gradientsThroughTheHeadMatchFiniteDifferences() {
        let net = ResNet(Self.tiny, seed: 21)
        let images = GradientCheckTests.randomValues(3 * 2 * 64 * 64, seed: 22)
        let labels = [0, 1, 1]
        let (h, w) = Self.tiny.defectMapSize
        var targets = [Float](repeating: 0, count: 3 * h * w)
        for i in [h * w + 5, h * w + 6, 2 * h * w + 9] { targets[i] = 1 }
        targets[2 * h * w + 10] = 0.4
        let targetTensor = Tensor(shape: [3, 1, h, w], data: targets)
        let tensor = { (v: [Float]) in Tensor(shape: [3, 2, 64, 64], data: v) }
        let total = { () -> (Float, Tensor, Tensor) in
            let (logits, _) = net.forward(tensor(images), training: true)
            let (ce, dLogits) = softmaxCrossEntropy(logits: logits, labels: labels)
            let (map, dMap) = DefectMapLoss.loss(logits: net.lastDefectMap!, targets: targetTensor, weights: [1, 1, 0.5])
            return (ce + map, dLogits, dMap)
        }
        net.computesDefectMap = true
        net.zeroGradients()
        let (_, dLogits, dMap) = total()
        net.backward(dLogits, defectMapGradient: dMap)
        let errors = GradientCheckTests.parameterErrors(of: net, names: [
            "conv1.weight", "layer2.0.conv1.weight", "layer3.0.conv2.weight", "layer3.0.bn2.weight", "layer4.0.conv1.weight",
            "defect_head.weight", "defect_head.bias"]) { total().0 }
        // The head's own parameters see no kink: tight. Through the backbone a few entries may
        // cross a ReLU or max-pool kink within ε, as in the whole-network check.
        #expect(errors["defect_head.weight"]!.allSatisfy { $0 < 0.02 } && errors["defect_head.bias"]!.allSatisfy { $0 < 0.02 },
                "\(errors)")
        GradientCheckTests.expectBackboneErrors(errors, except: "defect_head", atLeast: 35)
        // The map loss reaches the backbone: without it, the tapped stage's gradient differs.
        let withMap = net.namedParameters.first { $0.0 == "layer3.0.conv2.weight" }!.1.gradient
        net.computesDefectMap = false
        let without = GradientCheckTests.crossEntropyGradient(of: net, name: "layer3.0.conv2.weight", images: tensor(images), labels: labels)
        #expect(zip(withMap, without).map { abs($0 - $1) }.max()! > 1e-4)
    }

    @Test func aCheckpointKeepsTheHead() throws {
        let directory = FileManager.default.temporaryDirectory.path + "/defect-head-\(getpid())"
        try BinaryFile.createDirectory(directory)
        defer { try? BinaryFile.removeTree(directory) }
        let net = ResNet(Self.tiny, seed: 8)
        let info = CheckpointInfo(configuration: Self.tiny, classNames: ["ok", "nok"], mean: [0.5, 0.5], std: [0.2, 0.2])
        try Checkpoint.save(net, info: info, to: directory + "/with.safetensors")
        let (loaded, loadedInfo) = try Checkpoint.load(directory + "/with.safetensors")
        #expect(loadedInfo.configuration.hasDefectHead && loaded.defectHead?.weight.value == net.defectHead?.weight.value)
        let images = Tensor(shape: [1, 2, 64, 64], data: GradientCheckTests.randomValues(2 * 64 * 64, seed: 9))
        #expect(loaded.defectMaps(images)?.data == net.defectMaps(images)?.data)
        // A network without a head writes no such tensor or metadata: torchvision's names only.
        let plain = ResNet(Self.tiny.withDefectHead(false), seed: 8)
        try Checkpoint.save(plain, info: CheckpointInfo(configuration: Self.tiny.withDefectHead(false), classNames: ["ok", "nok"],
                                                        mean: [0.5, 0.5], std: [0.2, 0.2]), to: directory + "/without.safetensors")
        let reloaded = try Checkpoint.load(directory + "/without.safetensors")
        #expect(!reloaded.info.configuration.hasDefectHead && reloaded.model.defectHead == nil)
        #expect(!reloaded.model.namedParameters.contains { $0.0.hasPrefix("defect_head") })
    }
}
