import Foundation
import Testing
import TestSupport

/// `init` and `status` end to end, on the bundled sample data and on bad input.
@Suite struct WorkspaceCommandTests {
    @Test func initAndStatusOnTheBundledSampleData() throws {
        let directory = TemporaryDirectory("ws-cli")
        defer { directory.remove() }
        let workspace = directory.file("cast")
        let created = try Tool.run(["init", workspace, "--data", repositoryRoot() + "/SampleData/cast", "--initial-train", "60"])
        #expect(created.status == 0, "\(created.standardError)")
        #expect(created.standardOutput.contains("(folders layout): 200 images, 0 skipped as unreadable"))
        let status = try Tool.run(["status", workspace, "--json"])
        #expect(status.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any]
        let images = object?["images"] as? [String: Int]
        #expect(images?["usable"] == 200 && images?["ok"] == 88 && images?["nok"] == 112 && images?["with_mask"] == 112)
        let train = (object?["splits"] as? [String: Any])?["train"] as? [String: Int]
        #expect((train?["ok"] ?? 0) + (train?["nok"] ?? 0) == 60)
        // A second init into the same folder is refused and changes nothing.
        let again = try Tool.run(["init", workspace, "--data", repositoryRoot() + "/SampleData/cast"])
        #expect(again.status == 1 && again.standardError.contains("already a workspace"))
    }

    /// A workspace on a read-only file system (an archive, an auditor's copy) opens for
    /// reading: status says so, export and evaluation work; a verb that would change it is
    /// refused up front, naming the reason.
    @Test(.enabled(if: SmallFileSystem.isAvailable)) func aReadOnlyWorkspaceCanBeAudited() throws {
        let directory = TemporaryDirectory("ws-read-only")
        defer { directory.remove() }
        let disk = try SmallFileSystem(at: directory.file("archive"), megabytes: 16)
        defer { disk.unmount() }
        let workspace = directory.file("archive/ws")
        #expect(try Tool.run(["init", workspace, "--data", repositoryRoot() + "/SampleData/weld", "--input", "32"]).status == 0)
        #expect(try Tool.run(["train", workspace, "--epochs", "1"]).status == 0)
        disk.remount(readOnly: true)
        let status = try Tool.run(["status", workspace])
        #expect(status.status == 0 && status.standardOutput.contains("read-only: the workspace's folder cannot be written"),
                "\(status.standardError)")
        let json = try Tool.run(["status", workspace, "--json"])
        #expect(json.standardOutput.contains("\"read_only\":true"))
        let export = try Tool.run(["export", workspace, "--out", directory.file("audit")])
        #expect(export.status == 0 && export.standardOutput.contains("Exported 120 labelled images"), "\(export.standardError)")
        let detection = try Tool.run(["eval-detection", "--model", workspace, "--scores", directory.file("scores.csv")])
        #expect(detection.status == 0 && detection.standardOutput.contains("P(NOK) of round 1"), "\(detection.standardError)")
        // --scores: one row per part scored, its label and its score, as many of each class as
        // the report counts.
        let rows = try String(contentsOfFile: directory.file("scores.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(rows.first == "file,label,\"P(NOK)\"")
        let counted = detection.standardOutput.firstMatch(of: /(\d+) OK and (\d+) NOK parts/)
        let (okParts, nokParts) = (Int(counted?.1 ?? "") ?? -1, Int(counted?.2 ?? "") ?? -1)
        #expect(rows.dropFirst().filter { $0.contains(",OK,") }.count == okParts && rows.dropFirst().filter { $0.contains(",NOK,") }.count == nokParts)
        #expect(rows.dropFirst().allSatisfy { Float($0.split(separator: ",").last ?? "").map { (0...1).contains($0) } == true })
        for verb in [["train", workspace, "--epochs", "1"], ["rollback", workspace, "--to", "1"]] {
            let refused = try Tool.run(verb)
            #expect(refused.status == 1 && refused.standardError.contains("is read-only (its folder cannot be written)"),
                    "\(verb[0]): \(refused.standardError)")
        }
    }

    @Test func badInput() throws {
        let directory = TemporaryDirectory("ws-bad")
        defer { directory.remove() }
        try expectUsageError(["init", directory.file("w"), "--data", "d", "--layout", "coco"], "'--layout' must be one of: auto, mvtec, folders")
        try expectUsageError(["init", directory.file("w"), "--data", "d", "--split", "0.5,0.5"], "'--split' needs four non-negative fractions")
        try expectUsageError(["init", "--data", "d"], "missing the workspace WORKSPACE (a folder, or postgresql://…?workspace=NAME)")
        try FileManager.default.createDirectory(atPath: directory.file("empty"), withIntermediateDirectories: true)
        let empty = try Tool.run(["init", directory.file("w"), "--data", directory.file("empty")])
        #expect(empty.status == 1 && empty.standardError.contains("no images in class folders"))
        let mvtec = try Tool.run(["init", directory.file("w"), "--data", directory.file("empty"), "--layout", "mvtec"])
        #expect(mvtec.status == 1 && mvtec.standardError.contains("not the MVTec AD layout"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("w/workspace.sqlite")))
        let missing = try Tool.run(["status", directory.file("nowhere")])
        #expect(missing.status == 1 && missing.standardError.contains("no such workspace"))
    }
}
