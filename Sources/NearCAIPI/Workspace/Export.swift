import FileAccess
import Imaging

extension Workspace {
    public enum ExportFormat: String, Sendable, CaseIterable { case folders, mvtec, csv }

    public struct ExportSummary: Sendable {
        public var images = 0, masks = 0, feedback = 0
    }

    /// A new folder for an export inside the workspace: `export-N` with the first N not taken.
    public func newExportFolder() -> String {
        var number = 1
        while BinaryFile.exists("\(path)/export-\(number)") { number += 1 }
        return "\(path)/export-\(number)"
    }

    /// Writes what the workspace knows: every usable original whose label is known (data
    /// set labels outside the pool, expert labels inside it), its mask — the expert's latest
    /// correction, else the data set's mask outside the pool — and the feedback log.
    /// File names are the item paths with '/' → '_' (unique, and traceable to the source).
    public func export(to directory: String, format: ExportFormat) throws -> ExportSummary {
        let root = try dataRoot
        var summary = ExportSummary()
        var labels = "file,source,label,split,mask\n"
        for exported in try store.exportedItems() {
            guard let label = exported.item.label else { continue }
            let path = exported.item.path, split = exported.item.split
            let name = path.replacingOccurrences(of: "/", with: "_")
            let stem = ClassFolderDataset.baseName(name)
            let imageFolder: String, maskFile: String
            switch format {
            case .folders, .csv:
                imageFolder = format == .csv ? "images" : label.name
                maskFile = "masks/\(stem).png"
            case .mvtec:
                imageFolder = label == .nok ? "test/defect" : (split == .train ? "train/good" : "test/good")
                maskFile = "ground_truth/defect/\(stem)_mask.png"
            }
            try BinaryFile.createDirectory("\(directory)/\(imageFolder)")
            try BinaryFile.writeAtomically(try BinaryFile.read("\(root)/\(path)"), to: "\(directory)/\(imageFolder)/\(name)")
            summary.images += 1
            var maskBytes: [UInt8]? = nil
            if let corrected = exported.correctedMask {
                maskBytes = corrected
            } else if split != .pool, let truth = exported.item.truthMaskPath {
                maskBytes = try BinaryFile.read("\(root)/\(truth)")
            }
            var writtenMask = ""
            if label == .nok, let maskBytes {
                let folder = String(maskFile[..<maskFile.lastIndex(of: "/")!])
                try BinaryFile.createDirectory("\(directory)/\(folder)")
                try BinaryFile.writeAtomically(maskBytes, to: "\(directory)/\(maskFile)")
                writtenMask = maskFile
                summary.masks += 1
            }
            labels += "\(imageFolder)/\(name),\(path),\(label.name),\(split.rawValue),\(writtenMask)\n"
        }
        if format == .csv { try BinaryFile.writeAtomically(Array(labels.utf8), to: "\(directory)/labels.csv") }
        var log = "id,item,user,role,time,prediction,explanation,label,mask,reverted\n"
        for entry in try feedbackLog() {
            let fields = [String(entry.id), Self.csvField(entry.itemPath), Self.csvField(entry.user), entry.role?.rawValue ?? "", entry.time,
                          entry.prediction?.rawValue ?? "", entry.explanation?.rawValue ?? "",
                          entry.establishedLabel?.name ?? "", entry.hasCorrectedMask ? "1" : "0", entry.reverted ? "1" : "0"]
            log += fields.joined(separator: ",") + "\n"
            summary.feedback += 1
        }
        try BinaryFile.createDirectory(directory)
        try BinaryFile.writeAtomically(Array(log.utf8), to: "\(directory)/feedback.csv")
        return summary
    }

    /// A CSV field: quoted (inner quotes doubled) when it holds a comma, a quote or a line
    /// break, as it is otherwise.
    static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// A field `csvField` wrote, as it was.
    static func csvUnquoted(_ field: String) -> String {
        guard field.hasPrefix("\""), field.hasSuffix("\""), field.count >= 2 else { return field }
        return String(field.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
    }
}
