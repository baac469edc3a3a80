import Foundation

/// The workspace's rows as the engine, the screens and the command line read them: typed
/// records decoded once, by the store, never positional rows.

/// One indexed image: an original of the data set or an item the engine made (a refutation).
public struct ItemRecord: Sendable, Equatable {
    public var id: Int64
    /// Originals: relative to the data root; generated items: relative to the workspace.
    public var path: String
    public var split: Split
    /// What the engine knows: the data set's label outside the pool, an expert's inside it;
    /// nil for a pool item nobody has labelled yet.
    public var label: ClassLabel?
    /// The data set's own label (what the simulated expert answers from, what evaluation uses).
    public var truthLabel: ClassLabel?
    /// The data set's defect mask, relative to the data root (generated items: the workspace).
    public var truthMaskPath: String?
    public var origin: ItemOrigin
    /// The item a refutation was made from.
    public var parentID: Int64?
    /// How a refutation was made (auditable, reproducible).
    public var transform: String?
    /// Whether the file could be decoded when the workspace was made.
    public var isUsable: Bool
    /// Why an unusable file cannot be used.
    public var problem: String?
    /// Why `init` set the image aside as odd (`OddImages`): it was put in the pool and trains
    /// only once a person has labelled it; the screens show it with the part.
    public var oddity: String? = nil
}

/// A stored feedback event, as the log, the screens and exports show it.
public struct FeedbackRecord: Sendable, Equatable {
    public var id: Int64
    public var itemPath: String
    public var user: String
    /// The role the answer was given in; nil for answers stored before roles were recorded
    /// and for imports.
    public var role: Role?
    /// ISO 8601, UTC, as stored.
    public var time: String
    /// The prediction the person judged.
    public var predictedLabel: ClassLabel?
    public var prediction: Verdict?
    public var explanation: Verdict?
    public var correctedLabel: ClassLabel?
    /// Whether the expert painted the defect region.
    public var hasCorrectedMask: Bool
    /// The round that trained on it; nil while pending.
    public var roundNumber: Int?
    /// Withdrawn (`Workspace.revert`): it no longer counts.
    public var reverted: Bool
    /// Every round that trained on it, oldest first — also rounds since rolled back, after
    /// which the answer waits for the next round again (`roundNumber` nil).
    public var trainedInto: [Int] = []
    /// Its part was kept for validation (`answers_for_validation`): it judges rounds and is
    /// never trained on, though a round takes it in as an interaction (`roundNumber`).
    public var heldForValidation = false

    /// The label this answer gave the part (the correction, else the confirmed or refuted
    /// prediction); nil for a skip.
    public var establishedLabel: ClassLabel? {
        FeedbackEvent(itemPath: itemPath, user: user, predictedLabel: predictedLabel, prediction: prediction,
                      correctedLabel: correctedLabel).establishedLabel
    }
}

/// A recorded training round, with what it measured.
public struct Round: Sendable, Equatable {
    public var number: Int
    /// The checkpoint file, relative to the workspace (`Workspace.checkpointPath(of:)`).
    public var checkpoint: String
    public var status: RoundStatus
    public var trainingSize: Int
    /// Validation and test metrics; nil only for a round stored without readable metrics.
    public var metrics: RoundMetrics?
    /// The newest answer (feedback id) when it began training: it trained on that one and the
    /// ones before. nil for rounds recorded before schema 5.
    public var lastFeedbackID: Int64? = nil
    /// The round in use when this one was trained — the one it replaced, or would have (a
    /// candidate): what its figures are compared with. nil for the first round.
    public var replacedNumber: Int? = nil

    /// Whether the round trained its network's defect map (the mask loss): only then does
    /// that map say something of real defects worth showing.
    public var trainedItsDefectMap: Bool { metrics?.maskRegions != nil }
}

/// What a round measured, stored as JSON in the rounds table.
public struct RoundMetrics: Sendable, Codable, Equatable {
    public var validation: ClassificationMetrics
    public var test: ClassificationMetrics
    public var epochs: Int
    public var bestEpoch: Int
    public var seconds: Double
    /// Where P(NOK) is cut for pass / review / reject, and what that does; nil for rounds
    /// recorded before, or without both classes among the validation parts.
    public var operatingPoint: OperatingPoint? = nil
    /// The paired comparison with the round in use on the validation parts, when the rule
    /// `unless-worse` decided with it.
    public var promotionEvidence: PairedComparison? = nil
    /// Set when the round would have gone live but another round was put in use while it
    /// trained (a rollback, a promotion, another station's round): the round then in use
    /// (0: none). Its comparison was with a round no longer in use, so it waits as a candidate.
    public var inUseChangedTo: Int? = nil
    /// With the mask loss on: how many defective training parts had a known region (painted,
    /// a refutation's, or the data set's) and trained the network's defect map; nil when the
    /// round trained without it.
    public var maskRegions: Int? = nil
}

/// A near hit or near miss waiting for the supervisor.
public struct Review: Sendable, Equatable {
    public var id: Int64
    public var path: String
    public var reason: ReviewReason
    /// The wrongly predicted query it belongs to.
    public var of: String
    /// Not yet answered.
    public var isOpen: Bool
}

/// A query reserved for one person until it expires.
public struct Lease: Sendable, Equatable {
    public var itemID: Int64
    public var path: String
    public var user: String
    /// Seconds since 1970.
    public var expires: Double
}
