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

    /// The schema at `currentVersion` for PostgreSQL, made whole when a workspace is created on
    /// a server (there are no older PostgreSQL workspaces to migrate; a later migration is
    /// written for both engines). The same tables, columns and CHECK lists as the SQLite
    /// migrations above, in PostgreSQL's types: BIGINT for INTEGER (the store reads 64-bit
    /// integers), DOUBLE PRECISION for REAL, BYTEA for BLOB, identity columns for the ids;
    /// `"user"` quoted, as PostgreSQL reserves the word. Beyond the SQLite tables: `files` and
    /// `file_chunks`, the workspace's files, which a folder workspace keeps in its folder. `news` counts write statements
    /// (`WorkspaceStore.changesByOthers`) and the same triggers notify the channel named after
    /// the schema (`WorkspaceStore.news(waitingUpTo:)`), so no writer can forget either.
    static let postgreSQL = """
        CREATE TABLE schema_version (version BIGINT NOT NULL);
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE items (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            content_hash TEXT,
            split TEXT NOT NULL CHECK (split IN ('train', 'val', 'test', 'pool')),
            label BIGINT CHECK (label IN (0, 1)),
            truth_label BIGINT CHECK (truth_label IN (0, 1)),
            truth_mask_path TEXT,
            origin TEXT NOT NULL DEFAULT 'original'
                CHECK (origin IN ('original', 'refutation', 'near-hit', 'near-miss')),
            parent_id BIGINT REFERENCES items(id),
            transform TEXT,
            usable BIGINT NOT NULL DEFAULT 1,
            problem TEXT,
            oddity TEXT
        );
        CREATE INDEX items_split ON items(split, usable);
        CREATE TABLE rounds (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            number BIGINT NOT NULL UNIQUE,
            parent_id BIGINT REFERENCES rounds(id),
            checkpoint TEXT NOT NULL,
            training_size BIGINT NOT NULL,
            metrics TEXT NOT NULL,
            created TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'rolled_back', 'failed', 'candidate', 'discarded')),
            last_feedback_id BIGINT
        );
        CREATE TABLE feedback (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            item_id BIGINT NOT NULL REFERENCES items(id),
            "user" TEXT NOT NULL,
            time TEXT NOT NULL,
            predicted_label BIGINT,
            predicted_confidence DOUBLE PRECISION,
            prediction_verdict TEXT CHECK (prediction_verdict IN ('right', 'wrong', 'skip')),
            explanation_verdict TEXT CHECK (explanation_verdict IN ('right', 'wrong', 'skip')),
            corrected_label BIGINT CHECK (corrected_label IN (0, 1)),
            corrected_mask BYTEA,
            round_id BIGINT REFERENCES rounds(id),
            reverted BIGINT NOT NULL DEFAULT 0,
            role TEXT CHECK (role IN ('inspector', 'supervisor', 'operator')),
            moved_from_pool BIGINT NOT NULL DEFAULT 0
        );
        CREATE INDEX feedback_item ON feedback(item_id);
        CREATE TABLE leases (
            item_id BIGINT PRIMARY KEY REFERENCES items(id),
            "user" TEXT NOT NULL,
            expires DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE review_queue (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            item_id BIGINT NOT NULL REFERENCES items(id),
            reason TEXT NOT NULL CHECK (reason IN ('near-hit', 'near-miss')),
            of_item_id BIGINT NOT NULL REFERENCES items(id),
            created TEXT NOT NULL,
            done BIGINT NOT NULL DEFAULT 0,
            UNIQUE (item_id, reason, of_item_id)
        );
        CREATE TABLE round_answers (
            round_id BIGINT NOT NULL REFERENCES rounds(id),
            feedback_id BIGINT NOT NULL REFERENCES feedback(id),
            PRIMARY KEY (round_id, feedback_id)
        );
        CREATE TABLE files (
            path TEXT PRIMARY KEY,
            content_hash TEXT NOT NULL,
            size BIGINT NOT NULL,
            written TEXT NOT NULL
        );
        CREATE TABLE file_chunks (
            path TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,
            chunk BIGINT NOT NULL,
            bytes BYTEA NOT NULL,
            PRIMARY KEY (path, chunk)
        );
        CREATE TABLE news (counter BIGINT NOT NULL);
        INSERT INTO news VALUES (0);
        CREATE FUNCTION count_news() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE format('UPDATE %I.news SET counter = counter + 1', TG_TABLE_SCHEMA);
            -- Delivered to the schema's listeners when the transaction commits, once per
            -- transaction (PostgreSQL folds equal notifications).
            PERFORM pg_notify(TG_TABLE_SCHEMA, '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER settings_news AFTER INSERT OR UPDATE OR DELETE ON settings FOR EACH STATEMENT EXECUTE FUNCTION count_news();
        CREATE TRIGGER items_news AFTER INSERT OR UPDATE OR DELETE ON items FOR EACH STATEMENT EXECUTE FUNCTION count_news();
        CREATE TRIGGER rounds_news AFTER INSERT OR UPDATE OR DELETE ON rounds FOR EACH STATEMENT EXECUTE FUNCTION count_news();
        CREATE TRIGGER feedback_news AFTER INSERT OR UPDATE OR DELETE ON feedback FOR EACH STATEMENT EXECUTE FUNCTION count_news();
        CREATE TRIGGER leases_news AFTER INSERT OR UPDATE OR DELETE ON leases FOR EACH STATEMENT EXECUTE FUNCTION count_news();
        CREATE TRIGGER review_queue_news AFTER INSERT OR UPDATE OR DELETE ON review_queue FOR EACH STATEMENT EXECUTE FUNCTION count_news();
        CREATE TRIGGER files_news AFTER INSERT OR UPDATE OR DELETE ON files FOR EACH STATEMENT EXECUTE FUNCTION count_news();
        CREATE TRIGGER round_answers_news AFTER INSERT OR UPDATE OR DELETE ON round_answers FOR EACH STATEMENT EXECUTE FUNCTION count_news();
        """

    /// The PostgreSQL schema (namespace) holding the workspace `name`'s tables. Names are
    /// letters, digits, '_' and '-', at most 48 characters (PostgreSQL's identifiers end at 63
    /// bytes); anything else is refused with the reason.
    static func postgreSQLSchemaName(_ name: String) throws -> String {
        guard !name.isEmpty, name.count <= 48,
              name.unicodeScalars.allSatisfy({ ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "_" || $0 == "-" })
        else {
            throw WorkspaceError(name, "is not a usable workspace name: use 1 to 48 letters (a–z, A–Z), digits, '_' or '-'")
        }
        return "nearcaipi_" + name
    }

    /// The advisory-lock key the writers of workspace `name` share: FNV-1a 64 of its name.
    static func writerLockKey(of name: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ("nearcaipi_" + name).utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int64(bitPattern: hash)
    }

    /// Points `connection` at workspace `name`'s schema; with `creating`, makes it first (in
    /// one transaction: a failure leaves nothing). Refuses a missing workspace, an existing
    /// one when creating, and one of another schema version.
    static func open(_ connection: PostgresConnection, workspace name: String, creating: Bool, path: String,
                     filled: () throws -> Void = {}) throws {
        let schema = try postgreSQLSchemaName(name)
        let quoted = "\"" + schema + "\""
        let exists = try connection.query("SELECT 1 FROM pg_namespace WHERE nspname = ?", [.text(schema)]).first != nil
        if creating {
            guard !exists else { throw WorkspaceError(path, "exists already; choose another name, or open it") }
            do {
                try connection.writeTransaction {
                    try connection.execute("CREATE SCHEMA \(quoted); SET LOCAL search_path TO \(quoted)")
                    try connection.execute(postgreSQL)
                    try connection.query("INSERT INTO schema_version VALUES (?)", [.integer(Int64(currentVersion))])
                    try filled()
                }
            } catch let error as PostgresError where error.state == "42P06" {
                throw WorkspaceError(path, "exists already; choose another name, or open it")
            }
        } else if !exists {
            throw WorkspaceError(path, "no such workspace (no schema \(schema) in that database)")
        }
        try connection.execute("SET search_path TO \(quoted)")
        connection.sessionSetup.append("SET search_path TO \(quoted)")
        let version = try connection.query("SELECT version FROM schema_version").first?.first?.integerValue.map(Int.init) ?? 0
        guard version == currentVersion else {
            throw WorkspaceError(path, "is of schema \(version), this NearCAIPI knows \(currentVersion): open it with the "
                                 + "NearCAIPI that made it")
        }
    }

    /// The words a CHECK constraint allows in `column`, as the schema states them (in the
    /// latest migration that mentions the column): what the vocabulary's raw values must be.
    /// With `postgreSQL`, as the PostgreSQL schema states them.
    static func allowedWords(of column: String, postgreSQL: Bool = false) -> [String] {
        for migration in postgreSQL ? [Self.postgreSQL] : migrations.reversed() {
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
