import NeuralNet

/// The keys of the settings table: every setting the engine stores, named once.
enum SettingKey: String, CaseIterable {
    // Fixed by `init`.
    case dataRoot = "data_root", layout, architecture, inputSize = "input_size", seed, classNames = "class_names", split, created
    // How rounds train (`train`, the operator's screen).
    case occlusionTraining = "occlusion_training", retrainEpochs = "retrain_epochs", promotion, maskLoss = "mask_loss"
    case rightReasons = "right_reasons"
    case promotionConfidence = "promotion_confidence", answersForValidation = "answers_for_validation"
    // Where a round's P(NOK) is cut for pass / review / reject (OperatingPoint).
    case maxMissedDefects = "max_missed_defects", maxGoodRejected = "max_good_rejected"
    // How the loop runs (LoopSettings).
    case queryStrategy = "query_strategy", refutations, nearNeighbours = "near_neighbours"
    case refutationsPerItem = "refutations_per_item", interactionsPerRound = "interactions_per_round", leaseSeconds = "lease_seconds"
    case heatmapFill = "heatmap_fill", heatmapMasks = "heatmap_masks", heatmapGrid = "heatmap_grid"
}

/// Typed settings of a workspace. A stored value the engine cannot use is refused with the
/// setting's name and the value, never replaced by a default in silence (a workspace edited
/// by hand or by a newer version must not train a different network than it says).
extension Workspace {
    /// The value stored for `key`, or nil.
    func setting(_ key: SettingKey) throws -> String? { try store.setting(key.rawValue) }

    /// Stores `values` in one transaction.
    func setSettings(_ values: [(SettingKey, String)]) throws {
        try store.setSettings(values.map { (key: $0.0.rawValue, value: $0.1) })
    }

    /// `parse`d value of `key`; `fallback` when unset; an error naming the setting, its
    /// value and `expected` when `parse` refuses it.
    func setting<Value>(_ key: SettingKey, fallback: Value?, expected: String, _ parse: (String) -> Value?) throws -> Value {
        guard let text = try setting(key) else {
            guard let fallback else { throw WorkspaceError(name, "setting '\(key.rawValue)' is missing") }
            return fallback
        }
        guard let value = parse(text) else {
            throw WorkspaceError(name, "setting '\(key.rawValue)' has an unusable value '\(text)' (\(expected))")
        }
        return value
    }

    /// Where the data set is (absolute; set by `init`).
    public var dataRoot: String {
        get throws { try setting(.dataRoot, fallback: nil, expected: "a folder") { $0.isEmpty ? nil : $0 } }
    }

    /// The data set's layout as `init` found it.
    public var layout: WorkspaceOptions.Layout {
        get throws { try setting(.layout, fallback: .folders, expected: "mvtec or folders", WorkspaceOptions.Layout.init(rawValue:)) }
    }

    /// The network every round trains (`ResNetConfiguration.named`).
    public var architecture: String {
        get throws {
            try setting(.architecture, fallback: Architecture.standard.rawValue, expected: "resnet18 or resnet18-wK with K 1, 2, 4 or 8") {
                ResNetConfiguration.named($0, inputChannels: 3, inputSize: 128, classCount: 2) == nil ? nil : $0
            }
        }
    }

    /// The side of the square model input, in pixels.
    public var inputSize: Int {
        get throws { try setting(.inputSize, fallback: 128, expected: "a whole number 32-512") { Int($0).flatMap { (32...512).contains($0) ? $0 : nil } } }
    }

    /// Whether rounds train with `OcclusionAugmentation`.
    public var occlusionTraining: Bool {
        get throws { try setting(.occlusionTraining, fallback: OcclusionAugmentation.standard, expected: "on or off", Self.onOff) }
    }

    public func setOcclusionTraining(_ enabled: Bool) throws { try setSettings([(.occlusionTraining, enabled ? "on" : "off")]) }

    /// Whether rounds train the network's defect map on the regions the engine knows
    /// (`maskTargets`) beside its decision.
    public var maskLoss: Bool {
        get throws { try setting(.maskLoss, fallback: Self.standardMaskLoss, expected: "on or off", Self.onOff) }
    }

    public func setMaskLoss(_ enabled: Bool) throws { try setSettings([(.maskLoss, enabled ? "on" : "off")]) }

    /// Whether rounds penalise the classifier's evidence for NOK outside the regions the
    /// engine knows (`maskTargets`; `RightReasonsLoss` on the class activation map).
    public var rightReasons: Bool {
        get throws { try setting(.rightReasons, fallback: Self.standardRightReasons, expected: "on or off", Self.onOff) }
    }

