import Foundation
import Imaging
import NearCAIPI
import Testing
import TestSupport

/// Every workspace verb on a tiny MVTec AD layout: init (auto-detected), status, feedback,
/// train, predict, export in all three formats.
@Suite struct MVTecWorkflowTests {
    func makeMVTec(_ root: String) throws {
        var random = UInt64(7)
        func noise() -> Float {
            random = random &* 6364136223846793005 &+ 1442695040888963407
            return Float(random >> 40) / Float(1 << 24)
        }
        for folder in ["train/good", "test/good", "test/hole", "ground_truth/hole"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
        }
        func part(hole: Bool) -> Image {
            var image = Image(width: 32, height: 32, channels: 1, pixels: (0..<1024).map { _ in 0.5 + 0.1 * noise() })
            if hole { for y in 10..<16 { for x in 12..<18 { image[0, y, x] = 0.05 } } }
            return image
        }
        var mask = BinaryMask(width: 32, height: 32)
        for y in 10..<16 { for x in 12..<18 { mask[y, x] = true } }
        for i in 0..<8 { try ImageFile.writePNG(part(hole: false), to: "\(root)/train/good/\(100 + i).png") }
        for i in 0..<4 { try ImageFile.writePNG(part(hole: false), to: "\(root)/test/good/\(100 + i).png") }
        for i in 0..<8 {
            try ImageFile.writePNG(part(hole: true), to: "\(root)/test/hole/\(100 + i).png")
            try ImageFile.writePNG(mask.image, to: "\(root)/ground_truth/hole/\(100 + i)_mask.png")
        }
    }

    @Test func everyVerbOnTheMVTecLayout() throws {
        let directory = TemporaryDirectory("mvtec-cli")
        defer { directory.remove() }
        let data = directory.file("mvtec"), workspace = directory.file("ws")
        try makeMVTec(data)
        let created = try Tool.run(["init", workspace, "--data", data, "--input", "32", "--split", "0.5,0.2,0.2,0.1"])
        #expect(created.status == 0, "\(created.standardError)")
        #expect(created.standardOutput.contains("(mvtec layout): 20 images, 0 skipped"))
        #expect(created.standardOutput.contains("12 with a defect mask") == false)  // masks belong to the 8 NOK images
        #expect(created.standardOutput.contains("8 with a defect mask"))

        // An expert labels a pool item; the verdict joins the known labels.
        let status = try Tool.run(["status", workspace, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any]
        let hidden = ((object?["splits"] as? [String: Any])?["pool"] as? [String: Int])?["hidden"] ?? 0
        #expect(hidden == 2)
        let pool = try Workspace(opening: workspace).items(in: .pool).sorted { $0.path < $1.path }
        guard let poolItem = pool.first?.path, let truth = pool.first?.truthLabel else {
            Issue.record("no pool item")
            return
        }
        let given = truth.name
        let csv = directory.file("verdicts.csv")
        try "path,prediction,explanation,label\n\(poolItem),,,\(given)\n".write(toFile: csv, atomically: true, encoding: .utf8)
        #expect(try Tool.run(["feedback", workspace, "--import", csv]).status == 0)
        let after = try Tool.run(["status", workspace, "--json"])
        let splits = (try JSONSerialization.jsonObject(with: Data(after.standardOutput.utf8)) as? [String: Any])?["splits"] as? [String: Any]
        let poolCounts = splits?["pool"] as? [String: Int]
        #expect(poolCounts == ["ok": given == "ok" ? 1 : 0, "nok": given == "nok" ? 1 : 0, "hidden": 1], "\(after.standardOutput)")

        #expect(try Tool.run(["train", workspace, "--epochs", "2", "--batch", "4"]).status == 0)
        let predicted = try Tool.run(["predict", workspace, data + "/test/hole/101.png", data + "/train/good/100.png"])
        #expect(predicted.status == 0 && predicted.standardOutput.split(separator: "\n").count == 2)

        for format in ["folders", "mvtec", "csv"] {
            let out = directory.file("export-\(format)")
            let exported = try Tool.run(["export", workspace, "--out", out, "--format", format])
            #expect(exported.status == 0, "\(exported.standardError)")
            #expect(exported.standardOutput.contains("feedback events"))
            #expect(FileManager.default.fileExists(atPath: out + "/feedback.csv"))
            let log = try String(contentsOfFile: out + "/feedback.csv", encoding: .utf8)
            #expect(log.contains("\(poolItem),import,") && log.contains(",\(given),0"))
        }
        let folders = directory.file("export-folders")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folders + "/ok").count
                + FileManager.default.contentsOfDirectory(atPath: folders + "/nok").count >= 18)
        let exportedName = poolItem.replacingOccurrences(of: "/", with: "_")
        #expect(FileManager.default.fileExists(atPath: folders + "/\(given)/\(exportedName)"))
        #expect(FileManager.default.fileExists(atPath: directory.file("export-mvtec") + "/ground_truth/defect"))
        let labels = try String(contentsOfFile: directory.file("export-csv") + "/labels.csv", encoding: .utf8)
        #expect(labels.hasPrefix("file,source,label,split,mask\n") && labels.contains("images/\(exportedName),\(poolItem),\(given),pool,"))
        let again = try Tool.run(["export", workspace, "--out", folders])
        #expect(again.status == 1 && again.standardError.contains("pass --force"))
    }
}
