import FileAccess
import Imaging

/// What `nearcaipi sample` writes: a class-folder data set of one part family.
///
///     DIR/ok/<family>_NNNN.png      OK parts
///     DIR/nok/<family>_NNNN.png     NOK parts
///     DIR/masks/<family>_NNNN.png   the exact defect mask of each NOK part (same base name)
///     DIR/manifest.csv              file,label,defect,mask,defect_pixels
public struct SampleDatasetSpec: Sendable, Equatable {
    public var family: PartFamily
    public var count: Int
    public var size: Int
    public var seed: UInt64
    /// When set, each part (drawn at `size`×`size`) is resampled to this camera resolution,
    /// image bilinearly and mask thresholded at ½: data at e.g. the paper's 1600×1200 welding
    /// camera for tests of scale.
    public var camera: (width: Int, height: Int)?
    /// The chance that a part is defective (the bundled sets: 0.55).
    public var nokShare: Double
    /// Defects also of the kinds the defect pretext does not imitate (`unseenDefectKinds`).
    public var unseenKinds = false

    public init(family: PartFamily, count: Int, size: Int, seed: UInt64, camera: (width: Int, height: Int)? = nil,
                nokShare: Double = SampleDatasetSpec.standardNOKShare) {
        self.family = family
        self.count = count
        self.size = size
        self.seed = seed
        self.camera = camera
        self.nokShare = nokShare
    }

    public static let standardNOKShare = 0.55

    public static func == (a: Self, b: Self) -> Bool {
        a.family == b.family && a.count == b.count && a.size == b.size && a.seed == b.seed
            && a.camera?.width == b.camera?.width && a.camera?.height == b.camera?.height && a.nokShare == b.nokShare
            && a.unseenKinds == b.unseenKinds
    }

    public static let sizeRange = 32...1024
    public static let cameraRange = 32...4096
    public static let countRange = 1...100_000
}

public struct SampleDatasetSummary: Sendable {
    public var okCount = 0
    public var nokCount = 0
    public var defectCounts: [String: Int] = [:]
    public var files: [String] = []
}

public enum SampleDataset {
    /// Generates and writes the data set. Files are written atomically; an existing file of
    /// the same name is replaced.
    public static func write(_ spec: SampleDatasetSpec, to directory: String,
                             progress: (Int) -> Void = { _ in }) throws -> SampleDatasetSummary {
        for folder in ["ok", "nok", "masks"] { try BinaryFile.createDirectory("\(directory)/\(folder)") }
        var summary = SampleDatasetSummary()
        var manifest = "file,label,defect,mask,defect_pixels\n"
        let digits = max(4, String(spec.count).count)
        for index in 0..<spec.count {
            var part = spec.family.makePart(index: index, seed: spec.seed, size: spec.size, nokFraction: Float(spec.nokShare),
                                            unseenKinds: spec.unseenKinds)
            if let camera = spec.camera {
                part = SyntheticPart(image: part.image.resized(width: camera.width, height: camera.height),
                                     label: part.label, defect: part.defect,
                                     mask: BinaryMask(thresholding: part.mask.image.resized(width: camera.width, height: camera.height)))
            }
            let number = String(index + 1)
            let name = "\(spec.family.rawValue)_\(String(repeating: "0", count: digits - number.count))\(number).png"
            let file = "\(part.label.rawValue)/\(name)"
            try ImageFile.writePNG(part.image, to: "\(directory)/\(file)")
            var maskFile = ""
            if part.label == .nok {
                maskFile = "masks/\(name)"
                try ImageFile.writePNG(part.mask.image, to: "\(directory)/\(maskFile)")
                summary.nokCount += 1
            } else {
                summary.okCount += 1
            }
            summary.defectCounts[part.defect, default: 0] += 1
            summary.files.append(file)
            manifest += "\(file),\(part.label.rawValue),\(part.defect),\(maskFile),\(part.mask.area)\n"
            progress(index + 1)
        }
        try BinaryFile.writeAtomically(Array(manifest.utf8), to: "\(directory)/manifest.csv")
        return summary
    }
}
