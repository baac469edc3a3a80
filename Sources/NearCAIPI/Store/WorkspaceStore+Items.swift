import Foundation
internal import Storage

/// A data-set file about to be indexed by `init`.
struct NewOriginal {
    var path: String
    var contentHash: String?
    var split: Split
    /// Known to the engine (nil: hidden in the pool).
    var label: ClassLabel?
    var truthLabel: ClassLabel
    var truthMaskPath: String?
    /// Why the file cannot be used; nil for a usable file.
    var problem: String?
    /// Why a usable file was set aside in the pool (`OddImages`).
    var oddity: String? = nil
}

/// A refutation about to be added below its parent.
struct NewRefutation {
    var path: String
    var maskPath: String
    var transform: String
}

/// Usable originals counted by what `status` shows.
struct ItemCount {
    var split: Split
    var label: ClassLabel?
    var truthLabel: ClassLabel?
    var isUsable: Bool
    var hasMask: Bool
    var count: Int
}

extension WorkspaceStore {
    /// The items columns `itemRecord` decodes, in its order.
    static let itemColumnNames = ["id", "path", "split", "label", "truth_label", "truth_mask_path", "origin", "parent_id", "transform",
                                  "usable", "problem", "oddity"]
    /// Where the columns a query selects after `itemColumns()` begin.
    static var itemColumnCount: Int { itemColumnNames.count }

    /// The items columns `itemRecord` decodes, in its order, each prefixed by a table alias.
    static func itemColumns(_ alias: String = "") -> String {
        itemColumnNames.map { alias.isEmpty ? $0 : "\(alias).\($0)" }.joined(separator: ", ")
    }

    /// The record of a row whose first columns are `itemColumns()`.
    static func itemRecord(_ row: [SQLValue]) -> ItemRecord? {
        guard let id = row[0].integerValue, let path = row[1].textValue, let split = row[2].word(Split.self),
              let origin = row[6].word(ItemOrigin.self) else { return nil }
        return ItemRecord(id: id, path: path, split: split, label: row[3].classLabel, truthLabel: row[4].classLabel,
                          truthMaskPath: row[5].textValue, origin: origin, parentID: row[7].integerValue, transform: row[8].textValue,
                          isUsable: row[9].integerValue != 0, problem: row[10].textValue, oddity: row[11].textValue)
    }

    /// Writes a new workspace's settings and index in one transaction.
    func create(settings: [(key: String, value: String)], originals: [NewOriginal]) throws {
        try database.writeTransaction { try fill(settings: settings, originals: originals) }
    }

