import NeuralNet
import SeededRandom
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Finite-difference checks: for loss L = Σ r ⊙ y with fixed random r, each analytic
/// gradient must match (L(θ + ε) − L(θ − ε)) / 2ε.
@Suite struct GradientCheckTests {
    static func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in random.uniform(-scale, scale) }
    }

    /// Compares analytic and numeric gradients of `loss` with respect to `values`, at up to
    /// `samples` positions. Relative error |a − n| / max(|a| + |n|, floor) must stay below
    /// `tolerance`.
    @discardableResult
    static func check(_ label: String, values: inout [Float], analytic: [Float], samples: Int = 24,
                      epsilon: Float = 1e-2, tolerance: Float = 2e-2, record: Bool = true,
                      loss: ([Float]) -> Float) -> [Float] {
        var errors: [Float] = []
        var random = SplitMix64(seed: 77)
        let positions = values.count <= samples ? Array(values.indices) : (0..<samples).map { _ in random.integer(0, values.count - 1) }
        for i in positions {
            let original = values[i]
            values[i] = original + epsilon
            let plus = loss(values)
            values[i] = original - epsilon
            let minus = loss(values)
            values[i] = original
            let numeric = (plus - minus) / (2 * epsilon)
            let error = abs(analytic[i] - numeric) / max(abs(analytic[i]) + abs(numeric), 1e-2)
            if record { #expect(error < tolerance, "\(label)[\(i)]: analytic \(analytic[i]) numeric \(numeric)") }
            errors.append(error)
        }
        return errors
    }

    /// The relative errors of the gradients already accumulated in `net`'s parameters named in
    /// `names`, 8 entries each, against finite differences of `loss` (a forward and the loss,
    /// every parameter restored after each evaluation); nothing recorded — the caller judges,
    /// since a few entries may cross a ReLU or max-pool kink within ε.
    static func parameterErrors(of net: ResNet, names: Set<String>, loss: @escaping () -> Float) -> [String: [Float]] {
        let restoringLoss = { () -> Float in
            let saved = net.namedParameters.map { $0.1.value }
            defer { for (p, v) in zip(net.namedParameters.map(\.1), saved) { p.value = v } }
            return loss()
        }
        var errors: [String: [Float]] = [:]
        for (name, parameter) in net.namedParameters where parameter.isTrainable && names.contains(name) {
            var values = parameter.value
            errors[name] = check(name, values: &values, analytic: parameter.gradient, samples: 8, epsilon: 1e-3, record: false) { v in
                let keep = parameter.value
                parameter.value = v
                defer { parameter.value = keep }
                return restoringLoss()
            }
        }
        return errors
    }

    /// `parameterErrors` judged for the backbone (every name without `ownPrefix`): at least
    /// `count` entries, all but four within 0.05 and none beyond 0.25 — a few may cross a ReLU
    /// or max-pool kink within ε, as in the whole-network check.
    static func expectBackboneErrors(_ errors: [String: [Float]], except ownPrefix: String, atLeast count: Int) {
        let backbone = errors.filter { !$0.key.hasPrefix(ownPrefix) }.values.flatMap { $0 }
        #expect(backbone.count >= count && backbone.filter { $0 < 0.05 }.count >= backbone.count - 4, "\(errors)")
        #expect(backbone.allSatisfy { $0 < 0.25 }, "\(errors)")
    }

    /// The gradient of parameter `name` from the cross-entropy of one training forward alone
    /// (the caller has switched its extra loss off): what an extra loss must change.
    static func crossEntropyGradient(of net: ResNet, name: String, images: Tensor, labels: [Int]) -> [Float] {
        net.zeroGradients()
        let (logits, _) = net.forward(images, training: true)
        net.backward(softmaxCrossEntropy(logits: logits, labels: labels).gradient)
        return net.namedParameters.first { $0.0 == name }!.1.gradient
    }

    static func weightedSum(_ y: [Float], _ r: [Float]) -> Float {
        var sum: Double = 0
        for i in y.indices { sum += Double(y[i] * r[i]) }
        return Float(sum)
    }

    @Test(arguments: [(3, 1, 1, false), (3, 2, 0, true), (3, 2, 1, false), (1, 1, 0, false), (1, 2, 0, true), (7, 2, 3, false)])
    func convolution(kernel: Int, stride: Int, padding: Int, bias: Bool) {
        var random = SplitMix64(seed: 1)
        let conv = Conv2d(inChannels: 3, outChannels: 4, kernel: kernel, stride: stride, padding: padding, bias: bias, random: &random)
        var input = Self.randomValues(3 * 2 * 9 * 9, seed: 2)
        let x = FeatureMap(channels: 3, batch: 2, height: 9, width: 9, data: input)
        conv.setTraining(true)
        let y = conv(x)
        let r = Self.randomValues(y.data.count, seed: 3)
        let dx = conv.backward(FeatureMap(channels: y.channels, batch: y.batch, height: y.height, width: y.width, data: r))
        let forward = { (values: [Float]) -> Float in
            Self.weightedSum(conv(FeatureMap(channels: 3, batch: 2, height: 9, width: 9, data: values)).data, r)
        }
        Self.check("conv∂x", values: &input, analytic: dx.data, loss: forward)
        let originalWeights = conv.weight.value
        var weights = originalWeights
        let dw = conv.weight.gradient
        Self.check("conv∂W", values: &weights, analytic: dw) { w in
            conv.weight.value = w
            defer { conv.weight.value = originalWeights }
            return Self.weightedSum(conv(x).data, r)
        }
        if let b = conv.bias {
            var biases = b.value
            Self.check("conv∂b", values: &biases, analytic: b.gradient) { v in
                b.value = v
                return Self.weightedSum(conv(x).data, r)
            }
        }
    }

    @Test func batchNormTraining() {
        let bn = BatchNorm2d(channels: 3)
        bn.scale.value = [1.5, -0.7, 0.9]
        bn.shift.value = [0.1, 0.2, -0.3]
        var input = Self.randomValues(3 * 4 * 5 * 5, seed: 4, scale: 2)
        let shape = { (v: [Float]) in FeatureMap(channels: 3, batch: 4, height: 5, width: 5, data: v) }
        bn.setTraining(true)
        let y = bn(shape(input))
        let r = Self.randomValues(y.data.count, seed: 5)
        let dx = bn.backward(shape(r))
        // Training-mode output depends on the batch statistics: recompute them each time.
        let loss = { (v: [Float]) -> Float in
            let probe = BatchNorm2d(channels: 3)
            probe.scale.value = bn.scale.value
            probe.shift.value = bn.shift.value
            probe.setTraining(true)
            return Self.weightedSum(probe(shape(v)).data, r)
        }
        Self.check("bn∂x", values: &input, analytic: dx.data, epsilon: 1e-2, loss: loss)
        var scales = bn.scale.value
        Self.check("bn∂γ", values: &scales, analytic: bn.scale.gradient) { g in
            let probe = BatchNorm2d(channels: 3)
            probe.scale.value = g
            probe.shift.value = bn.shift.value
            probe.setTraining(true)
            return Self.weightedSum(probe(shape(input)).data, r)
        }
        #expect(bn.batchesTracked == 1)
        // Running statistics moved 10 % toward the batch's.
        #expect(bn.runningMean.value.contains { $0 != 0 })
    }

    @Test func reluAndMaxPool() {
        // Distinct values away from zero: no kink within ε.
        var input = (0..<(2 * 2 * 7 * 7)).map { i -> Float in
            let v = Float((i * 37) % 97) / 10 - 4.85
            return abs(v) < 0.05 ? v + 0.3 : v
        }
        let shape = { (v: [Float]) in FeatureMap(channels: 2, batch: 2, height: 7, width: 7, data: v) }
        let relu = ReLU(), pool = MaxPool2d(kernel: 3, stride: 2, padding: 1)
        relu.setTraining(true)
        pool.setTraining(true)
        let y = pool(relu(shape(input)))
        #expect(y.height == 4 && y.width == 4)
        let r = Self.randomValues(y.data.count, seed: 6)
        let dx = relu.backward(pool.backward(FeatureMap(channels: 2, batch: 2, height: 4, width: 4, data: r)))
        Self.check("relu+pool∂x", values: &input, analytic: dx.data, samples: 200, epsilon: 1e-3) { v in
            Self.weightedSum(MaxPool2d(kernel: 3, stride: 2, padding: 1)(ReLU()(shape(v))).data, r)
        }
    }

    @Test func averagePoolLinearAndLoss() {
        var random = SplitMix64(seed: 9)
        let linear = Linear(inFeatures: 3, outFeatures: 2, random: &random)
        let average = GlobalAveragePool()
        var input = Self.randomValues(3 * 4 * 3 * 3, seed: 10)
        let labels = [0, 1, 1, 0], weights: [Float] = [0.3, 0.7]
        let shape = { (v: [Float]) in FeatureMap(channels: 3, batch: 4, height: 3, width: 3, data: v) }
        linear.setTraining(true)
        let logits = linear(average.forward(shape(input)))
        let (_, dLogits) = softmaxCrossEntropy(logits: logits, labels: labels, classWeights: weights)
        let dx = average.backward(linear.backward(dLogits))
        let loss = { (v: [Float]) -> Float in
            softmaxCrossEntropy(logits: linear(GlobalAveragePool().forward(shape(v))), labels: labels, classWeights: weights).loss
        }
        Self.check("pool+fc+loss∂x", values: &input, analytic: dx.data, epsilon: 1e-2, loss: loss)
        let originalWeights = linear.weight.value
        var w = originalWeights
        Self.check("fc∂W", values: &w, analytic: linear.weight.gradient) { v in
            linear.weight.value = v
            defer { linear.weight.value = originalWeights }
            return softmaxCrossEntropy(logits: linear(GlobalAveragePool().forward(shape(input))), labels: labels, classWeights: weights).loss
        }
    }

    @Test func weightedLossValue() {
        // Two rows, logits 0 → p = ½ each: loss = log 2 whatever the weights.
        let logits = Tensor(shape: [2, 2], data: [0, 0, 0, 0])
        let (loss, gradient) = softmaxCrossEntropy(logits: logits, labels: [0, 1], classWeights: [1, 3])
        #expect(abs(loss - logf(2)) < 1e-6)
        // Row 1 has weight 3 of a total 4: ∂z = ¾ · (½ − 1) on its label.
        #expect(abs(gradient.data[3] - (-0.375)) < 1e-6 && abs(gradient.data[0] - (-0.125)) < 1e-6)
    }

    @Test func wholeTinyResNet() {
        let configuration = ResNetConfiguration(architecture: "tiny", widths: [4, 4, 6, 8], blocks: [1, 1, 1, 1],
                                                inputChannels: 2, inputSize: 64, classCount: 3)
        let net = ResNet(configuration, seed: 21)
        let images = Self.randomValues(3 * 2 * 64 * 64, seed: 22)
        let labels = [0, 2, 1]
        let tensor = { (v: [Float]) in Tensor(shape: [3, 2, 64, 64], data: v) }
        net.zeroGradients()
        let (logits, _) = net.forward(tensor(images), training: true)
        let (_, dLogits) = softmaxCrossEntropy(logits: logits, labels: labels)
        net.backward(dLogits)
        // The loss in training mode (batch statistics), with the running stats restored after.
        let loss = { () -> Float in
            let saved = net.namedParameters.map { $0.1.value }
            defer { for (p, v) in zip(net.namedParameters.map(\.1), saved) { p.value = v } }
            return softmaxCrossEntropy(logits: net.forward(tensor(images), training: true).logits, labels: labels).loss
        }
        // Perturbing an early weight moves many activations; a few cross a ReLU or max-pool
        // kink within ε, so a whole-network check allows a few outliers but no systematic gap.
        var errors: [Float] = []
        for (name, parameter) in net.namedParameters where parameter.isTrainable
            && ["conv1.weight", "layer1.0.conv2.weight", "layer3.0.downsample.0.weight", "layer4.0.bn2.weight", "fc.weight"].contains(name) {
            var values = parameter.value
            let analytic = parameter.gradient
            errors += Self.check(name, values: &values, analytic: analytic, samples: 10, epsilon: 1e-3, record: false) { v in
                let keep = parameter.value
                parameter.value = v
                defer { parameter.value = keep }
                return loss()
            }
        }
        #expect(errors.count >= 40)  // ten entries per tensor; smaller tensors are checked whole
        #expect(errors.filter { $0 < 0.05 }.count >= 45, "relative errors: \(errors)")
        #expect(errors.allSatisfy { $0 < 0.25 }, "relative errors: \(errors)")
    }
}
