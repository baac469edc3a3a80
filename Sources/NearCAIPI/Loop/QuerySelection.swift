import Foundation
import Explanations
import Imaging
import NeuralNet
import SeededRandom

/// How the next query is chosen from the pool: the item of highest potential information.
public enum QueryStrategy: String, Sendable, CaseIterable {
    /// 1 − max_c p(c): the model's least confident prediction first (the paper's AL).
    case leastConfidence = "least-confidence"
    /// The smallest gap between the two most probable classes first.
    case margin
    /// The largest −Σ p log p first.
    case entropy
    /// Uniformly at random (seeded): the paper's "Random Add" baseline.
    case random
    /// The highest anomaly score first: round 0's, learnt without a label by the defect pretext
    /// (`Workspace.anomalyScores`, brought to [0, 1] by `PoolModel`), so the first answers find
    /// defective parts. Items without a score come last, least confident first.
    case anomaly
    /// The mean of the anomaly score and the model's uncertainty 2 · (1 − max p), both in
    /// [0, 1]: parts that look defective and that the model is unsure of first.
    case anomalyAndUncertainty = "anomaly-uncertainty"
    /// The parts the active round would send to review first — P(NOK) between its pass and
    /// reject cuts (`OperatingPoint`), the parts a person looks at anyway — least confident
    /// first among them; then the rest, least confident first (all of them, where the round
    /// has no cuts).
    case reviewFirst = "review-first"
    /// Of the least confident parts not yet answered (`PoolModel.mapsCompared` of them: each
    /// needs an InvRISE map), those whose network's own defect map and InvRISE explanation
    /// point at different places (`OwnMapReading.disagrees`) first — one of the two is wrong,
    /// so a painted region is worth most there — least confident first among them; then the
    /// rest, least confident first. A round that did not train its own map (`mask_loss` off)
    /// asks least confident first.
    case disagreementFirst = "disagreement-first"

    /// Whether the rule reads round 0's anomaly scores.
    public var usesAnomalyScores: Bool { self == .anomaly || self == .anomalyAndUncertainty }

    /// Higher = asked first. `anomaly`: the item's anomaly score, nil where it has none;
    /// `cuts`: the active round's operating point, nil where it has none; `mapsDisagree`:
    /// whether the item's own map and explanation point at different places.
    public func informativeness(_ probabilities: [Float], anomaly: Float? = nil, cuts: OperatingPoint? = nil,
                                mapsDisagree: Bool = false) -> Float {
        let sorted = probabilities.sorted(by: >)
        let uncertainty = 1 - sorted[0]
        switch self {
        case .leastConfidence: return uncertainty
        case .margin: return -(sorted[0] - (sorted.count > 1 ? sorted[1] : 0))
        case .entropy: return -probabilities.reduce(0) { $0 + ($1 > 0 ? $1 * logf($1) : 0) }
        case .random: return 0
        // Scored items rank above every unscored one (uncertainty ≤ ½ < 1 + score).
        case .anomaly: return anomaly.map { 1 + $0 } ?? uncertainty
        case .anomalyAndUncertainty:
            return anomaly.map { 1 + ($0 + 2 * uncertainty) / 2 } ?? uncertainty
        // A part in review ranks above every other (uncertainty ≤ ½ < 1 + uncertainty).
        case .reviewFirst:
            guard let cuts, probabilities.count > ClassLabel.nok.classIndex else { return uncertainty }
            return cuts.decide(probabilities[ClassLabel.nok.classIndex]) == .review ? 1 + uncertainty : uncertainty
        // A part whose maps disagree ranks above every other (uncertainty ≤ ½ < 1 + uncertainty).
        case .disagreementFirst: return mapsDisagree ? 1 + uncertainty : uncertainty
        }
    }
}

/// The model's view of one pool item.
public struct PoolPrediction: Sendable {
    public init(itemID: Int64, path: String, probabilities: [Float], embedding: [Float]) {
        self.itemID = itemID
        self.path = path
        self.probabilities = probabilities
        self.embedding = embedding
    }

    public var itemID: Int64
    public var path: String
    public var probabilities: [Float]
    /// Global-average-pooled features: what near hits and misses compare.
    public var embedding: [Float]
    public var predictedLabel: ClassLabel { ClassLabel(predictedFrom: probabilities) }
    public var confidence: Float { probabilities.max() ?? 0 }
}

/// A query handed to one expert, leased to them until `expires`.
public struct Query: Sendable, Equatable {
    public var itemID: Int64
    public var path: String
    public var predictedLabel: ClassLabel
    public var confidence: Float
    public var expires: Double
}

/// The near hit, near miss and farthest item of a query (the main paper, eq. 3, Fig. 4).
public struct Neighbours: Sendable, Equatable {
    public var nearHit: (path: String, similarity: Float)?
    public var nearMiss: (path: String, similarity: Float)?
    public var farthest: (path: String, similarity: Float)?

    public static func == (a: Neighbours, b: Neighbours) -> Bool {
        a.nearHit?.path == b.nearHit?.path && a.nearMiss?.path == b.nearMiss?.path && a.farthest?.path == b.farthest?.path
    }
}

extension Neighbours {
    /// Eq. 3 over `candidates` (the query itself is skipped): near hit = highest cosine
    /// similarity of embeddings with the same class, near miss = highest with another class,
    /// farthest = lowest of all.
    public static func search(for query: PoolPrediction, among candidates: [PoolPrediction],
                              classOf: (PoolPrediction) -> ClassLabel) -> Neighbours {
        let queryClass = classOf(query)
        var result = Neighbours()
        for other in candidates where other.itemID != query.itemID {
            let similarity = cosine(query.embedding, other.embedding)
            if classOf(other) == queryClass {
                if similarity > (result.nearHit?.similarity ?? -.infinity) { result.nearHit = (other.path, similarity) }
            } else if similarity > (result.nearMiss?.similarity ?? -.infinity) {
                result.nearMiss = (other.path, similarity)
            }
            if similarity < (result.farthest?.similarity ?? .infinity) { result.farthest = (other.path, similarity) }
        }
        return result
    }
}

/// a·b / (|a| |b|); 0 when either is zero.
public func cosine(_ a: [Float], _ b: [Float]) -> Float {
    var dot: Float = 0, na: Float = 0, nb: Float = 0
    for i in a.indices {
        dot += a[i] * b[i]
        na += a[i] * a[i]
        nb += b[i] * b[i]
    }
    return na > 0 && nb > 0 ? dot / (na.squareRoot() * nb.squareRoot()) : 0
}
