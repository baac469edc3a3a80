import Foundation
import Imaging
import Testing
import TestSupport

/// train WORKSPACE → rounds, predict, rollback, end to end on a small generated data set.
@Suite struct WorkspaceRoundTests {
    @Test func roundsPredictAndRollback() throws {
        let directory = TemporaryDirectory("rounds")
        defer { directory.remove() }
        let data = directory.file("weld"), workspace = directory.file("ws")
        #expect(try Tool.run(["sample", "--out", data, "--count", "24", "--size", "32"]).status == 0)
        let created = try Tool.run(["init", workspace, "--data", data, "--input", "32", "--split", "0.5,0.2,0.3,0"])
        #expect(created.status == 0, "\(created.standardError)")
        let noModel = try Tool.run(["predict", workspace, data + "/ok/weld_0001.png"])
        // The engine says what is wrong; the command line says which command fixes it.
        #expect(noModel.status == 1 && noModel.standardError.contains("no trained model yet; run 'nearcaipi train \(workspace)'"))
        let tooMany = try Tool.run(["init", directory.file("ws2"), "--data", data, "--initial-train", "24"])
        #expect(tooMany.status == 1 && tooMany.standardError.contains("option '--initial-train' must be between 1 and 23"),
                "\(tooMany.standardError)")

        for round in 1...2 {
            let trained = try Tool.run(["train", workspace, "--epochs", "2", "--batch", "8"] + (round == 2 ? ["--from-scratch", "--seed", "5", "--force"] : []))
            #expect(trained.status == 0, "\(trained.standardError)")
            #expect(trained.standardOutput.contains("round \(round): models/round-00\(round).safetensors"))
            #expect(trained.standardOutput.contains("test:       accuracy"))
            #expect(trained.standardError.contains("] epoch   2"))
        }
        let image = try #require(try FileManager.default.contentsOfDirectory(atPath: data + "/nok").sorted().first)
        /// The round that answered `predict --json`.
        func prediction() throws -> Int? {
            let result = try Tool.run(["predict", workspace, data + "/nok/" + image, "--json"])
            #expect(result.status == 0, "\(result.standardError)")
            let rows = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]]
            return rows?.first?["round"] as? Int
        }
        let second = try prediction()
        #expect(second == 2)
        // What the plant does with the part, in words and in the JSON, from the round's cuts.
        let decided = try Tool.run(["predict", workspace, data + "/nok/" + image])
        #expect(decided.standardOutput.contains(" → pass (ship without review)") || decided.standardOutput.contains(" → review (a person decides)")
                || decided.standardOutput.contains(" → reject (defective, set aside)"), "\(decided.standardOutput)")
        let json = try Tool.run(["predict", workspace, data + "/nok/" + image, "--json"]).standardOutput
        #expect(json.contains("\"decision\":\"") && json.contains("\"p_nok\":"))
        let statusText = try Tool.run(["status", workspace]).standardOutput
        #expect(statusText.contains("    decisions: passes "), "\(statusText)")
        // The budgets are the workspace's: refused out of range, refused without a workspace.
        let wide = try Tool.run(["train", workspace, "--max-missed", "0.7"])
        #expect(wide.status == 2 && wide.standardError.contains("'--max-missed'"), "\(wide.standardError)")
        let noWorkspace = try Tool.run(["train", "--data", data, "--out", directory.file("x.safetensors"), "--max-missed", "0.05"])
        #expect(noWorkspace.status == 2 && noWorkspace.standardError.contains("is stored in a workspace"), "\(noWorkspace.standardError)")
        let round1 = try Data(contentsOf: URL(fileURLWithPath: workspace + "/models/round-001.safetensors"))

        let rolled = try Tool.run(["rollback", workspace, "--to", "1"])
        #expect(rolled.status == 0)
        let status = try Tool.run(["status", workspace, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any]
        let rounds = (object?["rounds"] as? [[String: Any]])?.map { "\($0["round"]!):\($0["status"]!)" }
        #expect(rounds == ["1:active", "2:rolled_back"])
        // Round 1's checkpoint is exactly what it was, and it answers again.
        #expect(try Data(contentsOf: URL(fileURLWithPath: workspace + "/models/round-001.safetensors")) == round1)
        #expect(try prediction() == 1)
        #expect(FileManager.default.fileExists(atPath: workspace + "/models/round-002.safetensors"))  // kept, not deleted

        // explain takes the workspace and uses its active round (round 1 again, after the rollback).
        let explained = try Tool.run(["explain", workspace, data + "/nok/" + image, "--out", directory.file("maps"), "--masks", "8"])
        #expect(explained.status == 0, "\(explained.standardError)")
        #expect(explained.standardOutput.contains("invrise of nok 8 masks, fill normal"))
        // A round without its own defect map writes none and says nothing of one...
        let base = (image as NSString).deletingPathExtension
        #expect(!explained.standardOutput.contains("own map") && !FileManager.default.fileExists(atPath: directory.file("maps/\(base)_own-map.png")))
        // ...a round that learnt it from the regions known writes it beside InvRISE, and says what it shows.
        let masked = try Tool.run(["train", workspace, "--epochs", "1", "--batch", "8", "--mask-loss", "on", "--force"])
        #expect(masked.status == 0, "\(masked.standardError)")
        let withOwnMap = try Tool.run(["explain", workspace, data + "/nok/" + image, "--out", directory.file("maps"), "--masks", "8"])
        #expect(withOwnMap.status == 0, "\(withOwnMap.standardError)")
        #expect(withOwnMap.standardOutput.contains("; own map") && withOwnMap.standardOutput.contains("_own-map.png"), "\(withOwnMap.standardOutput)")
        let ownMapPanel = try ImageFile.read(directory.file("maps/\(base)_own-map.png")).image
        let overlayPanel = try ImageFile.read(directory.file("maps/\(base)_overlay.png")).image
        #expect((ownMapPanel.width, ownMapPanel.height) == (overlayPanel.width, overlayPanel.height),
                "the own map is drawn as the explanation is: image, overlay, colour bar")
        #expect(try Tool.run(["rollback", workspace, "--to", "1"]).status == 0)
        // A workspace without a trained round is refused with the reason.
        #expect(try Tool.run(["init", directory.file("fresh"), "--data", data, "--input", "32"]).status == 0)
        let untrained = try Tool.run(["explain", directory.file("fresh"), data + "/nok/" + image, "--out", directory.file("m2")])
        #expect(untrained.status == 1 && untrained.standardError.contains("no trained model yet"))

        let bad = try Tool.run(["rollback", workspace, "--to", "7"])
        #expect(bad.status == 1 && bad.standardError.contains("no round 7"))
        try expectUsageError(["rollback", workspace], "missing required option '--to'")
        try expectUsageError(["train", workspace, "--data", data], "'--data' belongs to 'train --data'")
    }
}
