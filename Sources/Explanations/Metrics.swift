import Imaging

/// Explanation quality against an expert's binary mask (the main paper, sec. 4.1), plus
/// the threshold-free pixel AUROC that FCDD and DevNet report.
public enum SaliencyMetrics {
    /// The `fraction` most salient pixels (the paper: top 10 %): exactly ⌈fraction · n⌉
    /// pixels; among equal values, the earlier pixel (row-major) wins.
    public static func topFraction(_ heatmap: Image, fraction: Float = 0.1) -> BinaryMask {
        let values = heatmap.pixels
        let keep = min(values.count, max(1, Int((fraction * Float(values.count)).rounded(.up))))
        let order = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
        var bits = [Bool](repeating: false, count: values.count)
        for i in order.prefix(keep) { bits[i] = true }
        return BinaryMask(width: heatmap.width, height: heatmap.height, bits: bits)
    }

    /// 2|A ∩ B| / (|A| + |B|); 1 when both are empty.
    public static func dice(_ a: BinaryMask, _ b: BinaryMask) -> Float {
        let total = a.area + b.area
        return total == 0 ? 1 : 2 * Float(a.intersectionArea(with: b)) / Float(total)
    }

    /// |A ∩ B| / |A ∪ B|; 1 when both are empty.
    public static func jaccard(_ a: BinaryMask, _ b: BinaryMask) -> Float {
        let both = a.intersectionArea(with: b)
        let union = a.area + b.area - both
        return union == 0 ? 1 : Float(both) / Float(union)
    }

    /// Whether the most salient pixel (the first, row-major, among equals) lies in the mask.
    public static func hit(_ heatmap: Image, mask: BinaryMask) -> Bool {
        var best = 0
        for i in heatmap.pixels.indices where heatmap.pixels[i] > heatmap.pixels[best] { best = i }
        return mask.bits[best]
    }

    /// Whether two maps of one part point at the same place: the hottest pixel of either lies
    /// in the other's top 10 % (the pointing game played both ways, at the first map's size).
    /// Where they do not, one of them — the explanation or the network's own map — is wrong,
    /// and an inspector's region settles which.
    public static func pointAlike(_ a: Image, _ b: Image) -> Bool {
        let b = b.width == a.width && b.height == a.height ? b : b.resized(width: a.width, height: a.height)
        return hit(a, mask: topFraction(b)) || hit(b, mask: topFraction(a))
    }

    /// Area under the ROC curve of saliency as a score for "pixel is in the mask" (`auroc`);
    /// nil when the mask is empty or full (the AUROC is undefined).
    public static func pixelAUROC(_ heatmap: Image, mask: BinaryMask) -> Float? {
        auroc(scores: heatmap.pixels, positive: mask.bits).map(Float.init)
    }

    /// Area under the ROC curve of `scores` for "is positive": the Mann–Whitney statistic with
    /// average ranks for ties, AUROC = (R₊ − n₊(n₊ + 1)/2) / (n₊ · n₋), R₊ the rank sum of the
    /// positives — the chance that a random positive scores above a random negative, ties
    /// counting one half. nil without both a positive and a negative.
    public static func auroc(scores: [Float], positive: [Bool]) -> Double? {
        precondition(scores.count == positive.count, "one score per case")
        let positives = positive.filter { $0 }.count, negatives = scores.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let averageRank = Double(start + end) / 2 + 1  // ranks are 1-based
            for k in start...end where positive[order[k]] { rankSum += averageRank }
            start = end + 1
        }
        let p = Double(positives), n = Double(negatives)
        return (rankSum - p * (p + 1) / 2) / (p * n)
    }

    /// RISE's causal metrics. Deletion: remove pixels (set to `fill`) most salient first, in
    /// `steps` equal portions, and track the target probability; insertion: start from the
    /// fill and put pixels back in the same order. Each returns the area under the curve of
    /// probability over the fraction of pixels changed (trapezoid rule, steps + 1 points):
    /// a faithful map gives low deletion and high insertion AUC.
    public static func deletionInsertionAUC(_ image: Image, heatmap: Image, target: Int, classCount: Int,
                                            fill: [Float], steps: Int = 16,
                                            probabilities: ProbabilityFunction) -> (deletion: Float, insertion: Float) {
        let plane = image.planeSize, channels = image.channels
        let order = heatmap.pixels.indices.sorted { heatmap.pixels[$0] > heatmap.pixels[$1] }
        var deleting = [Float](), inserting = [Float]()
        for step in 0...steps {
            let changed = plane * step / steps
            var removed = image.pixels, added = fill
            for k in 0..<changed {
                let i = order[k]
                for c in 0..<channels {
                    removed[c * plane + i] = fill[c * plane + i]
                    added[c * plane + i] = image.pixels[c * plane + i]
                }
            }
            deleting += removed
            inserting += added
        }
        let count = steps + 1
        let deletionScores = probabilities(deleting, count), insertionScores = probabilities(inserting, count)
        func area(_ scores: [Float]) -> Float {
            var sum: Float = 0
            for s in 0..<steps {
                sum += (scores[s * classCount + target] + scores[(s + 1) * classCount + target]) / 2
            }
            return sum / Float(steps)
        }
        return (area(deletionScores), area(insertionScores))
    }
}
