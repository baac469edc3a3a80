import Foundation
internal import Storage

extension WorkspaceStore {
    /// Every round, oldest first: the one reader of the rounds table.
    func rounds() throws -> [Round] {
        try database.query("""
            SELECT r.number, r.checkpoint, r.status, r.training_size, r.metrics, r.last_feedback_id, p.number
            FROM rounds r LEFT JOIN rounds p ON p.id = r.parent_id ORDER BY r.number
            """).compactMap { row in
            guard let number = row[0].integerValue, let checkpoint = row[1].textValue, let status = row[2].word(RoundStatus.self),
                  let size = row[3].integerValue else { return nil }
            let metrics = row[4].textValue.flatMap { try? JSONDecoder().decode(RoundMetrics.self, from: Data($0.utf8)) }
            return Round(number: Int(number), checkpoint: checkpoint, status: status, trainingSize: Int(size), metrics: metrics,
                         lastFeedbackID: row[5].integerValue, replacedNumber: row[6].integerValue.map(Int.init))
        }
    }

    /// Records `round` (status active or candidate) in one transaction, with the newest
    /// answer it trained on. An active round supersedes the one before and takes the pending
    /// answers up to `lastFeedbackID` as its own; a candidate leaves them pending.
    /// Records `round`. It goes live as asked only while the round in use is still
    /// `parentNumber`, the one it was trained from and compared with; if another was put in
    /// use meanwhile, it is recorded as a candidate with that noted (`inUseChangedTo`).
    /// Returns the round as recorded.
    /// `files`: a server workspace's files that come with the round (its checkpoint), stored
    /// in the same transaction.
    @discardableResult
    func record(_ round: Round, parentNumber: Int?, lastFeedbackID: Int64, files: [(path: String, bytes: [UInt8])] = []) throws -> Round {
        var round = round
        try database.writeTransaction {
            for file in files { try putFile(file.path, bytes: file.bytes) }
            if round.status == .active {
                let inUse = try database.query("SELECT number FROM rounds WHERE status = 'active'").first?.first?.integerValue.map(Int.init)
                if inUse != parentNumber {
                    round.status = .candidate
                    round.metrics?.inUseChangedTo = inUse ?? 0
                }
            }
            let json = String(decoding: try JSONEncoder().encode(round.metrics), as: UTF8.self)
            try database.query("""
                INSERT INTO rounds (number, parent_id, checkpoint, training_size, metrics, created, status, last_feedback_id)
                VALUES (?, (SELECT id FROM rounds WHERE number = ?), ?, ?, ?, ?, 'candidate', ?)
                """, [.integer(Int64(round.number)), parentNumber.map { .integer(Int64($0)) } ?? .null, .text(round.checkpoint),
                      .integer(Int64(round.trainingSize)), .text(json), .text(ISO8601DateFormatter().string(from: Date())),
                      .integer(lastFeedbackID)])
            if round.status == .active { try activate(round.number) }
        }
        return round
    }

    /// Makes the candidate `number` the active round, within the caller's transaction.
    private func activate(_ number: Int) throws {
        try database.query("UPDATE rounds SET status = 'superseded' WHERE status = 'active'")
        try database.query("UPDATE rounds SET status = 'active' WHERE number = ?", [.integer(Int64(number))])
        try database.query("""
            UPDATE feedback SET round_id = (SELECT id FROM rounds WHERE number = ?)
            WHERE round_id IS NULL AND reverted = 0 AND id <= (SELECT coalesce(last_feedback_id, 0) FROM rounds WHERE number = ?)
            """, [.integer(Int64(number)), .integer(Int64(number))])
        try database.query("""
            INSERT INTO round_answers (round_id, feedback_id)
            SELECT round_id, id FROM feedback WHERE round_id = (SELECT id FROM rounds WHERE number = ?)
            ON CONFLICT DO NOTHING
            """, [.integer(Int64(number))])
    }

    /// Makes the candidate `number` active (false: no such candidate).
    func promote(_ number: Int) throws -> Bool {
        try database.writeTransaction {
            guard try database.query("SELECT 1 FROM rounds WHERE number = ? AND status = 'candidate'", [.integer(Int64(number))])
                .first != nil else { return false }
            try activate(number)
            return true
        }
    }

    /// Marks the candidate `number` discarded (false: no such candidate).
    func discard(_ number: Int) throws -> Bool {
        try database.query("UPDATE rounds SET status = 'discarded' WHERE number = ? AND status = 'candidate' RETURNING id",
                           [.integer(Int64(number))]).count == 1
    }

    /// Makes round `number` active: later rounds rolled back, an earlier active round
    /// superseded — one transaction. The answers the later rounds trained on stay true; the
    /// model now active has not learnt from them, so they wait for the next round again.
    func rollback(to number: Int) throws {
        try database.writeTransaction {
            try database.query("UPDATE feedback SET round_id = NULL WHERE round_id IN (SELECT id FROM rounds WHERE number > ?)",
                               [.integer(Int64(number))])
            // Only rounds that went live are rolled back: a candidate stays a candidate (the
            // operator may still promote it), a discarded or failed round stays what it is —
            // marked rolled back, it could be rolled back to and go live without ever having
            // passed the promotion rule.
            try database.query("UPDATE rounds SET status = 'rolled_back' WHERE number > ? AND status IN ('active', 'superseded', 'rolled_back')",
                               [.integer(Int64(number))])
            try database.query("UPDATE rounds SET status = 'superseded' WHERE number < ? AND status = 'active'", [.integer(Int64(number))])
            try database.query("UPDATE rounds SET status = 'active' WHERE number = ?", [.integer(Int64(number))])
        }
    }
}
