import Explanations
import Foundation
import Imaging
import Storage

/// What happened when an answer was submitted.
public struct SubmitOutcome: Sendable, Equatable {
    public var feedbackID: Int64
    /// Paths (relative to the workspace) of the refutations made from this answer.
    public var refutations: [String]
    /// Pool items queued for the supervisor: (path, "near-hit" | "near-miss").
    public var queuedReviews: [String]
    /// Interactions not yet trained on, and whether they reach the round size.
    public var pending: Int
    public var retrainDue: Bool
}

/// The submit step of Algorithm 1 over a workspace and its pool predictions.
public final class InspectionSession {
    public let workspace: Workspace
    public let pool: PoolModel
    /// Refutations per accepted item (a setting; the design default is 4).
    public var refutationsPerItem = 4
    /// Interactions per retraining round (the paper: 42 on casting, 27 on welding).
    public var interactionsPerRound = 42

    public init(workspace: Workspace, pool: PoolModel) {
        self.workspace = workspace
        self.pool = pool
    }

    /// Records the expert's answer on `query` (durably, first), then:
    /// - an established label moves the item from the pool into training;
    /// - refutations are made from the relevant region — the painted mask if there is one,
    ///   else the heatmap's top 10 % when the explanation was confirmed;
    /// - a wrong prediction queues the item's near hit and near miss for the supervisor.
    public func submit(_ event: FeedbackEvent, for query: Query, heatmap: Image? = nil, seed: UInt64 = 1) throws -> SubmitOutcome {
        let id = try workspace.recordFeedback(event, acceptIntoTraining: true)
        var outcome = SubmitOutcome(feedbackID: id, refutations: [], queuedReviews: [], pending: 0, retrainDue: false)
        if let label = event.establishedLabel {
            let size = pool.classifier.inputSize, channels = pool.classifier.channels
            let image = try workspace.image(query.path, size: size, channels: channels)
            var region: BinaryMask? = nil
            if let png = event.correctedMask {
                region = BinaryMask(thresholding: try ImageFile.decode(png, name: "corrected mask").image).resized(width: size, height: size)
            } else if event.explanation == .right, let heatmap {
                region = SaliencyMetrics.topFraction(heatmap.resizedForInput(width: size, height: size))
            }
            if let region, !region.isEmpty {
                let hosts = label == 1 ? try okHosts(size: size, channels: channels, limit: 8) : []
                let made = RefutationMaker.make(image: image, region: region, isDefect: label == 1, count: refutationsPerItem,
                                                seed: seed ^ UInt64(bitPattern: id), okImages: hosts)
                outcome.refutations = try workspace.addRefutations(of: query.path, label: label, made)
            }
        }
        if event.prediction == .wrong {
            let neighbours = try pool.neighbours(of: query.path)
            let database = workspace.database
            try database.transaction {
                for (reason, neighbour) in [("near-hit", neighbours.nearHit), ("near-miss", neighbours.nearMiss)] {
                    guard let neighbour else { continue }
                    try database.query("""
                        INSERT OR IGNORE INTO review_queue (item_id, reason, of_item_id, created)
                        SELECT n.id, ?, q.id, ? FROM items n, items q WHERE n.path = ? AND q.path = ?
                        """, [.text(reason), .text(ISO8601DateFormatter().string(from: Date())), .text(neighbour.path), .text(query.path)])
                    outcome.queuedReviews.append(neighbour.path)
                }
            }
        }
        outcome.pending = try workspace.pendingFeedbackCount()
        outcome.retrainDue = outcome.pending >= interactionsPerRound
        return outcome
    }

    /// The supervisor's open reviews, oldest first: (item path, reason, the query it belongs to).
    public func reviewQueue() throws -> [(path: String, reason: String, of: String)] {
        try workspace.database.query("""
            SELECT n.path, r.reason, q.path FROM review_queue r
            JOIN items n ON n.id = r.item_id JOIN items q ON q.id = r.of_item_id
            WHERE r.done = 0 ORDER BY r.id
            """).compactMap { row in
            guard case .text(let path) = row[0], case .text(let reason) = row[1], case .text(let of) = row[2] else { return nil }
            return (path, reason, of)
        }
    }

    /// OK training originals to paste defects into.
    func okHosts(size: Int, channels: Int, limit: Int) throws -> [(name: String, image: Image)] {
        try workspace.labelledItems(split: "train").filter { $0.label == 0 && !$0.isGenerated }.prefix(limit).map { item in
            (item.path, try ImageFile.read(try workspace.file(of: item)).image.modelInput(channels: channels, size: size))
        }
    }
}
