import Foundation
import Testing
import TestSupport

/// `nearcaipi explain` end to end, with the cross-check checkpoint (resnet18-w4, RGB, 128).
@Suite struct ExplainCommandTests {
    static let checkpoint = repositoryRoot() + "/Tests/NeuralNetTests/Fixtures/resnet18w4_reference.safetensors"
    static let image = repositoryRoot() + "/SampleData/weld/nok/weld_0004.png"

    @Test func writesOverlayAndRawHeatmapAndSkipsUnreadableImages() throws {
        let directory = TemporaryDirectory("explain")
        defer { directory.remove() }
        let out = directory.file("maps")
        let result = try Tool.run(["explain", Self.checkpoint, Self.image, "/no/such/part.png",
                                   "--out", out, "--masks", "40", "--seed", "3"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("/no/such/part.png: cannot read") && result.standardError.contains("(skipped)"))
        #expect(result.standardOutput.contains("weld_0004.png: "))
        #expect(result.standardOutput.contains("invrise of nok 40 masks, fill blur"))  // a checkpoint without --normal: blur
        #expect(result.standardError.contains("the normal fill needs OK parts (--normal DIR or a workspace); using blur"))
        let overlay = try #require(FileManager.default.contents(atPath: out + "/weld_0004_overlay.png"))
        let heatmap = try #require(FileManager.default.contents(atPath: out + "/weld_0004_heatmap.png"))
        // PNG header: width and height big-endian at bytes 16…23, bit depth at 24.
        func dimensions(_ data: Data) -> (Int, Int, Int) {
            let bytes = [UInt8](data)
            let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
            return (width, height, Int(bytes[24]))
        }
        // The 128-pixel input enlarged twice, side by side with its overlay, a bar, three lines of text.
        #expect(dimensions(overlay) == (2 * 256 + 3 * 6 + 12, 256 + 27, 8))
        #expect(dimensions(heatmap) == (128, 128, 16))
        // The raw file carries the map's range.
        let text = String(decoding: heatmap, as: UTF8.self)
        #expect(text.contains("heatmap-min") && text.contains("heatmap-max"))

        // Same seed, same heatmap file.
        let again = try Tool.run(["explain", Self.checkpoint, Self.image, "--out", out, "--masks", "40", "--seed", "3"])
        #expect(again.status == 0)
        #expect(FileManager.default.contents(atPath: out + "/weld_0004_heatmap.png") == heatmap)
    }

    /// An MVTec layout repeats file names across defect folders: each image keeps its own
    /// files, and each printed path points at its own map.
    @Test func imagesOfTheSameNameInOtherFoldersKeepTheirOwnFiles() throws {
        let directory = TemporaryDirectory("explain-names")
        defer { directory.remove() }
        let other = repositoryRoot() + "/SampleData/weld/nok/weld_0005.png"
        for (folder, source) in [("crack", Self.image), ("hole", other)] {
            try FileManager.default.createDirectory(atPath: directory.file("test/\(folder)"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: source, toPath: directory.file("test/\(folder)/000.png"))
        }
        let out = directory.file("maps")
        let result = try Tool.run(["explain", Self.checkpoint, directory.file("test/crack/000.png"), directory.file("test/hole/000.png"),
                                   directory.file("test/crack/000.png"), "--out", out, "--masks", "20"])
        #expect(result.status == 0, "\(result.standardError)")
        let written = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix("_overlay.png") }.sorted()
        #expect(written == ["crack_000-2_overlay.png", "crack_000_overlay.png", "hole_000_overlay.png"])
        #expect(result.standardOutput.contains("test/crack/000.png: ") && result.standardOutput.contains("→ \(out)/crack_000_overlay.png"))
        #expect(result.standardOutput.contains("test/hole/000.png: ") && result.standardOutput.contains("→ \(out)/hole_000_overlay.png"))
        #expect(FileManager.default.contents(atPath: out + "/crack_000_heatmap.png") != FileManager.default.contents(atPath: out + "/hole_000_heatmap.png"))
    }

    @Test(arguments: [
        (["explain"], "missing the workspace or checkpoint"),
        (["explain", "model.safetensors"], "missing the image(s) to explain"),
        (["explain", "m", "i.png", "--out", "/tmp/x", "--p", "1.5"], "'--p' must be a number between 0 and 1"),
        (["explain", "m", "i.png", "--out", "/tmp/x", "--method", "gradcam"], "'--method' must be one of: rise, invrise"),
        (["explain", "m", "i.png", "--out", "/tmp/x", "--masks", "0"], "'--masks' must be between 1 and 100000"),
    ])
    func usageErrors(arguments: [String], message: String) throws {
        try expectUsageError(arguments, message)
    }

    /// Either backend explains the same part the same way (the trained weld model, a real
    /// defect): the same prediction, and the same measured map to the printed precision.
    /// In float32: bfloat16 heatmaps (oneDNN only, where native) are checked against float32
    /// maps in `SanityCheckTests`.
    @Test func bothBackendsGiveTheSameExplanation() throws {
        let directory = TemporaryDirectory("explain-backends")
        defer { directory.remove() }
        let model = repositoryRoot() + "/Tests/ExplanationsTests/Fixtures/weld-model.safetensors"
        var reports: [String] = []
        for (backend, viaEnvironment) in [("onednn", false), ("openblas", false), ("openblas", true)] {
            let arguments = ["explain", model, Self.image, "--out", directory.file(backend), "--masks", "120", "--seed", "3",
                             "--normal", repositoryRoot() + "/SampleData/weld/ok"]
            let result = try viaEnvironment
                ? Tool.run(arguments, environment: ["NEARCAIPI_BACKEND": backend, "NEARCAIPI_HEATMAP_PRECISION": "float32"])
                : Tool.run(arguments + ["--backend", backend], environment: ["NEARCAIPI_HEATMAP_PRECISION": "float32"])
            #expect(result.status == 0, "\(result.standardError)")
            // Everything but the time taken and the output path.
            let line = result.standardOutput.components(separatedBy: " → ").first ?? ""
            reports.append(line.replacingOccurrences(of: #", [0-9.]+ s: "#, with: " | ", options: .regularExpression))
        }
        #expect(reports[0] == reports[1] && reports[1] == reports[2], "\(reports)")
        #expect(reports[0].contains("nok 0.9") && reports[0].contains("hiding red lowers P(NOK) by 0."), "\(reports[0])")
    }

    @Test func anUnknownBackendIsAUsageError() throws {
        try expectUsageError(["explain", Self.checkpoint, Self.image, "--backend", "metal"],
                             "option '--backend' takes onednn or openblas; got 'metal'")
        let result = try Tool.run(["explain", Self.checkpoint, Self.image], environment: ["NEARCAIPI_BACKEND": "gpu"])
        #expect(result.status == 2 && result.standardError.contains("NEARCAIPI_BACKEND must be onednn or openblas; got 'gpu'"))
    }

    @Test func aBrokenCheckpointIsARuntimeFailure() throws {
        let directory = TemporaryDirectory("explain-bad")
        defer { directory.remove() }
        let bad = directory.file("bad.safetensors")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: bad))
        let result = try Tool.run(["explain", bad, Self.image, "--out", directory.file("o")])
        #expect(result.status == 1 && result.standardError.contains("bad.safetensors: not a safetensors file"))
    }
}
