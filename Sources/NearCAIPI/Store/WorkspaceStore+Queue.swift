import Foundation
internal import Storage

/// Who is being asked what: the leases on queries and the supervisor's review queue.
extension WorkspaceStore {
    // MARK: Leases

    /// Leases the pool item `itemID` to `user` until `expires` in one statement of its own —
    /// unless another user holds a lease on it that runs past `now`, or it has left the pool:
    /// true when it is now `user`'s. The statement alone decides, row by row (on a server two
    /// stations claiming one item queue on that row only; the second sees the first's lease
    /// and gets nothing), so a station picks its next query without the workspace's writer
    /// lock, and a station that read an old state cannot take what another holds.
    func claimLease(_ itemID: Int64, to user: String, until expires: Double, now: Double) throws -> Bool {
        try statementRetryingWhenBusy {
            !(try database.query("""
                INSERT INTO leases (item_id, "user", expires)
                SELECT id, ?, ? FROM items WHERE id = ? AND split = 'pool'
                ON CONFLICT (item_id) DO UPDATE SET "user" = excluded."user", expires = excluded.expires
                WHERE leases.expires <= ? OR leases."user" = excluded."user"
                RETURNING item_id
                """, [.text(user), .real(expires), .integer(itemID), .real(now)]).isEmpty)
        }
    }

    func releaseLease(_ itemID: Int64, of user: String) throws {
        try database.query("DELETE FROM leases WHERE item_id = ? AND \"user\" = ?", [.integer(itemID), .text(user)])
    }

    /// Leases that have not expired at `now` (all leases when nil), oldest item first.
    func leases(unexpiredAt now: Double?) throws -> [Lease] {
        try database.query("""
            SELECT l.item_id, i.path, l."user", l.expires FROM leases l JOIN items i ON i.id = l.item_id
            WHERE l.expires > ? ORDER BY l.item_id
            """, [.real(now ?? -.infinity)]).compactMap { row in
            guard let id = row[0].integerValue, let path = row[1].textValue, let user = row[2].textValue, let expires = row[3].realValue else { return nil }
            return Lease(itemID: id, path: path, user: user, expires: expires)
        }
    }

    // MARK: Reviews

    /// Queues the pool item at `path` for the supervisor as the `reason` of the query at
    /// `queryPath` (once: the same pair is not queued twice).
    func queueReview(of path: String, reason: ReviewReason, forQuery queryPath: String, at time: Date) throws {
        try database.query("""
            INSERT INTO review_queue (item_id, reason, of_item_id, created)
            SELECT n.id, ?, q.id, ? FROM items n, items q WHERE n.path = ? AND q.path = ?
            ON CONFLICT DO NOTHING
            """, [.text(reason.rawValue), .text(ISO8601DateFormatter().string(from: time)), .text(path), .text(queryPath)])
    }

    /// Closes review `id`; false when it was already closed (someone else answered first).
    func closeReview(_ id: Int64) throws -> Bool {
        try database.query("UPDATE review_queue SET done = 1 WHERE id = ? AND done = 0 RETURNING id", [.integer(id)]).count == 1
    }

    /// Closes every open review of the item `itemID` (it was answered).
    func closeReviews(ofItem itemID: Int64) throws {
        try database.query("UPDATE review_queue SET done = 1 WHERE item_id = ? AND done = 0", [.integer(itemID)])
    }

    /// Whether review `id` is still waiting for its answer.
    func reviewIsOpen(_ id: Int64) throws -> Bool {
        try database.query("SELECT done FROM review_queue WHERE id = ?", [.integer(id)]).first?.first?.integerValue == 0
    }

    /// With `openOnly`, the open reviews whose item is still in the pool (someone may have
    /// answered the item as a query meanwhile); else every review. Oldest first.
    func reviews(openOnly: Bool) throws -> [Review] {
        try database.query("""
            SELECT r.id, n.path, r.reason, q.path, r.done FROM review_queue r
            JOIN items n ON n.id = r.item_id JOIN items q ON q.id = r.of_item_id
            \(openOnly ? "WHERE r.done = 0 AND n.split = 'pool'" : "") ORDER BY r.id
            """).compactMap { row in
            guard let id = row[0].integerValue, let path = row[1].textValue, let reason = row[2].word(ReviewReason.self),
                  let of = row[3].textValue, let done = row[4].integerValue else { return nil }
            return Review(id: id, path: path, reason: reason, of: of, isOpen: done == 0)
        }
    }
}
