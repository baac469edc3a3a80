import FileAccess
import Foundation
import Imaging

extension Workspace {
    /// Stores refutations of the item at `parentPath`: each image and its region mask as PNG
    /// under `WORKSPACE/refutations/`, written (atomically) within the transaction that adds
    /// the items — origin refutation, the parent, the transform, the parent's label, the
    /// training split. Returns the new items' paths (relative to the workspace).
    @discardableResult
    public func addRefutations(of parentPath: String, label: ClassLabel, _ refutations: [Refutation]) throws -> [String] {
        guard let parent = try store.item(at: parentPath) else { throw WorkspaceError(name, "no item '\(parentPath)' to refute") }
        try BinaryFile.createDirectory("\(path)/refutations")
        // Numbered and written inside the write transaction: two processes refuting the same
        // item (two supervisors on one review) would otherwise pick the same numbers and
        // overwrite each other's files. A kill before the commit leaves only unreferenced
        // files, replaced by the next attempt.
        var files: [String] = []
        try store.transaction {
            var next = try store.childCount(of: parent.id)
            for refutation in refutations {
                next += 1
                let stem = "refutations/\(String(format: "%06lld", parent.id))-\(next)"
                try ImageFile.writePNG(refutation.image, to: "\(path)/\(stem).png")
                try ImageFile.writePNG(refutation.mask.image, to: "\(path)/\(stem)_mask.png")
                try store.addRefutation(NewRefutation(path: "\(stem).png", maskPath: "\(stem)_mask.png", transform: refutation.transform),
                                        of: parent.id, label: label)
                // On a server workspace the images go into the store with their rows.
                try storeStationFiles(["\(stem).png", "\(stem)_mask.png"])
                files.append("\(stem).png")
            }
        }
        return files
    }
}
