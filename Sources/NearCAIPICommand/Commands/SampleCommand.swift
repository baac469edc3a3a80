import FileAccess
import SyntheticParts

/// `nearcaipi sample`: writes a deterministic synthetic inspection data set.
enum SampleCommand: Command {
    static let name = "sample"
    static let summary = "write a synthetic OK/NOK data set (weld seams or cast discs) with exact defect masks"
    static let discussion = """
    Writes a synthetic industrial data set in the class-folder layout:
      DIR/ok/*.png, DIR/nok/*.png, DIR/masks/*.png (the exact defect mask of each NOK image,
      same base name) and DIR/manifest.csv (file,label,defect,mask,defect_pixels).
    The same family, seed and size give byte-identical files; image i does not depend on --count.

    Families:
      weld   MIG weld seams on aluminium plates (RGB). Defects: pores, crack, black_area,
             interruption, irregular_scale, end_crater, no_seam.
      cast   cast discs with a centre hole (grey). Defects: scratch, blowhole, chipped_edge.

    With --unseen-kinds the defects also include kinds the defect pretext does not imitate:
    weld spatter and kink (the bead bent aside), cast dent (the rim pushed in) and inclusions
    (bright specks).
    """

    static let out = Option<String>(name: "--out", placeholder: "DIR", help: "where to write (created if missing)",
                                    format: .text)
    static let family = Option<PartFamily>(name: "--family", placeholder: "NAME", help: "the kind of part", format: .choice,
                                           default: .weld)
    static let count = Option<Int>(name: "--count", placeholder: "N", help: "number of images",
                                   format: .wholeNumber(in: SampleDatasetSpec.countRange), default: 200)
    static let size = Option<Int>(name: "--size", placeholder: "S", help: "image side in pixels",
                                  format: .wholeNumber(in: SampleDatasetSpec.sizeRange), default: 128)
    static let seed = Option<UInt64>(name: "--seed", placeholder: "N", help: "random seed", format: .nonNegativeWholeNumber,
                                     default: 1)
    private static let sides = "\(SampleDatasetSpec.cameraRange.lowerBound)-\(SampleDatasetSpec.cameraRange.upperBound)"
    /// "WxH", each side within `SampleDatasetSpec.cameraRange`.
    static let camera = Option<(width: Int, height: Int)?>(
        name: "--camera", placeholder: "WxH",
        help: "resample every part (drawn at --size) to a camera resolution, e.g. 1600x1200 (the paper's welding camera)",
        format: ValueFormat(allowed: .span("sides \(sides)")) { (text) throws(Refusal) in
            let parts = text.lowercased().split(separator: "x")
            guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]),
                  SampleDatasetSpec.cameraRange.contains(width), SampleDatasetSpec.cameraRange.contains(height) else {
                throw Refusal("needs WIDTHxHEIGHT with sides of \(sides), got '\(text)'")
            }
            return (width, height)
        })
    static let nokShare = Option<Double>(name: "--nok-share", placeholder: "F", help: "the chance that a part is defective",
                                         format: .number(.fraction), default: SampleDatasetSpec.standardNOKShare,
                                         note: "e.g. 0.05 for a pool as clean as a plant's")
    static let unseenKinds = Flag(name: "--unseen-kinds", help: "add defect kinds the defect pretext does not imitate")
    static let force = Flag(name: "--force", help: "write into DIR even if it already holds files")
    static let parameters: [any Parameter] = [out, family, count, size, seed, camera, nokShare, unseenKinds, force]

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.positionals([])
        let directory = try arguments[out]
        var spec = SampleDatasetSpec(family: try arguments[family], count: try arguments[count], size: try arguments[size],
                                     seed: try arguments[seed], camera: try arguments[camera], nokShare: try arguments[nokShare])
        spec.unseenKinds = arguments[unseenKinds]
        if BinaryFile.exists(directory) {
            guard BinaryFile.isDirectory(directory) else {
                throw RuntimeFailure("\(directory): exists and is not a directory")
            }
            let existing = (try? BinaryFile.entries(of: directory)) ?? []
            if !existing.isEmpty && !arguments[force] {
                throw RuntimeFailure("\(directory): already holds files; pass --force to write into it")
            }
        }
        let summary: SampleDatasetSummary
        do {
            summary = try SampleDataset.write(spec, to: directory)
        } catch {
            throw RuntimeFailure(error)
        }
        let defects = summary.defectCounts.filter { $0.key != "none" }.sorted { $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let resolution = spec.camera.map { "\($0.width)x\($0.height)" } ?? "\(spec.size)x\(spec.size)"
        print("Wrote \(spec.count) \(spec.family.rawValue) images (\(resolution), seed \(spec.seed)) to \(directory)")
        print("  OK \(summary.okCount), NOK \(summary.nokCount): \(defects)")
    }
}
