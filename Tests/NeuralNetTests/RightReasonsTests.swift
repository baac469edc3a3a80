import NeuralNet
import SeededRandom
import Testing

/// The right-reasons loss on the class activation map: the map adds up to the logit gap, the
/// loss is its definition, and its gradients through `fc` and the whole backbone match
/// finite differences (on whichever backend the suite runs: `make test` runs both).
@Suite struct RightReasonsTests {
    static let tiny = ResNetConfiguration(architecture: "tiny", widths: [4, 4, 6, 8], blocks: [1, 1, 1, 1],
                                          inputChannels: 2, inputSize: 64, classCount: 2)

    @Test func theClassMapAddsUpToTheLogitGap() {
        let net = ResNet(Self.tiny, seed: 31)
        let images = Tensor(shape: [3, 2, 64, 64], data: GradientCheckTests.randomValues(3 * 2 * 64 * 64, seed: 32))
        net.computesClassMap = true
        let (logits, _) = net.forward(images, training: true)
        let cam = net.classMaps(target: 1, other: 0)
        #expect(cam.shape == [3, 1, 2, 2])
        let biasGap = net.fc.bias.value[1] - net.fc.bias.value[0]
        for n in 0..<3 {
            let mean = cam.data[(n * 4)..<((n + 1) * 4)].reduce(0, +) / 4
            #expect(abs(mean + biasGap - (logits.data[n * 2 + 1] - logits.data[n * 2])) < 1e-4)
        }
        // Without the flag a forward keeps nothing.
        net.computesClassMap = false
        _ = net.forward(images, training: true)
        #expect(net.lastFinalFeatures == nil)
    }

    @Test func theLossIsItsDefinitionAndItsGradient() {
        var random = SplitMix64(seed: 7)
        let shape = [4, 1, 2, 2]
        var cam = (0..<16).map { _ in random.uniform(-2, 2) }
        // Image 0: a region in its first cell; image 1: a region, weight ½; image 2: no region
        // (a good part); image 3: a region but weight 0.
        var shares = [Float](repeating: 0, count: 16)
        shares[0] = 0.3
        shares[5] = 1
        shares[14] = 0.5
        let weights: [Float] = [1, 0.5, 1, 0]
        let (loss, gradient) = RightReasonsLoss.loss(classMaps: Tensor(shape: shape, data: cam), shares: Tensor(shape: shape, data: shares),
                                                     weights: weights)
        // By hand: mean relu(cam) over the three cells outside, weighted 1 and ½, over 1.5.
        func outside(_ n: Int) -> Double {
            (0..<4).filter { shares[n * 4 + $0] == 0 }.map { Double(max(cam[n * 4 + $0], 0)) }.reduce(0, +) / 3
        }
        #expect(abs(Double(loss) - (outside(0) + 0.5 * outside(1)) / 1.5) < 1e-6)
        #expect(gradient.data[0] == 0 && gradient.data[5] == 0, "the region itself is not blamed")
        #expect(gradient.data[8..<16].allSatisfy { $0 == 0 }, "a part without a region, or of weight 0, is left out")
        GradientCheckTests.check("reasons ∂cam", values: &cam, analytic: gradient.data, samples: 16, epsilon: 1e-3) {
            RightReasonsLoss.loss(classMaps: Tensor(shape: shape, data: $0), shares: Tensor(shape: shape, data: shares), weights: weights).loss
        }
        #expect(RightReasonsLoss.loss(classMaps: Tensor(shape: shape, data: cam), shares: Tensor(zeros: shape), weights: weights).loss == 0)
    }

    /// L = cross-entropy + the right-reasons loss; gradients of fc, the last stage and earlier
    /// stages against finite differences.
    @Test func gradientsThroughTheClassMapMatchFiniteDifferences() {
        let net = ResNet(Self.tiny, seed: 41)
        // The NOK row mostly above the OK row: with features ≥ 0 (after a ReLU) the class map
        // is then clearly positive in most cells, away from relu's kink at 0.
        var random = SplitMix64(seed: 43)
        let width = net.fc.inFeatures
        for c in 0..<width { net.fc.weight.value[width + c] = net.fc.weight.value[c] + random.uniform(-0.1, 0.6) }
        let images = GradientCheckTests.randomValues(3 * 2 * 64 * 64, seed: 42)
        let labels = [1, 1, 0]
        var shares = [Float](repeating: 0, count: 12)
        shares[1] = 1
        shares[4] = 0.5
        let shareTensor = Tensor(shape: [3, 1, 2, 2], data: shares)
        let tensor = { (v: [Float]) in Tensor(shape: [3, 2, 64, 64], data: v) }
        let total = { () -> (Float, Tensor, Tensor) in
            let (logits, _) = net.forward(tensor(images), training: true)
            let (ce, dLogits) = softmaxCrossEntropy(logits: logits, labels: labels)
            let (reasons, dCam) = RightReasonsLoss.loss(classMaps: net.classMaps(target: 1, other: 0), shares: shareTensor,
                                                        weights: [1, 1, 1])
            return (ce + 4 * reasons, dLogits, Tensor(shape: dCam.shape, data: dCam.data.map { 4 * $0 }))
        }
        net.computesClassMap = true
        net.zeroGradients()
        let (_, dLogits, dCam) = total()
        #expect(dCam.data.contains { $0 != 0 }, "the loss has something to say on these images")
        net.backward(dLogits, classMapGradient: (dCam, 1, 0))
        let errors = GradientCheckTests.parameterErrors(of: net, names: [
            "fc.weight", "fc.bias", "layer4.0.conv2.weight", "layer4.0.bn2.weight", "layer3.0.conv1.weight", "layer2.0.conv2.weight"]) {
            total().0
        }
        // fc's gradient has the class map's share on top of the cross-entropy's: tight. Through
        // the backbone a few entries may cross a ReLU or max-pool kink within ε (the class
        // map's share flows down the same backward as the pool's; conv1, below the max pool,
        // crosses its kinks most and is checked with the whole network in GradientCheckTests).
        #expect(errors["fc.weight"]!.allSatisfy { $0 < 0.02 } && errors["fc.bias"]!.allSatisfy { $0 < 0.02 }, "\(errors)")
        GradientCheckTests.expectBackboneErrors(errors, except: "fc", atLeast: 30)
        // The loss reaches the backbone: without it the last stage's gradient differs.
        let withReasons = net.namedParameters.first { $0.0 == "layer4.0.conv2.weight" }!.1.gradient
        net.computesClassMap = false
        let without = GradientCheckTests.crossEntropyGradient(of: net, name: "layer4.0.conv2.weight", images: tensor(images), labels: labels)
        #expect(zip(withReasons, without).map { abs($0 - $1) }.max()! > 1e-4)
    }
}
