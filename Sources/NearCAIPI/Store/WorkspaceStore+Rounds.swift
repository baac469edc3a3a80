import Foundation
internal import Storage

extension WorkspaceStore {
    /// Every round, oldest first: the one reader of the rounds table.
    func rounds() throws -> [Round] {
        try database.query("SELECT number, checkpoint, status, training_size, metrics FROM rounds ORDER BY number").compactMap { row in
            guard let number = row[0].integerValue, let checkpoint = row[1].textValue, let status = row[2].word(RoundStatus.self),
                  let size = row[3].integerValue else { return nil }
            let metrics = row[4].textValue.flatMap { try? JSONDecoder().decode(RoundMetrics.self, from: Data($0.utf8)) }
            return Round(number: Int(number), checkpoint: checkpoint, status: status, trainingSize: Int(size), metrics: metrics)
        }
    }

    /// Records `round` as the active one in one transaction: the previous active round is
    /// superseded and the feedback up to `lastFeedbackID` that no round had trained on is
    /// marked as this round's.
    func recordActiveRound(_ round: Round, parentNumber: Int?, lastFeedbackID: Int64) throws {
        let json = String(decoding: try JSONEncoder().encode(round.metrics), as: UTF8.self)
        try database.transaction {
            try database.query("UPDATE rounds SET status = 'superseded' WHERE status = 'active'")
            try database.query("""
                INSERT INTO rounds (number, parent_id, checkpoint, training_size, metrics, created, status)
                VALUES (?, (SELECT id FROM rounds WHERE number = ?), ?, ?, ?, ?, 'active')
                """, [.integer(Int64(round.number)), parentNumber.map { .integer(Int64($0)) } ?? .null, .text(round.checkpoint),
                      .integer(Int64(round.trainingSize)), .text(json), .text(ISO8601DateFormatter().string(from: Date()))])
            try database.query("""
                UPDATE feedback SET round_id = (SELECT id FROM rounds WHERE number = ?)
                WHERE round_id IS NULL AND reverted = 0 AND id <= ?
                """, [.integer(Int64(round.number)), .integer(lastFeedbackID)])
        }
    }

    /// Makes round `number` active: later rounds rolled back, an earlier active round
    /// superseded — one transaction. The answers the later rounds trained on stay true; the
    /// model now active has not learnt from them, so they wait for the next round again.
    func rollback(to number: Int) throws {
        try database.transaction {
            try database.query("UPDATE feedback SET round_id = NULL WHERE round_id IN (SELECT id FROM rounds WHERE number > ?)",
                               [.integer(Int64(number))])
            try database.query("UPDATE rounds SET status = 'rolled_back' WHERE number > ?", [.integer(Int64(number))])
            try database.query("UPDATE rounds SET status = 'superseded' WHERE number < ? AND status = 'active'", [.integer(Int64(number))])
            try database.query("UPDATE rounds SET status = 'active' WHERE number = ?", [.integer(Int64(number))])
        }
    }
}