    public func setRightReasons(_ enabled: Bool) throws { try setSettings([(.rightReasons, enabled ? "on" : "off")]) }

    /// Whether a workspace trains with the right-reasons loss unless told otherwise (chosen by
    /// measurement, Docs/Explanations.md).
    public static let standardRightReasons = false

    /// Whether a workspace trains with the mask loss unless told otherwise (chosen by
    /// measurement, Docs/Explanations.md).
    public static let standardMaskLoss = false

    /// Epochs of a round started from the screens.
    public var retrainEpochs: Int {
        get throws {
            try setting(.retrainEpochs, fallback: Self.standardRetrainEpochs, expected: "a whole number 1-500") {
                Int($0).flatMap { (1...500).contains($0) ? $0 : nil }
            }
        }
    }

    public func setRetrainEpochs(_ epochs: Int) throws {
        guard (1...500).contains(epochs) else { throw WorkspaceError(name, "retraining epochs must be between 1 and 500; got \(epochs)") }
        try setSettings([(.retrainEpochs, String(epochs))])
    }

    /// When a new round replaces the active one.
    public var promotion: RoundPromotion {
        get throws {
            try setting(.promotion, fallback: .unlessWorse, expected: RoundPromotion.allCases.map(\.rawValue).joined(separator: ", "),
                        RoundPromotion.init(rawValue:))
        }
    }

    public func setPromotion(_ rule: RoundPromotion) throws { try setSettings([(.promotion, rule.rawValue)]) }

    /// The share of the answered parts of each class kept for validation instead of training
    /// (0.2: every fifth; 0: none, the paper's protocol).
    public var answersForValidation: Double {
        get throws { try fraction(.answersForValidation, fallback: Self.standardAnswersForValidation, in: Self.shares) }
    }

    public func setAnswersForValidation(_ share: Double) throws { try setFractions([(.answersForValidation, share)], in: Self.shares) }

    /// Every fifth answered part of each class validates.
    public static let standardAnswersForValidation = 0.2

    /// How sure `unless-worse` must be that a new round is worse before keeping it back.
    public var promotionConfidence: Double {
        get throws { try fraction(.promotionConfidence, fallback: 0.9, in: 0.5...0.999) }
    }

    public func setPromotionConfidence(_ confidence: Double) throws { try setFractions([(.promotionConfidence, confidence)], in: 0.5...0.999) }

    /// The share of defective parts a round's pass threshold may let through (0 allowed),
    /// and the share of good parts its reject threshold may set aside (`OperatingPoint`).
    public var maxMissedDefects: Double {
        get throws { try fraction(.maxMissedDefects, fallback: 0.01, in: Self.shares) }
    }

    public var maxGoodRejected: Double {
        get throws { try fraction(.maxGoodRejected, fallback: 0.01, in: Self.shares) }
    }

    /// Sets either budget (a fraction from 0 to 0.5); rounds trained afterwards use it.
    public func setDecisionBudgets(maxMissedDefects: Double?, maxGoodRejected: Double?) throws {
        try setFractions([(.maxMissedDefects, maxMissedDefects), (.maxGoodRejected, maxGoodRejected)], in: Self.shares)
    }

    /// The range of the shares above: a budget or a held-out share beyond a half makes no sense.
    static let shares: ClosedRange<Double> = 0...0.5

    /// A fraction setting within `range`; `fallback` when unset.
    private func fraction(_ key: SettingKey, fallback: Double, in range: ClosedRange<Double>) throws -> Double {
        try setting(key, fallback: fallback, expected: "a fraction from \(written(range.lowerBound)) to \(written(range.upperBound))") {
            Double($0).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    /// Stores the given fractions (nil: left as they are) in one transaction, each checked
    /// against `range` first — nothing is stored when one is out of it.
    private func setFractions(_ values: [(SettingKey, Double?)], in range: ClosedRange<Double>) throws {
        var checked: [(SettingKey, String)] = []
        for case let (key, value?) in values {
            guard range.contains(value) else {
                throw WorkspaceError(name, "'\(key.rawValue)' must be a fraction from \(written(range.lowerBound)) to \(written(range.upperBound)); "
                                     + "got \(value)")
            }
            checked.append((key, String(value)))
        }
        if !checked.isEmpty { try setSettings(checked) }
    }

    /// 0, 0.5, 0.999 as a person writes them.
    private func written(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }

    /// Epochs of a round started from the screens, unless the workspace says otherwise.
    public static let standardRetrainEpochs = 20

    static func onOff(_ text: String) -> Bool? { ["on": true, "off": false][text] }
}
