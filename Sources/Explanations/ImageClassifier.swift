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

    /// The image as the network sees it (`Image.modelInput`); values stay in [0, 1].
    public func prepare(_ image: Image) -> Image { image.modelInput(channels: channels, size: inputSize) }

    /// Class probabilities [batch, classes] and embeddings [batch, features] of prepared
    /// images given as NCHW values in [0, 1], from one forward pass (float32 unless told).
    public func outputs(_ images: [Float], batch: Int,
                        precision: InferencePrecision = .float32) -> (probabilities: Tensor, embeddings: Tensor) {
        var input = images
        info.normalise(&input, batch: batch)
        let (probabilities, embeddings) = model(Tensor(shape: [batch, channels, inputSize, inputSize], data: input),
                                                precision: precision)
        return (probabilities, embeddings)
    }

    /// Class probabilities [batch, classes] of prepared images given as NCHW values in [0, 1].
    public func probabilities(_ images: [Float], batch: Int, precision: InferencePrecision = .float32) -> [Float] {
        outputs(images, batch: batch, precision: precision).probabilities.data
    }

    /// The explainer's view of this classifier: its masked passes in `precision` (the
    /// heatmaps' setting unless told; see `InferencePrecision`).
    public func probabilityFunction(precision: InferencePrecision = .heatmaps) -> ProbabilityFunction {
        { [self] images, batch in probabilities(images, batch: batch, precision: precision) }
    }
}

