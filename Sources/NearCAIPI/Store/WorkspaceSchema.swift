import Foundation
internal import Storage

/// The workspace database's schema, as ordered migrations. `PRAGMA user_version` records how
/// many have been applied; opening a workspace applies the missing ones in one transaction.
public enum WorkspaceSchema {
    /// Each entry takes the schema from version i to i + 1.
    static let migrations: [String] = [
        // 1: the image index and settings.
        """
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,           -- relative to the data root (originals)
            content_hash TEXT,                    -- FNV-1a 64 of the file's bytes
            split TEXT NOT NULL CHECK (split IN ('train', 'val', 'test', 'pool')),
            label INTEGER CHECK (label IN (0, 1)),          -- what the engine knows; NULL in the pool
            truth_label INTEGER CHECK (truth_label IN (0, 1)),  -- the data set's label (simulated expert, evaluation)
            truth_mask_path TEXT,                 -- the data set's defect mask, relative to the data root
            origin TEXT NOT NULL DEFAULT 'original'
                CHECK (origin IN ('original', 'refutation', 'near-hit', 'near-miss')),
            parent_id INTEGER REFERENCES items(id),
            transform TEXT,                       -- how a refutation was made (auditable, reproducible)
            usable INTEGER NOT NULL DEFAULT 1,
            problem TEXT                          -- why an unusable file could not be used
        );
        CREATE INDEX items_split ON items(split, usable);
        """,
        // 2: the interactive loop: feedback, rounds, leases.
        """
        CREATE TABLE rounds (
            id INTEGER PRIMARY KEY,
            number INTEGER NOT NULL UNIQUE,
            parent_id INTEGER REFERENCES rounds(id),
            checkpoint TEXT NOT NULL,
            training_size INTEGER NOT NULL,
            metrics TEXT NOT NULL,                -- JSON: validation and test accuracy, F1, MCC
            created TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'rolled_back', 'failed'))
        );
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES items(id),
            user TEXT NOT NULL,
            time TEXT NOT NULL,
            predicted_label INTEGER,
            predicted_confidence REAL,
            prediction_verdict TEXT CHECK (prediction_verdict IN ('right', 'wrong', 'skip')),
            explanation_verdict TEXT CHECK (explanation_verdict IN ('right', 'wrong', 'skip')),
            corrected_label INTEGER CHECK (corrected_label IN (0, 1)),
            corrected_mask BLOB,                  -- PNG
            round_id INTEGER REFERENCES rounds(id),   -- the round that trained on it, once one has
            reverted INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX feedback_item ON feedback(item_id);
        CREATE TABLE leases (
            item_id INTEGER PRIMARY KEY REFERENCES items(id),
            user TEXT NOT NULL,
            expires REAL NOT NULL                 -- seconds since 1970
        );
        """,
        // 3: the supervisor's review queue (near hits and misses of wrong predictions).
        """
        CREATE TABLE review_queue (
            id INTEGER PRIMARY KEY,
            item_id INTEGER NOT NULL REFERENCES items(id),
            reason TEXT NOT NULL CHECK (reason IN ('near-hit', 'near-miss')),
            of_item_id INTEGER NOT NULL REFERENCES items(id),
            created TEXT NOT NULL,
            done INTEGER NOT NULL DEFAULT 0,
            UNIQUE (item_id, reason, of_item_id)
        );
        """,
        // 4: the role an answer was given in, and whether it moved its item out of the pool
        // (so reverting it can move the item back).
        """
        ALTER TABLE feedback ADD COLUMN role TEXT CHECK (role IN ('inspector', 'supervisor', 'operator'));
        ALTER TABLE feedback ADD COLUMN moved_from_pool INTEGER NOT NULL DEFAULT 0;
        """,
        // 5: a round worse than the active one is kept as a candidate (the operator promotes
        // or discards it), and each round remembers the newest answer it trained on. SQLite
        // cannot change a CHECK in place: the table is rebuilt (foreign keys off meanwhile,
        // checked before the commit — `migrate`).
        """
        CREATE TABLE rounds_rebuilt (
            id INTEGER PRIMARY KEY,
            number INTEGER NOT NULL UNIQUE,
            parent_id INTEGER REFERENCES rounds(id),
            checkpoint TEXT NOT NULL,
            training_size INTEGER NOT NULL,
            metrics TEXT NOT NULL,
            created TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'rolled_back', 'failed', 'candidate', 'discarded')),
            last_feedback_id INTEGER
        );
        INSERT INTO rounds_rebuilt (id, number, parent_id, checkpoint, training_size, metrics, created, status)
            SELECT id, number, parent_id, checkpoint, training_size, metrics, created, status FROM rounds;
        DROP TABLE rounds;
        ALTER TABLE rounds_rebuilt RENAME TO rounds;
        """,
        // 6: which answers each round trained on, kept for good. `feedback.round_id` says
        // where an answer stands now (a rollback hands it back to the next round); this says
        // what a round learnt, so the operator can still select a rolled-back round's answers.
        """
        CREATE TABLE round_answers (
            round_id INTEGER NOT NULL REFERENCES rounds(id),
            feedback_id INTEGER NOT NULL REFERENCES feedback(id),
            PRIMARY KEY (round_id, feedback_id)
        ) WITHOUT ROWID;
        INSERT INTO round_answers (round_id, feedback_id) SELECT round_id, id FROM feedback WHERE round_id IS NOT NULL;
        """,
        // 7: why `init` set an image aside (tiny, blank, noise, far from the typical size or
        // shape): it was put in the pool, and trains only once a person has labelled it.
        """
        ALTER TABLE items ADD COLUMN oddity TEXT;
        """,
    ]

    public static var currentVersion: Int { migrations.count }

    /// The words a CHECK constraint allows in `column`, as the schema states them (in the
    /// latest migration that mentions the column): what the vocabulary's raw values must be.
    static func allowedWords(of column: String) -> [String] {
        for migration in migrations.reversed() {
            guard let start = migration.range(of: "CHECK (\(column) IN (") else { continue }
            let list = migration[start.upperBound...].prefix { $0 != ")" }
            return list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "'")) }
        }
        return []
    }

    /// Brings `database` to the current version. Refuses a database from a newer NearCAIPI.
    /// The version is read again inside the write transaction, so two processes opening an
    /// old workspace at once migrate it once. Foreign keys are off while tables are rebuilt
    /// (SQLite's documented procedure: the switch works only outside a transaction) and
    /// checked before the commit.
    static func migrate(_ database: Database, path: String, upTo target: Int = currentVersion) throws -> Int {
        func version() throws -> Int {
            if case .integer(let version)? = try database.query("PRAGMA user_version").first?.first { return Int(version) }
            return 0
        }
        let seen = try version()
        guard seen <= currentVersion else {
            throw WorkspaceError(path, "made by a newer NearCAIPI (schema \(seen), this one knows up to \(currentVersion)); open it with that version")
        }
        guard seen < target else { return seen }
        try database.execute("PRAGMA foreign_keys = OFF")
        defer { try? database.execute("PRAGMA foreign_keys = ON") }
        return try database.transaction {
            let found = try version()
            guard found < target else { return found }
            for step in found..<target {
                try database.execute(migrations[step])
            }
            let broken = try database.query("PRAGMA foreign_key_check")
            guard broken.isEmpty else {
                throw WorkspaceError(path, "the schema upgrade to version \(target) would break \(broken.count) references; nothing was changed")
            }
            // PRAGMA takes no bound parameters; the value is an integer we computed.
            try database.execute("PRAGMA user_version = \(target)")
            return found
        }
    }
}