    /// Writes a new workspace's settings and index, within the caller's transaction.
    func fill(settings: [(key: String, value: String)], originals: [NewOriginal]) throws {
        try writeSettings(settings)
        for item in originals {
            try database.query("""
                INSERT INTO items (path, content_hash, split, label, truth_label, truth_mask_path, usable, problem, oddity)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(item.path), SQLValue(item.contentHash), .text(item.split.rawValue), SQLValue(item.label),
                      SQLValue(item.truthLabel), SQLValue(item.truthMaskPath), .integer(item.problem == nil ? 1 : 0),
                      SQLValue(item.problem), SQLValue(item.oddity)])
        }
    }

    /// Every original's path and the content hash `init` recorded (files it could read).
    func originalContentHashes() throws -> [(path: String, hash: String)] {
        try database.query("SELECT path, content_hash FROM items WHERE origin = 'original' AND content_hash IS NOT NULL ORDER BY id")
            .compactMap { row in
                guard let path = row[0].textValue, let hash = row[1].textValue else { return nil }
                return (path, hash)
            }
    }

    func item(at path: String) throws -> ItemRecord? {
        try database.query("SELECT \(Self.itemColumns()) FROM items WHERE path = ?", [.text(path)]).first.flatMap(Self.itemRecord)
    }

    /// Usable items of `split`, in the order they were indexed; with `labelledOnly`, only
    /// those whose label the engine knows.
    func items(in split: Split, labelledOnly: Bool) throws -> [ItemRecord] {
        try database.query("""
            SELECT \(Self.itemColumns()) FROM items WHERE split = ? AND usable = 1 \(labelledOnly ? "AND label IS NOT NULL" : "") ORDER BY id
            """, [.text(split.rawValue)]).compactMap(Self.itemRecord)
    }

    /// Images `init` set aside as odd, in the order they were indexed, wherever they are now.
    func oddItems() throws -> [ItemRecord] {
        try database.query("SELECT \(Self.itemColumns()) FROM items WHERE oddity IS NOT NULL ORDER BY id").compactMap(Self.itemRecord)
    }

    /// The label the engine knows of every original that has one, by item id (any split: a
    /// query just answered has left the pool, and its class is the expert's label).
    func knownOriginalLabels() throws -> [Int64: ClassLabel] {
        var known: [Int64: ClassLabel] = [:]
        for row in try database.query("SELECT id, label FROM items WHERE label IS NOT NULL AND origin = 'original'") {
            if let id = row[0].integerValue, let label = row[1].classLabel { known[id] = label }
        }
        return known
    }

    /// Originals grouped by split, known label, data-set label, usability and mask.
    func originalCounts() throws -> [ItemCount] {
        try database.query("""
            SELECT split, label, truth_label, usable, truth_mask_path IS NOT NULL, count(*) FROM items
            WHERE origin = 'original' GROUP BY 1, 2, 3, 4, 5
            """).compactMap { row in
            guard let split = row[0].word(Split.self), let usable = row[3].integerValue, let masked = row[4].integerValue,
                  let count = row[5].integerValue else { return nil }
            return ItemCount(split: split, label: row[1].classLabel, truthLabel: row[2].classLabel, isUsable: usable != 0,
                             hasMask: masked != 0, count: Int(count))
        }
    }

    /// Sets the label an answer established; with `intoTraining`, a pool item moves to the
    /// training split and its lease ends (Algorithm 1: what the expert accepted becomes
    /// training data).
    /// `holdingOut`: the share of answered parts of each class kept for validation — of the
    /// k-th part of a class an answer moves out of the pool, it is held out when ⌊k·share⌋
    /// steps up (share 0.2: the 5th, 10th, …), so the two splits grow in step, class by class.
    /// Returns the split the item went to, when it left the pool.
    func establish(_ label: ClassLabel, itemID: Int64, intoTraining: Bool, holdingOut share: Double = 0) throws -> Split? {
        try database.query("UPDATE items SET label = ? WHERE id = ?", [SQLValue(label), .integer(itemID)])
        guard intoTraining,
              try database.query("SELECT 1 FROM items WHERE id = ? AND split = 'pool'", [.integer(itemID)]).first != nil else { return nil }
        var split = Split.train
        if share > 0 {
            // Parts of this class answers moved out of the pool before this one (still out).
            let before = try database.query("""
                SELECT count(DISTINCT i.id) FROM items i JOIN feedback f ON f.item_id = i.id
                WHERE f.moved_from_pool = 1 AND f.reverted = 0 AND i.split IN ('train', 'val') AND i.label = ? AND i.id != ?
                """, [SQLValue(label), .integer(itemID)]).first?.first?.integerValue ?? 0
            let k = Double(before + 1)
            // A hair above the product, so 5 × 0.2 counts as 1 in binary floating point.
            if Int(k * share + 1e-9) > Int((k - 1) * share + 1e-9) { split = .validation }
        }
        try database.query("UPDATE items SET split = ? WHERE id = ?", [.text(split.rawValue), .integer(itemID)])
        try database.query("DELETE FROM leases WHERE item_id = ?", [.integer(itemID)])
        return split
    }

    /// How many items were made from `parentID` so far (refutations are numbered on).
    func childCount(of parentID: Int64) throws -> Int {
        Int(try database.query("SELECT count(*) FROM items WHERE parent_id = ?", [.integer(parentID)]).first?.first?.integerValue ?? 0)
    }

    /// Adds a refutation of `parentID` to the training split with `label`.
    func addRefutation(_ refutation: NewRefutation, of parentID: Int64, label: ClassLabel) throws {
        try database.query("""
            INSERT INTO items (path, split, label, truth_label, truth_mask_path, origin, parent_id, transform, usable)
            VALUES (?, 'train', ?, ?, ?, 'refutation', ?, ?, 1)
            """, [.text(refutation.path), SQLValue(label), SQLValue(label), .text(refutation.maskPath), .integer(parentID),
                  .text(refutation.transform)])
    }

    /// The refutations made from the item at `path`, oldest first.
    func refutations(of path: String) throws -> [ItemRecord] {
        try database.query("""
            SELECT \(Self.itemColumns("r"))
            FROM items r JOIN items p ON p.id = r.parent_id
            WHERE p.path = ? AND r.origin = 'refutation' ORDER BY r.id
            """, [.text(path)]).compactMap(Self.itemRecord)
    }
}
