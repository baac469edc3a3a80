import Foundation
import FileAccess
import Imaging

/// One image of a data set, with its truth where known.
public struct DatasetItem: Sendable, Equatable {
    /// Path relative to the data set root.
    public var path: String
    public var label: ClassLabel
    /// Relative path of the defect mask, if the data set has one for this image.
    public var maskPath: String?
}

/// A problem with one file of a data set: reported once, the file skipped.
public struct DatasetProblem: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// The class-folder layout: OK images under folders named like `ok`, NOK images under
/// folders named like `nok` (names mappable, several folders per class), found up to two
/// levels below the root, every image below a class folder counting; masks either in a
/// `masks/` folder with the image's base name, or beside the image as `NAME_mask.png`.
/// The data set folder is only read, never written.
public struct ClassFolderDataset: Sendable {
    /// The class names a checkpoint stores, in the network's output order.
    public static let classNames = ClassLabel.allCases.map(\.name)
    public let root: String
    public private(set) var items: [DatasetItem] = []
    public private(set) var problems: [DatasetProblem] = []

    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    public init(root: String, okFolders: [String] = ["ok", "good"], nokFolders: [String] = ["nok", "defect", "def"]) throws(FileAccessError) {
        self.root = root
        guard BinaryFile.isDirectory(root) else { throw FileAccessError(path: root, reason: .cannotRead(errno: BinaryFile.exists(root) ? ENOTDIR : ENOENT)) }
        var masks: [String: String] = [:]
        var candidates: [(path: String, label: ClassLabel)] = []
        // Folders up to two levels down: root/X and root/X/Y.
        var folders: [String] = []
        for first in try BinaryFile.entries(of: root) where BinaryFile.isDirectory("\(root)/\(first)") && !first.hasPrefix(".") {
            folders.append(first)
            for second in (try? BinaryFile.entries(of: "\(root)/\(first)")) ?? []
            where BinaryFile.isDirectory("\(root)/\(first)/\(second)") && !second.hasPrefix(".") {
                folders.append("\(first)/\(second)")
            }
        }
        let okNames = Set(okFolders.map { $0.lowercased() }), nokNames = Set(nokFolders.map { $0.lowercased() })
        for folder in folders {
            let name = folder.split(separator: "/").last!.lowercased()
            if name == "masks" || name == "ground_truth" {
                for file in Self.images(below: "\(root)/\(folder)", relative: folder) { masks[Self.baseName(file)] = file }
                continue
            }
            let label: ClassLabel? = okNames.contains(name) ? .ok : (nokNames.contains(name) ? .nok : nil)
            guard let label else { continue }
            // A class folder inside another class folder was already counted with its parent.
            if let parent = folder.split(separator: "/").first, folder.contains("/"),
               okNames.contains(parent.lowercased()) || nokNames.contains(parent.lowercased()) { continue }
            for file in Self.images(below: "\(root)/\(folder)", relative: folder) { candidates.append((file, label)) }
        }
        // NAME_mask.png beside an image is that image's mask, not an image; so is NAME.png
        // beside NAME.jpg (a JPEG photograph with a lossless mask).
        let paths = Set(candidates.map(\.path))
        var besideMasks = Set(candidates.map(\.path).filter { Self.baseName($0).hasSuffix("_mask") })
        for path in paths where path.lowercased().hasSuffix(".jpg") || path.lowercased().hasSuffix(".jpeg") {
            let stem = String(path[..<path.lastIndex(of: ".")!])
            if paths.contains(stem + ".png") { besideMasks.insert(stem + ".png") }
        }
        for (path, label) in candidates.sorted(by: { $0.path < $1.path }) where !besideMasks.contains(path) {
            let base = Self.baseName(path)
            let directory = path.split(separator: "/").dropLast().joined(separator: "/")
            let stem = String(path[..<(path.lastIndex(of: ".") ?? path.endIndex)])
            let mask = [stem + ".png", "\(directory)/\(base)_mask.png"].first { $0 != path && besideMasks.contains($0) } ?? masks[base]
            items.append(DatasetItem(path: path, label: label, maskPath: mask))
        }
    }

    /// A data set of `items` below `root` (paths relative to it), read as any other.
    public init(root: String, items: [DatasetItem]) {
        self.root = root
        self.items = items
    }

    /// The data set at `root` in `layout` as `init` reads it: MVTec AD, class folders (with
    /// the folder names given), or whichever `root` looks like.
    public static func open(_ root: String, layout: WorkspaceOptions.Layout = .auto,
                            okFolders: [String] = ["ok", "good"], nokFolders: [String] = ["nok", "defect", "def"]) throws -> ClassFolderDataset {
        if resolvedLayout(layout, root: root) == .mvtec {
            guard MVTecDataset.detect(root) else { throw WorkspaceError(root, "not the MVTec AD layout (no train/good or ground_truth folder)") }
            return ClassFolderDataset(root: root, items: try MVTecDataset.items(root))
        }
        return try ClassFolderDataset(root: root, okFolders: okFolders, nokFolders: nokFolders)
    }

    /// The layout `auto` stands for at `root`: mvtec when it looks like MVTec AD, else folders.
    public static func resolvedLayout(_ layout: WorkspaceOptions.Layout, root: String) -> WorkspaceOptions.Layout {
        layout == .auto ? (MVTecDataset.detect(root) ? .mvtec : .folders) : layout
    }

    /// Reads every image (and mask) once; files that cannot be decoded become problems and
    /// leave the item list. Masks are thresholded at ½; an empty mask means "no mask".
    public mutating func load(size: Int, channels: Int) -> [(item: DatasetItem, image: Image, mask: BinaryMask?)] {
        var loaded: [(DatasetItem, Image, BinaryMask?)] = []
        var kept: [DatasetItem] = []
        for item in items {
            let image: Image
            do {
                image = try ImageFile.read("\(root)/\(item.path)").image
            } catch {
                problems.append(DatasetProblem(path: item.path, reason: "\(error.reason)"))
                continue
            }
            var mask: BinaryMask? = nil
            if let maskPath = item.maskPath {
                do {
                    let found = BinaryMask(thresholding: try ImageFile.read("\(root)/\(maskPath)").image)
                    if found.width != image.width || found.height != image.height {
                        problems.append(DatasetProblem(path: maskPath, reason: "mask size \(found.width)x\(found.height) differs from the image's \(image.width)x\(image.height); mask ignored"))
                    } else if !found.isEmpty {
                        mask = found.resized(width: size, height: size)
                    }
                } catch {
                    problems.append(DatasetProblem(path: maskPath, reason: "\(error.reason); mask ignored"))
                }
            }
            loaded.append((item, image.modelInput(channels: channels, size: size), mask))
            kept.append(item)
        }
        items = kept
        return loaded
    }

    /// Image files (PNG, JPEG) below `directory`, recursively, sorted by name per folder,
    /// as paths starting with `relative`; hidden entries are skipped.
    public static func images(below directory: String, relative: String) -> [String] {
        var found: [String] = []
        for name in (try? BinaryFile.entries(of: directory)) ?? [] where !name.hasPrefix(".") {
            let path = "\(directory)/\(name)"
            let child = relative.isEmpty ? name : "\(relative)/\(name)"
            if BinaryFile.isDirectory(path) {
                found += images(below: path, relative: child)
            } else if let dot = name.lastIndex(of: "."), imageExtensions.contains(name[name.index(after: dot)...].lowercased()) {
                found.append(child)
            }
        }
        return found
    }

    /// The file name without folder and extension.
    public static func baseName(_ path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = file.lastIndex(of: ".") else { return file }
        return String(file[..<dot])
    }
}
