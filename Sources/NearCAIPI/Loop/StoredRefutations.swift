import FileAccess
import Imaging
import Storage

extension Workspace {
    /// Stores refutations of the item at `parentPath`: each image and its region mask as PNG
    /// under `WORKSPACE/refutations/`, written (atomically) within the transaction that adds
    /// the items — origin 'refutation', the parent, the transform, the parent's label, the
    /// training split. Returns the new items' paths (relative to the workspace).
    @discardableResult
    public func addRefutations(of parentPath: String, label: Int, _ refutations: [Refutation]) throws -> [String] {
        guard let row = try database.query("SELECT id FROM items WHERE path = ?", [.text(parentPath)]).first,
              case .integer(let parent) = row[0] else {
            throw WorkspaceError(path, "no item '\(parentPath)' to refute")
        }
        try BinaryFile.createDirectory("\(path)/refutations")
        // Numbered and written inside the write transaction: two processes refuting the same
        // item (two supervisors on one review) would otherwise pick the same numbers and
        // overwrite each other's files. A kill before the commit leaves only unreferenced
        // files, replaced by the next attempt.
        var files: [(image: String, mask: String, transform: String)] = []
        try database.transaction {
            let existing = try database.query("SELECT count(*) FROM items WHERE parent_id = ?", [.integer(parent)])
            var next = 0
            if case .integer(let count)? = existing.first?.first { next = Int(count) }
            for refutation in refutations {
                next += 1
                let stem = "refutations/\(String(format: "%06lld", parent))-\(next)"
                try ImageFile.writePNG(refutation.image, to: "\(path)/\(stem).png")
                try ImageFile.writePNG(refutation.mask.image, to: "\(path)/\(stem)_mask.png")
                files.append(("\(stem).png", "\(stem)_mask.png", refutation.transform))
                try database.query("""
                    INSERT INTO items (path, split, label, truth_label, truth_mask_path, origin, parent_id, transform, usable)
                    VALUES (?, 'train', ?, ?, ?, 'refutation', ?, ?, 1)
                    """, [.text("\(stem).png"), .integer(Int64(label)), .integer(Int64(label)), .text("\(stem)_mask.png"),
                          .integer(parent), .text(refutation.transform)])
            }
        }
        return files.map(\.image)
    }
}
