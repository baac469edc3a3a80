import Foundation
internal import Storage

/// Copying a workspace's rows from one store into another — SQLite into PostgreSQL or back —
/// for `nearcaipi migrate`. The ids travel as they are (answers, rounds and reviews refer to
/// each other by id); leases do not (a reservation on the old workspace means nothing on the
/// new one).
extension WorkspaceStore {
    /// The tables and columns copied, parents before children (each table's rows by id, so a
    /// refutation comes after its parent and a round after the one it replaced).
    static let copiedTables: [(table: String, columns: [String], order: String)] = [
        ("settings", ["key", "value"], "key"),
        ("items", ["id", "path", "content_hash", "split", "label", "truth_label", "truth_mask_path", "origin", "parent_id", "transform",
                   "usable", "problem", "oddity"], "id"),
        ("rounds", ["id", "number", "parent_id", "checkpoint", "training_size", "metrics", "created", "status", "last_feedback_id"], "id"),
        ("feedback", ["id", "item_id", "\"user\"", "time", "predicted_label", "predicted_confidence", "prediction_verdict",
                      "explanation_verdict", "corrected_label", "corrected_mask", "round_id", "reverted", "role", "moved_from_pool"], "id"),
        ("review_queue", ["id", "item_id", "reason", "of_item_id", "created", "done"], "id"),
        ("round_answers", ["round_id", "feedback_id"], "round_id, feedback_id"),
    ]

    /// Copies every row of `copiedTables` into `target` — an empty workspace — inside the
    /// caller's write transaction on `target`; returns the rows copied per table.
    func copyRows(into target: WorkspaceStore) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for (table, columns, order) in Self.copiedTables {
            let list = columns.joined(separator: ", ")
            let rows = try database.query("SELECT \(list) FROM \(table) ORDER BY \(order)")
            let insert = "INSERT INTO \(table) (\(list)) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
            for row in rows { try target.database.query(insert, row) }
            counts[table] = rows.count
        }
        // A server's identity columns go on from the highest id copied, not from 1.
        if target.database.dialect == .postgresql {
            for table in ["items", "rounds", "feedback", "review_queue"] {
                try target.database.query("""
                    SELECT setval(pg_get_serial_sequence('\(table)', 'id'), coalesce((SELECT max(id) FROM \(table)), 0) + 1, false)
                    """)
            }
        }
        return counts
    }

    /// The rows of each copied table (what `migrate` checks after copying).
    func rowCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for (table, _, _) in Self.copiedTables {
            counts[table] = Int(try database.query("SELECT count(*) FROM \(table)").first?.first?.integerValue ?? -1)
        }
        return counts
    }
}
