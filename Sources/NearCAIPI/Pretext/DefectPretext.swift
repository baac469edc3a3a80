import Imaging
import NeuralNet
import SeededRandom

/// The batches of the defect pretext: each image of a batch is shown either as it is
/// (label 0) or with synthetic defects drawn on it (label 1), half and half, after random
/// flips. No label of the data set is read.
///
/// The images are not all clean: a plant's pool holds defective parts, which would enter as
/// "as it is" and teach that a real defect is normal. So, every tenth of the run after the
/// first fifth, the network scores every image as it is; the ones it already calls defective
/// (P(defect) > ½, at most half of the images) become **suspects**: they are shown only with a
/// synthetic defect (label 1 holds either way) and give no patches to others. The suspects are
/// recorded in the state file, so a resumed run continues with the same ones.
struct DefectPretext {
    let images: [Image]
    let info: CheckpointInfo
    let defects: SyntheticDefects
    private(set) var suspects: Set<Int> = []
    /// The images patches and blobs take their texture from: every image but the suspects.
    private(set) var donors: [Image]

    /// The largest share of the images that may be suspects: the pretext needs parts shown
    /// as they are.
    static let maximumSuspectShare = 0.5

    init(images: [Image], info: CheckpointInfo, suspects: Set<Int> = [], warps: Bool = false) {
        self.images = images
        defects = SyntheticDefects(warps: warps)
        self.info = info
        self.suspects = suspects
        donors = images.indices.filter { !suspects.contains($0) }.map { images[$0] }
    }

    /// Whether the suspects are scored again before epoch `epochsDone + 1`.
    static func rescoresBefore(epochAfter epochsDone: Int, of epochs: Int) -> Bool {
        guard epochs >= 10 else { return false }
        let step = max(epochs / 10, 1)
        return epochsDone >= epochs / 5 && epochsDone < epochs && epochsDone % step == 0
    }

    /// One batch: the images at `indices`, each flipped at random and given defects or not;
    /// for a network with a defect head, the share of each map cell the defects changed (a
    /// part as it is: none) — except on suspects, whose own defect is not in any mask, so
    /// their maps do not count.
    func batch(_ indices: [Int], random: inout SplitMix64) -> PretextBatch {
        var shown: [Image] = [], labels: [Int] = [], masks: [BinaryMask?] = []
        for index in indices {
            var image = images[index]
            if random.chance(0.5) { image = image.flippedHorizontally() }
            if random.chance(0.5) { image = image.flippedVertically() }
            if suspects.contains(index) || random.chance(0.5) {
                let drawn = defects.make(on: image, donors: donors, random: &random)
                // Nothing changed (every attempt on a flat part too faint): the part as it is.
                labels.append(drawn.mask.isEmpty ? 0 : 1)
                image = drawn.image
                masks.append(drawn.mask)
            } else {
                labels.append(0)
                masks.append(nil)
            }
            shown.append(image)
        }
        let batch = SupervisedTraining.batch(shown, labels: labels, info: info)
        guard info.configuration.hasDefectHead else { return PretextBatch(images: batch.images, labels: labels) }
        let (h, w) = info.configuration.defectMapSize
        var targets = [Float](repeating: 0, count: indices.count * h * w)
        for (slot, mask) in masks.enumerated() {
            guard let mask else { continue }
            let cells = Self.cellShares(of: mask, height: h, width: w)
            for i in 0..<(h * w) { targets[slot * h * w + i] = cells[i] }
        }
        return PretextBatch(images: batch.images, labels: labels, mapTargets: Tensor(shape: [indices.count, 1, h, w], data: targets),
                            mapWeights: indices.map { suspects.contains($0) ? 0 : 1 })
    }

    /// The share of each of h × w cells that the mask covers (`DefectMapLoss.cellShares`).
    static func cellShares(of mask: BinaryMask, height h: Int, width w: Int) -> [Float] {
        let plane = Tensor(shape: [1, 1, mask.height, mask.width], data: mask.bits.map { $0 ? 1 : 0 })
        return DefectMapLoss.cellShares(of: plane, height: h, width: w).data
    }

    /// Scores every image with `model` and makes the ones it calls defective the suspects.
    mutating func rescore(with model: ResNet) {
        let scores = Self.scores(of: images, model: model, info: info)
        let limit = Int(Double(images.count) * Self.maximumSuspectShare)
        let ranked = scores.indices.filter { scores[$0] > 0.5 }.sorted { scores[$0] > scores[$1] }
        suspects = Set(ranked.prefix(limit))
        donors = images.indices.filter { !suspects.contains($0) }.map { images[$0] }
    }

    /// P(defect) — the probability of class 1 — of each image as it is, averaged over the
    /// image and its three flips (the pretext saw every defect under every flip, so the
    /// average is the same score with less of one view's noise).
    static func scores(of images: [Image], model: ResNet, info: CheckpointInfo) -> [Float] {
        averagedOverFlips(images, info: info) { batch, count in
            let probabilities = model(batch).probabilities
            return (0..<count).map { Image(width: 1, height: 1, channels: 1, pixels: [probabilities.data[$0 * 2 + 1]]) }
        }.map { $0.pixels[0] }
    }

    /// The mean of what `pass` gives for each image (model input size, [0, 1]) and for its
    /// horizontal, vertical and double flips, each answer flipped back into the image's own
    /// frame (a map) — 32 images a pass. `pass` takes a normalised batch and its image count
    /// and returns one picture per image.
    static func averagedOverFlips(_ images: [Image], info: CheckpointInfo, pass: (Tensor, Int) -> [Image]) -> [Image] {
        var means: [Image] = []
        means.reserveCapacity(images.count)
        var start = 0
        while start < images.count {
            let slice = Array(images[start..<min(start + 32, images.count)])
            var sums: [Image]? = nil
            for flip in 0..<4 {
                // A flip is its own inverse: the same function turns the answer back.
                func flipped(_ image: Image) -> Image {
                    let across = flip & 1 == 1 ? image.flippedHorizontally() : image
                    return flip & 2 == 2 ? across.flippedVertically() : across
                }
                let batch = SupervisedTraining.batch(slice.map(flipped), labels: [Int](repeating: 0, count: slice.count), info: info)
                let answers = pass(batch.images, slice.count).map(flipped)
                if sums == nil { sums = answers.map { Image(width: $0.width, height: $0.height, channels: $0.channels) } }
                for (row, answer) in answers.enumerated() {
                    for i in answer.pixels.indices { sums![row].pixels[i] += answer.pixels[i] / 4 }
                }
            }
            means += sums ?? []
            start += 32
        }
        return means
    }

    /// The suspects as the state file keeps them.
    var suspectsNote: String { suspects.sorted().map(String.init).joined(separator: ",") }

    static func suspects(fromNote note: String?) -> Set<Int> {
        Set((note ?? "").split(separator: ",").compactMap { Int($0) })
    }

    /// Epochs for about `steps` batches: small workspaces get more passes, large ones fewer.
    static func defaultEpochs(images: Int, batchSize: Int, steps: Int = 3000) -> Int {
        let batches = max(images / max(batchSize, 1), 1)
        return min(max((steps + batches - 1) / batches, 30), 1000)
    }
}
