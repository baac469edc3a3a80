/// Binary classification quality with NOK (1) as the positive class, as the paper's
/// Tables 2–3 report it.
public struct ClassificationMetrics: Sendable, Equatable, Codable {
    public var count: Int
    public var accuracy: Double
    /// F1 of the NOK class: 2·TP / (2·TP + FP + FN); 0 when there is no NOK at all.
    public var f1: Double
    /// Matthews correlation: (TP·TN − FP·FN) / √((TP+FP)(TP+FN)(TN+FP)(TN+FN)); 0 when a
    /// factor is 0 (a constant predictor).
    public var mcc: Double

    public init(predictions: [Int], truth: [Int]) {
        precondition(predictions.count == truth.count, "one prediction per truth")
        var tp = 0.0, tn = 0.0, fp = 0.0, fn = 0.0
        for (p, t) in zip(predictions, truth) {
            switch (p, t) {
            case (1, 1): tp += 1
            case (0, 0): tn += 1
            case (1, 0): fp += 1
            default: fn += 1
            }
        }
        count = truth.count
        accuracy = count > 0 ? (tp + tn) / Double(count) : 0
        f1 = tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0
        let denominator = ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)).squareRoot()
        mcc = denominator > 0 ? (tp * tn - fp * fn) / denominator : 0
    }
}
