import Imaging

/// What the network's own defect map says beside an explanation of the same part: whether it
/// finds a defect at all, and whether the two point at the same place. Where they do not, one
/// of them is wrong and a painted region settles which — the part worth an inspector's time.
/// Decided once per map pair (it sorts both maps), read by the screens, `explain` and the
/// disagreement-first query rule.
public struct OwnMapReading: Sendable, Equatable {
    /// The own map's highest P(defect).
    public var peak: Float
    /// Whether the own map and the explanation point at the same place
    /// (`SaliencyMetrics.pointAlike`); nil when there is nothing to compare — no defect on the
    /// own map (P < ½ everywhere), or no clear explanation (unfinished, or flat).
    public var agrees: Bool?

    /// The own map finds a defect where some cell's P(defect) reaches this.
    public static let defectFrom: Float = 0.5

    /// `explanation`: the explanation's map, nil while it is not finished or when it is flat.
    public init(ownMap: Image, explanation: Image?) {
        peak = ownMap.pixels.max() ?? 0
        if let explanation, peak >= Self.defectFrom { agrees = SaliencyMetrics.pointAlike(explanation, ownMap) }
    }

    /// Whether the two maps disagree: both show a region, in different places.
    public var disagrees: Bool { agrees == false }

    /// In a few words, for a caption: "own map: no defect (P ≤ 0.31)", "own map: a defect,
    /// P 0.63" (nothing to compare yet), "own map agrees", "own map points elsewhere".
    public var words: String {
        if peak < Self.defectFrom { return "own map: no defect (P ≤ \(Self.twoPlaces(peak)))" }
        guard let agrees else { return "own map: a defect, P \(Self.twoPlaces(peak))" }
        return agrees ? "own map agrees" : "own map points elsewhere"
    }

    private static func twoPlaces(_ value: Float) -> String {
        let hundredths = Int((max(0, min(1, value)) * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }
}
