import FileAccess

/// The MVTec AD layout: `train/good` and `test/good` are OK, `test/<defect>/NNN.png` are
/// NOK with their masks in `ground_truth/<defect>/NNN_mask.png`. Read only.
public enum MVTecDataset {
    /// Whether `root` looks like MVTec AD (a `train/good` or a `ground_truth` folder).
    public static func detect(_ root: String) -> Bool {
        BinaryFile.isDirectory("\(root)/train/good") || BinaryFile.isDirectory("\(root)/ground_truth")
    }

    public static func items(_ root: String) throws(FileAccessError) -> [DatasetItem] {
        var items: [DatasetItem] = []
        for good in ["train/good", "test/good"] where BinaryFile.isDirectory("\(root)/\(good)") {
            items += ClassFolderDataset.images(below: "\(root)/\(good)", relative: good).map {
                DatasetItem(path: $0, label: .ok, maskPath: nil)
            }
        }
        if BinaryFile.isDirectory("\(root)/test") {
            for defect in try BinaryFile.entries(of: "\(root)/test") where defect != "good" && !defect.hasPrefix(".")
                && BinaryFile.isDirectory("\(root)/test/\(defect)") {
                for path in ClassFolderDataset.images(below: "\(root)/test/\(defect)", relative: "test/\(defect)") {
                    let mask = "ground_truth/\(defect)/\(ClassFolderDataset.baseName(path))_mask.png"
                    items.append(DatasetItem(path: path, label: .nok, maskPath: BinaryFile.exists("\(root)/\(mask)") ? mask : nil))
                }
            }
        }
        return items.sorted { $0.path < $1.path }
    }
}
