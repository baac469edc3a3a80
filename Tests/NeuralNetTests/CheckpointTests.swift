import FileAccess
import NeuralNet
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CheckpointTests {
    static let fixtures = String(#filePath.dropLast("CheckpointTests.swift".count)) + "Fixtures"

    func scratch() -> String {
        var template = Array("/tmp/nearcaipi-ckpt-XXXXXX".utf8CString)
        return String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
    }

    static let info = CheckpointInfo(configuration: .resnet18w4(inputChannels: 1, inputSize: 64), classNames: ["ok", "nok"],
                                     mean: [0.5], std: [0.25])

    /// Our network gives PyTorch's logits and embeddings for the same weights and inputs
    /// (eval mode). The reference comes from Fixtures/make_reference.py.
    @Test func matchesPyTorch() throws {
        let (model, info) = try Checkpoint.load(Self.fixtures + "/resnet18w4_reference.safetensors")
        #expect(info.configuration == .resnet18w4(inputChannels: 3, inputSize: 128, classCount: 2))
        #expect(info.classNames == ["ok", "nok"])
        let io = try SafeTensors.decode(try BinaryFile.read(Self.fixtures + "/resnet18w4_io.safetensors"), path: "io").tensors
        let inputs = try #require(io["inputs"]), logits = try #require(io["logits"]), embedding = try #require(io["embedding"])
        let output = model.forward(Tensor(shape: inputs.shape, data: inputs.values), training: false)
        let logitGap = zip(output.logits.data, logits.values).map { abs($0 - $1) }.max()!
        let embeddingGap = zip(output.embedding.data, embedding.values).map { abs($0 - $1) }.max()!
        #expect(output.logits.shape == [4, 2] && output.embedding.shape == [4, 128])
        #expect(logitGap <= 1e-4, "max |logit difference| \(logitGap)")
        #expect(embeddingGap <= 1e-4, "max |embedding difference| \(embeddingGap)")
    }

    @Test func roundTripIsBitExact() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        let model = ResNet(Self.info.configuration, seed: 3)
        model.bn1.batchesTracked = 17
        try Checkpoint.save(model, info: Self.info, to: directory + "/round.safetensors")
        let (loaded, info) = try Checkpoint.load(directory + "/round.safetensors")
        #expect(info == Self.info)
        for ((name, a), (_, b)) in zip(model.namedParameters, loaded.namedParameters) {
            #expect(a.value.map(\.bitPattern) == b.value.map(\.bitPattern), "\(name) differs")
        }
        #expect(loaded.bn1.batchesTracked == 17)
    }

    func refusal(_ bytes: [UInt8]) throws -> String {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        try BinaryFile.writeAtomically(bytes, to: directory + "/bad.safetensors")
        do {
            _ = try Checkpoint.load(directory + "/bad.safetensors")
            return "loaded"
        } catch {
            #expect(error.path.hasSuffix("bad.safetensors"))
            return error.message
        }
    }

    @Test func damagedCheckpointsAreRefusedWithTheReason() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        try Checkpoint.save(ResNet(Self.info.configuration, seed: 1), info: Self.info, to: directory + "/good.safetensors")
        let good = try BinaryFile.read(directory + "/good.safetensors")
        #expect(try refusal(Array(good.prefix(5))).contains("shorter than the 8-byte header length"))
        #expect(try refusal(Array(good.prefix(good.count / 2))).contains("outside"))
        var flipped = good
        flipped[good.count - 100] ^= 0x40
        #expect(try refusal(flipped).contains("checksum mismatch"))
        var longHeader = good
        longHeader[7] = 0x7F
        #expect(try refusal(longHeader).contains("runs past the end"))
        var garbage = good
        for i in 8..<40 { garbage[i] = 0x7B }  // "{{{{…" is not JSON
        #expect(try refusal(garbage).contains("not a JSON object"))
    }

    @Test func wrongArchitectureNamesTheFirstMismatch() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        try Checkpoint.save(ResNet(Self.info.configuration, seed: 1), info: Self.info, to: directory + "/w4.safetensors")
        let wider = ResNet(.resnet18(inputChannels: 1, inputSize: 64), seed: 1)
        do {
            try Checkpoint.loadWeights(into: wider, from: directory + "/w4.safetensors", replaceHeadIfClassesDiffer: false)
            Issue.record("a w4 checkpoint loaded into resnet18")
        } catch {
            #expect(error.message == "tensor 'bn1.running_mean' has shape [16] F32, resnet18 needs [64] F32"
                    || error.message.contains("conv1.weight"), "\(error.message)")
        }
    }

    @Test func pretrainedBackboneKeepsItsOwnHeadWhenClassesDiffer() throws {
        let directory = scratch()
        defer { _ = system("rm -rf '\(directory)'") }
        // A 1000-class network standing in for a converted torchvision ResNet.
        let imagenet = ResNet(.resnet18w4(inputChannels: 1, inputSize: 64, classCount: 1000), seed: 5)
        var info = Self.info
        info.classNames = (0..<1000).map { "c\($0)" }
        try Checkpoint.save(imagenet, info: info, to: directory + "/backbone.safetensors")
        let model = ResNet(Self.info.configuration, seed: 6)
        let head = model.fc.weight.value
        #expect(throws: CheckpointError.self) {
            try Checkpoint.loadWeights(into: model, from: directory + "/backbone.safetensors", replaceHeadIfClassesDiffer: false)
        }
        try Checkpoint.loadWeights(into: model, from: directory + "/backbone.safetensors", replaceHeadIfClassesDiffer: true)
        #expect(model.conv1.weight.value == imagenet.conv1.weight.value)
        #expect(model.fc.weight.value == head)
    }
}
