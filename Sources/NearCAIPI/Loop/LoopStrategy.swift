/// The five ways of spending an expert's interactions that the main paper compares (sec. 4.2).
/// Each is a combination of three switches: how the next query is chosen, whether accepted
/// regions become refutations, and whether a wrong prediction brings its near hit and near
/// miss to the expert.
public enum LoopStrategy: String, Sendable, CaseIterable {
    /// Random pool items, label only.
    case randomAdd = "random"
    /// Active learning: the least confident prediction, label only.
    case al
    /// AL plus the near hit and near miss of every wrongly predicted query (labels only).
    case nearAL = "near-al"
    /// AL plus refutations from the expert's region (explanatory interactive learning).
    case caipi
    /// CAIPI plus the near hits and misses of wrong predictions, with their own refutations.
    case nearCAIPI = "near-caipi"

    public var title: String {
        switch self {
        case .randomAdd: "Random Add"
        case .al: "AL"
        case .nearAL: "Near AL"
        case .caipi: "CAIPI"
        case .nearCAIPI: "Near CAIPI"
        }
    }

    public var querySelection: QueryStrategy { self == .randomAdd ? .random : .leastConfidence }
    public var makesRefutations: Bool { self == .caipi || self == .nearCAIPI }
    public var asksNeighbours: Bool { self == .nearAL || self == .nearCAIPI }
}
