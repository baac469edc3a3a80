import Imaging
import NeuralNet

/// A trained network with what it needs to see images: input size, channels and
/// normalisation (from its checkpoint). The bridge between image files and the network.
public final class ImageClassifier {
    public let model: ResNet
    public let info: CheckpointInfo

    public init(model: ResNet, info: CheckpointInfo) {
        self.model = model
        self.info = info
    }

    public convenience init(checkpoint path: String) throws(CheckpointError) {
        let (model, info) = try Checkpoint.load(path)
        self.init(model: model, info: info)
    }

    public var inputSize: Int { info.configuration.inputSize }
    public var channels: Int { info.configuration.inputChannels }
    public var classNames: [String] { info.classNames }

    /// The image as the network sees it: the model's channel count (grey or RGB, alpha
    /// dropped) and its square input size (area-averaged when shrinking; the aspect ratio is
    /// not kept — parts are photographed square-on by a fixed camera, and padding would
    /// change what the network saw in training). Values stay in [0, 1].
    public func prepare(_ image: Image) -> Image {
        image.converted(toChannels: channels).resizedForInput(width: inputSize, height: inputSize)
    }

    /// Class probabilities [batch, classes] of prepared images given as NCHW values in [0, 1].
    public func probabilities(_ images: [Float], batch: Int) -> [Float] {
        let plane = inputSize * inputSize
        var input = images
        for b in 0..<batch {
            for c in 0..<channels {
                let mean = c < info.mean.count ? info.mean[c] : 0
                let std = c < info.std.count && info.std[c] != 0 ? info.std[c] : 1
                let base = (b * channels + c) * plane
                for i in 0..<plane { input[base + i] = (input[base + i] - mean) / std }
            }
        }
        let (probabilities, _) = model(Tensor(shape: [batch, channels, inputSize, inputSize], data: input))
        return probabilities.data
    }

    /// The explainer's view of this classifier.
    public var probabilityFunction: ProbabilityFunction { { [self] images, batch in probabilities(images, batch: batch) } }
}
