import FileAccess
import Foundation
import Imaging
import InspectorUI
import NearCAIPI
import SyntheticParts

/// The terminal UI part of `nearcaipi bench`: the sixel encoder against libsixel's
/// `img2sixel` on the same picture, and the labelling screens' response times.
enum InterfaceMeasurements {
    struct SixelFigures: Encodable {
        var encodeMilliseconds: Double
        var psnr: Double?
        var bytes: Int
        var img2sixelMilliseconds: Double?
        var img2sixelPSNR: Double?
        var img2sixelBytes: Int?

        /// `bench --json`'s names, figures as the report rounds them, absent ones as null.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: JSONKey.self)
            try container.encode(BenchCommand.number(encodeMilliseconds), forKey: .encode_ms)
            try container.encode(psnr.map(BenchCommand.number), forKey: .psnr_db)
            try container.encode(bytes, forKey: .bytes)
            try container.encode(img2sixelMilliseconds.map(BenchCommand.number), forKey: .img2sixel_ms)
            try container.encode(img2sixelPSNR.map(BenchCommand.number), forKey: .img2sixel_psnr_db)
            try container.encode(img2sixelBytes, forKey: .img2sixel_bytes)
        }
        enum JSONKey: CodingKey { case encode_ms, psnr_db, bytes, img2sixel_ms, img2sixel_psnr_db, img2sixel_bytes }
    }

    /// A 256×256 weld image under a heatmap, as the inspector screen shows it.
    static func overlayPicture() -> Image {
        let part = PartFamily.weld.makePart(index: 4, seed: 1, size: 256)
        var heat = Image(width: 256, height: 256, channels: 1)
        for y in 0..<256 { for x in 0..<256 {
            let dx = Float(x - 90), dy = Float(y - 128), ex = Float(x - 190), ey = Float(y - 60)
            heat[0, y, x] = exp(-(dx * dx + dy * dy) / 1800) + 0.6 * exp(-(ex * ex + ey * ey) / 600)
        } }
        return part.image.overlaid(with: heat, range: 0...1.2)
    }

    static func sixel(seconds: Double) throws -> SixelFigures {
        let directory = NSTemporaryDirectory() + "nearcaipi-bench-sixel-\(getpid())"
        try BinaryFile.createDirectory(directory)
        defer { try? BinaryFile.removeTree(directory) }
        // Both encoders get the picture as the same 8-bit PNG, and are judged against it.
        let png = "\(directory)/overlay.png"
        try Data(try ImageFile.encodePNG(overlayPicture())).write(to: URL(fileURLWithPath: png))
        let picture = try ImageFile.read(png).image
        var encoded: [UInt8] = []
        let encodeSeconds = BenchCommand.measure(seconds: seconds) { encoded = SixelEncoder.encode(picture) }
        let ours = "\(directory)/ours.six"
        try Data(encoded).write(to: URL(fileURLWithPath: ours))
        var figures = SixelFigures(encodeMilliseconds: encodeSeconds * 1000, psnr: psnr(decoding: ours, against: picture),
                                   bytes: encoded.count)
        if let tool = which("img2sixel") {
            let theirs = "\(directory)/img2sixel.six"
            var best = Double.infinity
            for _ in 0..<7 {
                let start = monotonicSeconds()
                guard run(tool, ["-o", theirs, png]) == 0 else { break }
                best = min(best, monotonicSeconds() - start)
            }
            if best.isFinite {
                figures.img2sixelMilliseconds = best * 1000
                figures.img2sixelPSNR = psnr(decoding: theirs, against: picture)
                figures.img2sixelBytes = (try? Data(contentsOf: URL(fileURLWithPath: theirs)).count)
            }
        }
        return figures
    }

    /// PSNR of `sixelFile` as decoded by libsixel's `sixel2png` (nil without it, or when its
    /// output has another size).
    static func psnr(decoding sixelFile: String, against picture: Image) -> Double? {
        guard let tool = which("sixel2png") else { return nil }
        let decoded = sixelFile + ".png"
        guard run(tool, ["-i", sixelFile, "-o", decoded]) == 0, let image = try? ImageFile.read(decoded).image,
              image.width == picture.width, image.height == picture.height else { return nil }
        return picture.peakSignalToNoiseRatio(of: image)
    }

    /// The screens on a copy of `workspacePath`, in each graphics mode.
    static func screens(workspacePath: String) throws -> [InterfaceBenchmark.Timings] {
        let copy = NSTemporaryDirectory() + "nearcaipi-bench-workspace-\(getpid())"
        try? BinaryFile.removeTree(copy)
        do { try BinaryFile.copyTree(workspacePath, to: copy) } catch {
            throw RuntimeFailure("cannot copy the workspace '\(workspacePath)' for the benchmark: \(error)")
        }
        defer { try? BinaryFile.removeTree(copy) }
        var all: [InterfaceBenchmark.Timings] = []
        for (mode, truecolor) in [(GraphicsMode.kitty, false), (.sixel, false), (.halfblock, false), (.halfblock, true), (.ascii, false)] {
            let workspace = try Workspace(opening: copy)
            all.append(try InterfaceBenchmark.measure(workspace: workspace, graphics: mode, truecolor: truecolor))
        }
        return all
    }

    static func which(_ name: String) -> String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(folder)/\(name)"
            if access(path, X_OK) == 0 { return path }
        }
        return nil
    }

    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))]
    }
}
