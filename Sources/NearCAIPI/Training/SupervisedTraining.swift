import Imaging
import NeuralNet
import SeededRandom

/// Stratified, seeded splits: each class is shuffled on its own and cut at the same fraction,
/// so a small NOK class is represented on both sides.
public enum StratifiedSplit {
    /// Indices of `labels` for the first part (about `fraction` of each class) and the rest.
    public static func split(labels: [Int], fraction: Double, seed: UInt64) -> (first: [Int], rest: [Int]) {
        var first: [Int] = [], rest: [Int] = []
        for (_, members) in shuffledClasses(labels: labels, seed: seed) {
            let cut = Int((Double(members.count) * fraction).rounded())
            first += members[..<cut]
            rest += members[cut...]
        }
        return (first.sorted(), rest.sorted())
    }

    /// The indices of each class (in ascending label order), each shuffled by one seeded
    /// generator (Fisher–Yates): the common start of every stratified split.
    public static func shuffledClasses(labels: [Int], seed: UInt64) -> [(label: Int, members: [Int])] {
        var random = SplitMix64(seed: seed)
        return Set(labels).sorted().map { label in
            var members = labels.indices.filter { labels[$0] == label }
            for i in stride(from: members.count - 1, to: 0, by: -1) { members.swapAt(i, random.integer(0, i)) }
            return (label, members)
        }
    }
}

extension TrainingOptions {
    /// The first round's recipe — `train` on a workspace or a data set, `simulate`'s initial
    /// model, the screens' retrain from scratch: Adam at 5·10⁻⁴ decayed along a cosine over
    /// up to 250 epochs, batches of 16, early stopping after 100 epochs without a better
    /// validation loss (validation splits of a first round are small and noisy: a short
    /// patience stops on noise), the best epoch's weights kept. With a few dozen labels, this
    /// is measured to matter (Docs/Workspace.md): 60 epochs with a patience of 25 gave a first
    /// round well below it.
    public static var firstRound: TrainingOptions {
        var options = TrainingOptions()
        options.method = .adam(learningRate: 0.0005)
        options.epochs = 250
        options.patience = 100
        options.batchSize = 16
        return options
    }
}

/// Training a classifier on prepared images (model input size and channels, values in
/// [0, 1]): normalisation from the training images, the NeuralNet trainer, the checkpoint info.
public enum SupervisedTraining {
    /// Per-channel mean and standard deviation over the images.
    public static func normalisation(of images: [Image]) -> (mean: [Float], std: [Float]) {
        guard let first = images.first else { return ([], []) }
        var mean = [Float](), std = [Float]()
        for c in 0..<first.channels {
            var sum = 0.0, squares = 0.0, count = 0.0
            for image in images {
                for v in image.plane(c).pixels {
                    sum += Double(v)
                    squares += Double(v) * Double(v)
                }
                count += Double(image.planeSize)
            }
            let m = sum / count
            mean.append(Float(m))
            std.append(Float(max((squares / count - m * m).squareRoot(), 1e-3)))
        }
        return (mean, std)
    }

    /// NCHW tensor of images normalised as `info` says, with their labels.
    public static func batch(_ images: [Image], labels: [Int], info: CheckpointInfo) -> LabelledImages {
        let first = images[0]
        var data = [Float]()
        data.reserveCapacity(images.count * first.pixels.count)
        for image in images { data += image.pixels }
        info.normalise(&data, batch: images.count)
        return LabelledImages(images: Tensor(shape: [images.count, first.channels, first.height, first.width], data: data),
                              labels: labels)
    }

    /// Trains a fresh model of `configuration` on the training images, early-stopping on the
    /// validation images; returns the model (best validation epoch) and its checkpoint info.
    public static func train(configuration: ResNetConfiguration, training: [(Image, Int)], validation: [(Image, Int)],
                             options: TrainingOptions, classNames: [String], occlusion: Bool = OcclusionAugmentation.standard,
                             progress: (TrainingProgress) -> Bool) -> (model: ResNet, info: CheckpointInfo, report: TrainingReport) {
        let (mean, std) = normalisation(of: training.map(\.0))
        let info = CheckpointInfo(configuration: configuration, classNames: classNames, mean: mean, std: std)
        let model = ResNet(configuration, seed: options.seed)
        let trainingSet = batch(training.map(\.0), labels: training.map(\.1), info: info)
        let validationSet = validation.isEmpty ? nil : batch(validation.map(\.0), labels: validation.map(\.1), info: info)
        let report = Trainer.train(model, on: trainingSet, validation: validationSet,
                                   options: OcclusionAugmentation.options(options, on: trainingSet, enabled: occlusion), progress: progress)
        return (model, info, report)
    }
}
