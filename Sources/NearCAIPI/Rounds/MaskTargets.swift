import Foundation
import Imaging
import NeuralNet

/// Where each training part's defect is, as the mask loss reads it (`TrainingOptions.maskLossWeight`).
struct MaskTargets {
    /// One plane per part [N, 1, size, size], 1 inside the defect (`LabelledImages.masks`).
    var masks: Tensor
    /// Per part, 1 when its region is known, 0 when not (a defective part nobody painted).
    var weights: [Float]
    /// How many defective parts have a region (good parts, whose region is empty, not counted).
    var defectRegions: Int
}

extension Workspace {
    /// The mask loss's λ: the map's loss beside the image's (the defect pretext's default
    /// weight, `PretrainingOptions.mapLossWeight`).
    public static let maskLossWeight: Float = 1
    /// The right-reasons loss's λ (`TrainingOptions.rightReasonsWeight`).
    public static let rightReasonsWeight: Float = 1

    /// The region the engine knows of each part, at the model's input size:
    /// - a good part: none (its map should be empty);
    /// - a defective part with a standing painted mask: the newest one (an inspector's
    ///   correction, or a supervisor's on a near hit or miss);
    /// - a refutation: its own mask, which moved with its pixels when it was made;
    /// - a part the data set labelled (`init` put it in a split, nobody answered it) with a
    ///   mask in the data set: that mask — it came with the label;
    /// - any other defective part: unknown (weight 0). A data set's mask of a part an expert
    ///   answered is not read: the answer says what is known of it.
    func maskTargets(of items: [LabelledItem], in split: Split, size: Int) throws -> MaskTargets {
        let painted = try store.paintedMasks(in: split), answered = try store.answeredItemIDs()
        let plane = size * size
        var masks = [Float](repeating: 0, count: items.count * plane), weights: [Float] = [], defectRegions = 0
        for (index, item) in items.enumerated() {
            guard item.label == .nok else {
                weights.append(1)
                continue
            }
            var region: BinaryMask? = nil
            if let png = painted[item.id] {
                region = try Self.decodedPaintedMask(png, of: item.path)
            } else if item.origin == .refutation, let maskPath = item.truthMaskPath {
                region = BinaryMask(thresholding: try ImageFile.read(try file(of: maskPath, origin: .refutation)).image)
            } else if item.origin == .original, !answered.contains(item.id), let maskPath = item.truthMaskPath {
                region = try DatasetFile.mask(maskPath, root: try dataRoot)
            }
            guard let region, !region.isEmpty else {
                weights.append(0)
                continue
            }
            let scaled = region.width == size && region.height == size ? region : region.resized(width: size, height: size)
            for i in 0..<plane where scaled.bits[i] { masks[index * plane + i] = 1 }
            weights.append(1)
            defectRegions += 1
        }
        return MaskTargets(masks: Tensor(shape: [items.count, 1, size, size], data: masks), weights: weights, defectRegions: defectRegions)
    }
}
