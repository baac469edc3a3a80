@testable import NearCAIPI
import Storage

extension WorkspaceStore {
    /// Sets `user`'s lease on `itemID` to `expires`, whoever held it: a test's way to put the
    /// leases where it wants them (stations claim theirs, `claimLease`).
    func lease(_ itemID: Int64, to user: String, until expires: Double) throws {
        try database.query("""
            INSERT INTO leases (item_id, "user", expires) VALUES (?, ?, ?)
            ON CONFLICT (item_id) DO UPDATE SET "user" = excluded."user", expires = excluded.expires
            """, [.integer(itemID), .text(user), .real(expires)])
    }
}
