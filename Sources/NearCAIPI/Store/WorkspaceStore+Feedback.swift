import Foundation
internal import Storage

/// An original with a known label, as an export writes it.
struct ExportedItem {
    var item: ItemRecord
    /// The latest painted mask (PNG) of a standing answer, if any.
    var correctedMask: [UInt8]?
}

extension WorkspaceStore {
    /// Inserts `event` about `itemID`; returns the feedback id. Call inside a transaction.
    func insertFeedback(_ event: FeedbackEvent, itemID: Int64, time: Date, movedFromPool: Bool) throws -> Int64 {
        try database.query("""
            INSERT INTO feedback (item_id, "user", role, moved_from_pool, time, predicted_label, predicted_confidence, prediction_verdict,
                                  explanation_verdict, corrected_label, corrected_mask)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """, [.integer(itemID), .text(event.user), SQLValue(word: event.role), .integer(movedFromPool ? 1 : 0),
                  .text(ISO8601DateFormatter().string(from: time)),
                  SQLValue(event.predictedLabel), event.predictedConfidence.map { .real($0) } ?? .null,
                  SQLValue(word: event.prediction), SQLValue(word: event.explanation), SQLValue(event.correctedLabel),
                  event.correctedMask.map { .blob($0) } ?? .null]).first?.first?.integerValue ?? 0
    }

    /// The id of `user`'s latest answer on the item at `path`, nil when none.
    func latestAnswer(by user: String, on path: String) throws -> Int64? {
        try database.query("""
            SELECT max(f.id) FROM feedback f JOIN items i ON i.id = f.item_id WHERE f."user" = ? AND i.path = ?
            """, [.text(user), .text(path)]).first?.first?.integerValue
    }

    /// Every feedback event, oldest first.
    func feedbackLog() throws -> [FeedbackRecord] {
        try database.query("""
            SELECT f.id, i.path, f."user", f.time, f.prediction_verdict, f.explanation_verdict, f.corrected_label,
                   f.corrected_mask IS NOT NULL, r.number, f.reverted, f.role, f.predicted_label,
                   (SELECT \(listOfNumbers("t.number")) FROM round_answers ra JOIN rounds t ON t.id = ra.round_id WHERE ra.feedback_id = f.id),
                   i.split
            FROM feedback f JOIN items i ON i.id = f.item_id LEFT JOIN rounds r ON r.id = f.round_id ORDER BY f.id
            """).compactMap { row in
            guard let id = row[0].integerValue, let path = row[1].textValue, let user = row[2].textValue, let time = row[3].textValue,
                  let masked = row[7].integerValue, let reverted = row[9].integerValue else { return nil }
            return FeedbackRecord(id: id, itemPath: path, user: user, role: row[10].word(Role.self), time: time,
                                  predictedLabel: row[11].classLabel, prediction: row[4].word(Verdict.self),
                                  explanation: row[5].word(Verdict.self), correctedLabel: row[6].classLabel,
                                  hasCorrectedMask: masked != 0, roundNumber: row[8].integerValue.map(Int.init), reverted: reverted != 0,
                                  trainedInto: (row[12].textValue ?? "").split(separator: ",").compactMap { Int($0) }.sorted(),
                                  heldForValidation: row[13].textValue == "val")
        }
    }

    /// Answers that establish a label (`FeedbackEvent.establishedLabel`, in SQL): a skip says
    /// nothing, so it is no interaction for training.
    private static let establishesALabel = """
        (corrected_label IS NOT NULL OR (prediction_verdict IN ('right', 'wrong') AND predicted_label IS NOT NULL))
        """

    /// Answers no round has trained on yet that establish a label (skips and reverted
    /// answers excluded); only `user`'s when given.
    func pendingFeedbackCount(user: String? = nil) throws -> Int {
        let pending = "SELECT count(*) FROM feedback WHERE round_id IS NULL AND reverted = 0 AND \(Self.establishesALabel)"
        let rows = try user.map { try database.query(pending + " AND \"user\" = ?", [.text($0)]) } ?? database.query(pending)
        return Int(rows.first?.first?.integerValue ?? 0)
    }

