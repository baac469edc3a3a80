/// The workspace's closed sets of words. Each raw value is what the database stores and the
/// schema's CHECK list allows (WorkspaceSchema.swift; a test reads those lists and compares),
/// so the database and the code share one vocabulary and nothing else spells these words.

/// A part's class. The raw values are what the items and feedback tables store (their CHECK
/// lists say 0 and 1), and the order of the network's outputs.
public enum ClassLabel: Int, Sendable, CaseIterable, Comparable, Codable {
    case ok = 0
    case nok = 1

    /// The class with the larger of the network's two output probabilities (ties: OK).
    public init(predictedFrom probabilities: [Float]) {
        self = probabilities[ClassLabel.nok.rawValue] > probabilities[ClassLabel.ok.rawValue] ? .nok : .ok
    }

    /// The network's class index for this label, or nil for an index that is not a class.
    public init?(classIndex: Int) { self.init(rawValue: classIndex) }

    /// The other class: what a prediction judged wrong is corrected to.
    public var other: ClassLabel { self == .ok ? .nok : .ok }

    /// How files, exports and settings name the class.
    public var name: String { self == .ok ? "ok" : "nok" }

    /// How screens and reports show the class.
    public var displayName: String { self == .ok ? "OK" : "NOK" }

    /// The network's output index of the class.
    public var classIndex: Int { rawValue }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Which part of the data an item belongs to (items.split).
public enum Split: String, Sendable, CaseIterable {
    case train
    case validation = "val"
    case test
    /// Not yet labelled for the engine: what the loop asks about.
    case pool
}

/// Where an item came from (items.origin).
public enum ItemOrigin: String, Sendable, CaseIterable {
    /// A file of the data set, below the data root.
    case original
    /// Made by the engine from an accepted region, below the workspace.
    case refutation
    case nearHit = "near-hit"
    case nearMiss = "near-miss"

    /// Made by the engine (its file lives below the workspace, not the data root).
    public var isGenerated: Bool { self != .original }
}

/// What an expert said about a prediction or an explanation (feedback.prediction_verdict,
/// feedback.explanation_verdict).
public enum Verdict: String, Sendable, CaseIterable, Codable {
    case right, wrong, skip
}

/// The part a person plays (feedback.role): the inspector answers queries, the supervisor
/// reviews near hits and misses and what inspectors said, the operator runs the rounds.
public enum Role: String, Sendable, CaseIterable, Codable {
    case inspector, supervisor, `operator`
}

/// Why the supervisor is asked about a pool item (review_queue.reason): it is the most similar
/// item of the same class as a wrongly predicted query, or of the other class.
public enum ReviewReason: String, Sendable, CaseIterable {
    case nearHit = "near-hit"
    case nearMiss = "near-miss"

    /// How the screens name it.
    public var displayName: String { self == .nearHit ? "near hit" : "near miss" }
}

/// Where a round stands (rounds.status).
public enum RoundStatus: String, Sendable, CaseIterable {
    /// The round whose model the loop uses (exactly one, once a round exists).
    case active
    /// Replaced by a later round.
    case superseded
    /// Undone by a rollback to an earlier round (kept, not used).
    case rolledBack = "rolled_back"
    /// Training did not complete.
    case failed
    /// Trained, and worse on the validation split than the round that was active: kept aside
    /// until the operator promotes it (makes it active) or discards it.
    case candidate
    /// A candidate the operator decided against (kept, never used).
    case discarded

    /// How screens and reports say it ("rolled back").
    public var displayName: String { rawValue.replacingOccurrences(of: "_", with: " ") }
}

/// When a newly trained round replaces the active one (setting `promotion`).
public enum RoundPromotion: String, Sendable, CaseIterable {
    /// Unless the evidence says it is worse: compared part by part with the active round on
    /// the same validation parts (`PairedComparison`), it stays a candidate only when it is
    /// worse with the workspace's confidence (90 % unless set). The default.
    case unlessWorse = "unless-worse"
    /// When it is not worse on the validation split: its validation MCC is at least the
    /// active round's (or either has no validation images). Otherwise it stays a candidate.
    /// The rule before the paired comparison; it follows the noise of ~20 parts.
    case ifNotWorse = "if-not-worse"
    /// Always (the rule before candidates existed; `train --force` for one round).
    case always
}
