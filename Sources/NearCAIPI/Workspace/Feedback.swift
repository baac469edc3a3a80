import Foundation
import Storage

/// One thing an expert said about an item.
public struct FeedbackEvent: Sendable, Equatable {
    public enum Verdict: String, Sendable, CaseIterable { case right, wrong, skip }

    public var itemPath: String
    public var user: String
    public var predictedLabel: Int?
    public var predictedConfidence: Double?
    public var prediction: Verdict?
    public var explanation: Verdict?
    /// The expert's label (0 OK, 1 NOK) when they gave one.
    public var correctedLabel: Int?
    /// The painted defect region, as PNG.
    public var correctedMask: [UInt8]?

    public init(itemPath: String, user: String, predictedLabel: Int? = nil, predictedConfidence: Double? = nil,
                prediction: Verdict? = nil, explanation: Verdict? = nil, correctedLabel: Int? = nil, correctedMask: [UInt8]? = nil) {
        self.itemPath = itemPath
        self.user = user
        self.predictedLabel = predictedLabel
        self.predictedConfidence = predictedConfidence
        self.prediction = prediction
        self.explanation = explanation
        self.correctedLabel = correctedLabel
        self.correctedMask = correctedMask
    }

    /// The label this feedback establishes: the expert's correction, else the prediction
    /// they confirmed; nil for a skip.
    public var establishedLabel: Int? {
        if let correctedLabel { return correctedLabel }
        if prediction == .right, let predictedLabel { return predictedLabel }
        if prediction == .wrong, let predictedLabel { return 1 - predictedLabel }
        return nil
    }
}

extension Workspace {
    /// Records `event` and the label it establishes, in one IMMEDIATE transaction that is
    /// committed (WAL, synchronous FULL: on disk) before this returns. Waits for another
    /// writer's lock up to the busy timeout, then retries a few times, so concurrent
    /// inspectors do not lose writes.
    /// With `acceptIntoTraining`, an item whose label the feedback establishes leaves the pool
    /// for the training split in the same transaction (Algorithm 1: what the expert accepted
    /// becomes training data).
    /// `alongside` runs inside the same transaction (closing a review with its answer).
    @discardableResult
    public func recordFeedback(_ event: FeedbackEvent, at time: Date = Date(), acceptIntoTraining: Bool = false,
                               alongside: (Database) throws -> Void = { _ in }) throws -> Int64 {
        guard let row = try database.query("SELECT id FROM items WHERE path = ? AND usable = 1", [.text(event.itemPath)]).first,
              case .integer(let item) = row[0] else {
            throw WorkspaceError(path, "no usable item '\(event.itemPath)' in this workspace")
        }
        var attempt = 0
        while true {
            do {
                return try database.transaction {
                    try database.query("""
                        INSERT INTO feedback (item_id, user, time, predicted_label, predicted_confidence, prediction_verdict,
                                              explanation_verdict, corrected_label, corrected_mask)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, [.integer(item), .text(event.user), .text(ISO8601DateFormatter().string(from: time)),
                              event.predictedLabel.map { .integer(Int64($0)) } ?? .null,
                              event.predictedConfidence.map { .real($0) } ?? .null,
                              event.prediction.map { .text($0.rawValue) } ?? .null,
                              event.explanation.map { .text($0.rawValue) } ?? .null,
                              event.correctedLabel.map { .integer(Int64($0)) } ?? .null,
                              event.correctedMask.map { .blob($0) } ?? .null])
                    let id = database.lastInsertRowID
                    if let label = event.establishedLabel {
                        try database.query("UPDATE items SET label = ? WHERE id = ?", [.integer(Int64(label)), .integer(item)])
                        if acceptIntoTraining {
                            try database.query("UPDATE items SET split = 'train' WHERE id = ? AND split = 'pool'", [.integer(item)])
                            try database.query("DELETE FROM leases WHERE item_id = ?", [.integer(item)])
                        }
                    }
                    try alongside(database)
                    return id
                }
            } catch let error as SQLiteError where error.isBusy && attempt < 5 {
                attempt += 1
            }
        }
    }

    /// Every feedback event, oldest first.
    public func feedbackLog() throws -> [FeedbackRecord] {
        try database.query("""
            SELECT f.id, i.path, f.user, f.time, f.prediction_verdict, f.explanation_verdict, f.corrected_label, f.reverted
            FROM feedback f JOIN items i ON i.id = f.item_id ORDER BY f.id
            """).compactMap { row in
            guard case .integer(let id) = row[0], case .text(let path) = row[1], case .text(let user) = row[2],
                  case .text(let time) = row[3], case .integer(let reverted) = row[7] else { return nil }
            func verdict(_ value: SQLValue) -> FeedbackEvent.Verdict? {
                if case .text(let text) = value { return FeedbackEvent.Verdict(rawValue: text) }
                return nil
            }
            var label: ClassLabel? = nil
            if case .integer(let value) = row[6] { label = ClassLabel(rawValue: Int(value)) }
            return FeedbackRecord(id: id, itemPath: path, user: user, time: time, prediction: verdict(row[4]),
                                  explanation: verdict(row[5]), correctedLabel: label, reverted: reverted != 0)
        }
    }
}

/// A stored feedback event, as the log, the screens and exports show it.
public struct FeedbackRecord: Sendable, Equatable {
    public var id: Int64
    public var itemPath: String
    public var user: String
    /// ISO 8601, UTC, as stored.
    public var time: String
    public var prediction: FeedbackEvent.Verdict?
    public var explanation: FeedbackEvent.Verdict?
    public var correctedLabel: ClassLabel?
    /// Excluded from training (rolled back) until given again.
    public var reverted: Bool
}