    /// Marks the answers `ids` reverted, in one transaction, and undoes what they did to their
    /// items: an item keeps the label of its latest standing answer; with none left, an item
    /// an answer moved out of the pool goes back to it unlabelled (and the refutations made
    /// from it leave training), any other item gets the data set's label back.
    func revert(_ ids: [Int64]) throws {
        try database.writeTransaction {
            var items = Set<Int64>()
            for id in ids {
                try database.query("UPDATE feedback SET reverted = 1 WHERE id = ? AND reverted = 0", [.integer(id)])
                if let item = try database.query("SELECT item_id FROM feedback WHERE id = ?", [.integer(id)]).first?.first?.integerValue {
                    items.insert(item)
                }
            }
            for item in items {
                let standing = try database.query("""
                    SELECT corrected_label, prediction_verdict, predicted_label FROM feedback
                    WHERE item_id = ? AND reverted = 0 ORDER BY id DESC
                    """, [.integer(item)]).lazy.compactMap { row in
                    FeedbackEvent(itemPath: "", user: "", predictedLabel: row[2].classLabel, prediction: row[1].word(Verdict.self),
                                  correctedLabel: row[0].classLabel).establishedLabel
                }.first
                let moved = try database.query("SELECT max(moved_from_pool) FROM feedback WHERE item_id = ?", [.integer(item)])
                    .first?.first?.integerValue == 1
                if let standing {
                    try database.query("UPDATE items SET label = ? WHERE id = ?", [SQLValue(standing), .integer(item)])
                } else if moved {
                    try database.query("UPDATE items SET label = NULL, split = 'pool' WHERE id = ?", [.integer(item)])
                    // Its near hit and near miss were asked because of the withdrawn answer.
                    try database.query("UPDATE review_queue SET done = 1 WHERE of_item_id = ? AND done = 0", [.integer(item)])
                    try database.query("""
                        UPDATE items SET usable = 0, problem = 'made from an answer that was reverted'
                        WHERE parent_id = ? AND origin = 'refutation'
                        """, [.integer(item)])
                } else {
                    try database.query("UPDATE items SET label = CASE WHEN split = 'pool' THEN NULL ELSE truth_label END WHERE id = ?",
                                       [.integer(item)])
                }
            }
        }
    }

    /// The SQL of the newest painted mask (PNG) among the standing answers on the item whose id
    /// is `itemID` (a column of the outer query): NULL when nobody painted one.
    static func newestPaintedMask(ofItem itemID: String) -> String {
        """
        (SELECT corrected_mask FROM feedback f WHERE f.item_id = \(itemID) AND f.reverted = 0
         AND f.corrected_mask IS NOT NULL ORDER BY f.id DESC LIMIT 1)
        """
    }

    /// The latest painted mask (PNG) of a standing answer on the item at `path`.
    func paintedMask(of path: String) throws -> [UInt8]? {
        try database.query("SELECT \(Self.newestPaintedMask(ofItem: "i.id")) FROM items i WHERE i.path = ?",
                           [.text(path)]).first?.first?.blobValue
    }

    /// Items with a standing (not reverted) answer.
    func answeredItemIDs() throws -> Set<Int64> {
        Set(try database.query("SELECT DISTINCT item_id FROM feedback WHERE reverted = 0").compactMap { $0[0].integerValue })
    }

    /// Items not to ask `user`: those with a standing answer other than a skip, those `user`
    /// skipped — a skip says "not me, not now", so others are still asked the part — and those
    /// waiting for the supervisor as a near hit or near miss: asked as a plain query, such a
    /// part would be answered without the query it is a neighbour of, and its review closed
    /// unseen (near hits and misses are among the least confident parts, so they were asked
    /// first).
    func itemIDsNotToAsk(_ user: String) throws -> Set<Int64> {
        Set(try database.query("""
            SELECT item_id FROM feedback WHERE reverted = 0 AND (prediction_verdict IS DISTINCT FROM 'skip' OR "user" = ?)
            UNION SELECT item_id FROM review_queue WHERE done = 0
            """, [.text(user)]).compactMap { $0[0].integerValue })
    }

    /// The newest feedback id (0 when there is none).
    func lastFeedbackID() throws -> Int64 {
        try database.query("SELECT max(id) FROM feedback").first?.first?.integerValue ?? 0
    }

    /// The newest standing painted mask (PNG) of each usable labelled item of `split` that has
    /// one, by item id.
    func paintedMasks(in split: Split) throws -> [Int64: [UInt8]] {
        var found: [Int64: [UInt8]] = [:]
        for row in try database.query("""
            SELECT i.id, \(Self.newestPaintedMask(ofItem: "i.id")) FROM items i
            WHERE i.split = ? AND i.usable = 1 AND i.label IS NOT NULL
            """, [.text(split.rawValue)]) {
            if let id = row[0].integerValue, let png = row[1].blobValue { found[id] = png }
        }
        return found
    }

    /// Usable originals whose label is known, by path, each with its latest standing mask.
    func exportedItems() throws -> [ExportedItem] {
        try database.query("""
            SELECT \(Self.itemColumns("i")), \(Self.newestPaintedMask(ofItem: "i.id"))
            FROM items i WHERE i.usable = 1 AND i.label IS NOT NULL AND i.origin = 'original' ORDER BY i.path
            """).compactMap { row in
            Self.itemRecord(row).map { ExportedItem(item: $0, correctedMask: row[Self.itemColumnCount].blobValue) }
        }
    }
}
