import FileAccess
import SyntheticParts

/// `nearcaipi sample`: writes a deterministic synthetic inspection data set.
enum SampleCommand: Command {
    static let name = "sample"
    static let summary = "write a synthetic OK/NOK data set (weld seams or cast discs) with exact defect masks"
    static let help = """
    Usage: nearcaipi sample --out DIR [--family weld|cast] [--count N] [--size S] [--seed N]
                        [--camera WxH] [--force]

    Writes a synthetic industrial data set in the class-folder layout:
      DIR/ok/*.png, DIR/nok/*.png, DIR/masks/*.png (the exact defect mask of each NOK image,
      same base name) and DIR/manifest.csv (file,label,defect,mask,defect_pixels).
    The same family, seed and size give byte-identical files; image i does not depend on --count.

    Families:
      weld   MIG weld seams on aluminium plates (RGB). Defects: pores, crack, black_area,
             interruption, irregular_scale, end_crater, no_seam.
      cast   cast discs with a centre hole (grey). Defects: scratch, blowhole, chipped_edge.

    Options:
      --out DIR       where to write (created if missing)
      --family NAME   weld (default) or cast
      --count N       number of images, 1-100000 (default 200)
      --size S        image side in pixels, 32-1024 (default 128)
      --seed N        random seed (default 1)
      --camera WxH    resample every part (drawn at --size) to a camera resolution, e.g.
                      1600x1200 (the paper's welding camera); sides 32-4096
      --force         write into DIR even if it already holds files
    """
    static let options: Set<String> = ["--out", "--family", "--count", "--size", "--seed", "--camera"]
    static let flags: Set<String> = ["--force"]

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.positionals(exactly: [])
        let directory = try arguments.requiredString("--out")
        let spec = SampleDatasetSpec(
            family: try arguments.choice("--family", default: PartFamily.weld),
            count: try arguments.integer("--count", default: 200, in: SampleDatasetSpec.countRange),
            size: try arguments.integer("--size", default: 128, in: SampleDatasetSpec.sizeRange),
            seed: try arguments.unsigned("--seed", default: 1),
            camera: try camera(arguments.string("--camera")))
        if BinaryFile.exists(directory) {
            guard BinaryFile.isDirectory(directory) else {
                throw RuntimeFailure("\(directory): exists and is not a directory")
            }
            let existing = (try? BinaryFile.entries(of: directory)) ?? []
            if !existing.isEmpty && !arguments.flag("--force") {
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

    /// "WxH" → the two sides, each within `SampleDatasetSpec.cameraRange`.
    static func camera(_ text: String?) throws(UsageError) -> (width: Int, height: Int)? {
        guard let text else { return nil }
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]),
              SampleDatasetSpec.cameraRange.contains(width), SampleDatasetSpec.cameraRange.contains(height) else {
            throw UsageError("option '--camera' needs WIDTHxHEIGHT with sides of 32-4096, got '\(text)'")
        }
        return (width, height)
    }
}
