import NeuralNet
import Testing

/// The network's names and modes come from its layers, declared once.
@Suite struct LayerTests {
    @Test func namesAreTorchvisionsAndModesReachEveryLayer() {
        let model = ResNet(.resnet18w4(), seed: 1)
        let names = model.namedParameters.map(\.0)
        #expect(names.count == Set(names).count, "every name once")
        #expect(names.first == "conv1.weight" && names.last == "fc.bias")
        #expect(names.contains("layer2.0.downsample.0.weight") && names.contains("layer2.0.downsample.1.running_var"))
        #expect(!names.contains { $0.contains("relu") || $0.contains("pool") })
        // ResNet-18: 20 convolutions and 20 batch norms (4 parameters each) and the head.
        #expect(names.count == 20 + 20 * 4 + 2)
        #expect(model.layers(of: BatchNorm2d.self).count == 20)
        #expect(model.layers(of: BatchNorm2d.self).map(\.0).contains("layer4.1.bn2"))
        #expect(model.trainableParameters.count == 20 + 20 * 2 + 2)

        #expect(!model.isTraining && !model.stages[3][1].bn2.isTraining)
        model.setTraining(true)
        #expect(model.layers(of: BatchNorm2d.self).allSatisfy { $0.1.isTraining })
        #expect(model.layers(of: Conv2d.self).allSatisfy { $0.1.isTraining } && model.fc.isTraining)
        // Inference through the call sets every layer back.
        _ = model(Tensor(zeros: [1, 3, 128, 128]))
        #expect(model.layers(of: Conv2d.self).allSatisfy { !$0.1.isTraining })
    }
}
