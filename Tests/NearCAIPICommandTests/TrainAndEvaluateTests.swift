import Foundation
import Testing
import TestSupport

/// `train --data` then `eval-explanations` on a small generated data set, end to end.
@Suite struct TrainAndEvaluateTests {
    @Test func trainsAndScoresExplanations() throws {
        let directory = TemporaryDirectory("train")
        defer { directory.remove() }
        let data = directory.file("cast")
        #expect(try Tool.run(["sample", "--out", data, "--family", "cast", "--count", "16", "--size", "32"]).status == 0)
        let checkpoint = directory.file("model.safetensors")
        let train = try Tool.run(["train", "--data", data, "--out", checkpoint, "--arch", "resnet18-w8", "--size", "32",
                                  "--epochs", "2", "--batch", "8", "--validation", "0.25"])
        #expect(train.status == 0, "\(train.standardError)")
        #expect(train.standardError.contains("resnet18-w8 at 32x32x1, 12 training and 4 validation images"))
        #expect(train.standardError.contains("epoch   2"))
        #expect(train.standardOutput.contains("checkpoint \(checkpoint)"))

        let csv = directory.file("table.csv")
        let evaluation = try Tool.run(["eval-explanations", "--data", data, "--model", checkpoint, "--masks", "16",
                                       "--limit", "3", "--csv", csv])
        #expect(evaluation.status == 0, "\(evaluation.standardError)")
        #expect(evaluation.standardOutput.contains("of 16 images); heatmaps of 3 masked NOK images, 16 masks, grid 8"))
        #expect(evaluation.standardOutput.contains("ceiling (a perfect map, top 10 %): Dice "))
        #expect(evaluation.standardOutput.contains("RISE") && evaluation.standardOutput.contains("InvRISE"))
        let table = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(table.count == 3 && table[0] == "method,fill,images,model_accuracy,dice,jaccard,hit_accuracy,pixel_auroc,median_contrast")
        #expect(table[1].hasPrefix("rise,normal,3,") && table[2].hasPrefix("invrise,normal,3,"))

        // Several fills, JSON, and the data set's own OK parts as the normal parts.
        let json = try Tool.run(["eval-explanations", "--data", data, "--model", checkpoint, "--masks", "16", "--limit", "2",
                                 "--methods", "invrise", "--fill", "zero,normal", "--json"])
        #expect(json.status == 0, "\(json.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.map { $0["fill"] as? String } == ["zero", "normal"])
        #expect(rows.allSatisfy { ($0["images"] as? Int) == 2 && $0["medianContrast"] != nil })
    }

    @Test(arguments: [
        (["train", "--out", "m.safetensors"], "missing required option '--data'"),
        (["train", "--data", "d", "--out", "m", "--arch", "vgg16"], "'--arch' must be resnet18-w4, resnet18-w2, resnet18-w8 or resnet18"),
        (["train", "--data", "d", "--out", "m", "--validation", "1"], "'--validation' must be a fraction between 0 and 1"),
        (["train", "--data", "d", "--out", "m", "--channels", "2"], "'--channels' must be 1 or 3"),
        (["train", "--data", "d", "--out", "m", "--mask-loss", "on"], "option '--mask-loss' is stored in a workspace"),
        (["train", "ws", "--mask-loss", "yes"], "option '--mask-loss' must be one of: on, off; got 'yes'"),
        (["train", "ws", "--mask-weight", "0"], "option '--mask-weight' must be a number between 0 and 100 (exclusive), got '0'"),
        (["simulate", "--data", "d", "--out", "o", "--mask-weight", "0.5"], "option '--mask-weight' needs '--mask-loss on'"),
        (["eval-explanations", "--data", "d", "--model", "m", "--methods", "gradcam"], "'--methods' takes rise and/or invrise"),
        (["eval-explanations", "--data", "d", "--model", "m", "--fill", "noise"], "'--fill' takes zero, mean, blur, median, normal or all"),
        (["eval-explanations", "--data", "d", "--model", "m", "--layout", "coco"], "'--layout' must be one of: auto, mvtec, folders"),
        (["eval-explanations", "--data", "d", "--model", "m.safetensors", "--split", "test"], "'--split test' needs a workspace"),
        (["eval-explanations", "--data", "d", "--model", "m.safetensors", "--round", "2"], "option '--round' picks a round of a workspace"),
    ])
    func usageErrors(arguments: [String], message: String) throws {
        try expectUsageError(arguments, message)
    }

    /// With a workspace, the maps are scored on the parts no round trained on, unless asked.
    @Test func aWorkspacesMapsAreScoredOnItsTestSplit() throws {
        let directory = TemporaryDirectory("eval-split")
        defer { directory.remove() }
        let data = directory.file("weld"), workspace = directory.file("ws")
        #expect(try Tool.run(["sample", "--out", data, "--count", "30", "--size", "32"]).status == 0)
        #expect(try Tool.run(["init", workspace, "--data", data, "--input", "32"]).status == 0)
        #expect(try Tool.run(["train", workspace, "--epochs", "2"]).status == 0)
        let status = try Tool.run(["status", workspace, "--json"])
        let splits = try #require((try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any])?["splits"]
            as? [String: [String: Int]])
        let test = (splits["test"]?["ok"] ?? 0) + (splits["test"]?["nok"] ?? 0) + (splits["test"]?["hidden"] ?? 0)
        #expect(test > 0 && test < 30)
        let split = try Tool.run(["eval-explanations", "--data", data, "--model", workspace, "--methods", "invrise", "--masks", "8",
                                  "--limit", "1"])
        #expect(split.status == 0, "\(split.standardError)")
        #expect(split.standardOutput.contains("of \(test) test-split images of 30)"), "\(split.standardOutput)")
        let all = try Tool.run(["eval-explanations", "--data", data, "--model", workspace, "--methods", "invrise", "--masks", "8",
                                "--limit", "1", "--split", "all"])
        #expect(all.status == 0 && all.standardOutput.contains("of 30 images)"), "\(all.standardOutput)")
        // Another data set holds none of its test parts: said, with the way out.
        let other = directory.file("cast")
        #expect(try Tool.run(["sample", "--out", other, "--family", "cast", "--count", "6", "--size", "32"]).status == 0)
        let wrong = try Tool.run(["eval-explanations", "--data", other, "--model", workspace, "--masks", "8"])
        #expect(wrong.status == 1 && wrong.standardError.contains("test split is in this data set"), "\(wrong.standardError)")
    }

    /// `train --mask-loss on`: stored, said by `status`, and the round's own defect map is
    /// scored beside the explanations.
    @Test func theMaskLossIsStoredShownAndItsMapScored() throws {
        let directory = TemporaryDirectory("mask-loss")
        defer { directory.remove() }
        let data = directory.file("weld"), workspace = directory.file("ws")
        #expect(try Tool.run(["sample", "--out", data, "--count", "30", "--size", "32"]).status == 0)
        #expect(try Tool.run(["init", workspace, "--data", data, "--input", "32"]).status == 0)
        let off = try Tool.run(["status", workspace])
        #expect(off.standardOutput.contains("mask loss: off"), "\(off.standardOutput)")
        let train = try Tool.run(["train", workspace, "--epochs", "2", "--mask-loss", "on"])
        #expect(train.status == 0, "\(train.standardError)")
        #expect(train.standardOutput.contains("mask loss:  the defect map trained on "), "\(train.standardOutput)")
        let status = try Tool.run(["status", workspace])
        #expect(status.standardOutput.contains("mask loss: on"), "\(status.standardOutput)")
        // Its weight belongs to a round trained with it; a usage error on a workspace without it.
        let other = directory.file("plain")
        #expect(try Tool.run(["init", other, "--data", data, "--input", "32"]).status == 0)
        let weightless = try Tool.run(["train", other, "--epochs", "1", "--mask-weight", "0.3"])
        #expect(weightless.status == 2 && weightless.standardError.contains("'--mask-weight' needs the mask loss"), "\(weightless.standardError)")
        #expect(status.standardOutput.contains("    mask loss: the defect map trained on "), "\(status.standardOutput)")
        let explanations = try Tool.run(["eval-explanations", "--data", data, "--model", workspace, "--methods", "invrise", "--masks", "8",
                                         "--split", "all", "--limit", "2", "--json"])
        #expect(explanations.status == 0, "\(explanations.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(explanations.standardOutput.utf8)) as? [String: Any])
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.map { $0["method"] as? String } == ["invrise", "defect-map"])
        #expect(rows.allSatisfy { ($0["images"] as? Int) == 2 && ($0["pixelAUROC"] as? Double).map { (0...1).contains($0) } == true })
        let detection = try Tool.run(["eval-detection", "--model", workspace])
        #expect(detection.status == 0 && detection.standardOutput.contains("  defect map: pixel AUROC "), "\(detection.standardOutput)")
        // Stored: the next round trains with it without being told.
        let next = try Tool.run(["train", workspace, "--epochs", "1"])
        #expect(next.status == 0 && next.standardOutput.contains("mask loss:  the defect map trained on "), "\(next.standardOutput)")
        // Any round's maps, not only the round in use's: the first round's again, as above.
        let first = try Tool.run(["eval-explanations", "--data", data, "--model", workspace, "--round", "1", "--methods", "invrise",
                                  "--masks", "8", "--split", "all", "--limit", "2", "--json"])
        let again = try #require(try JSONSerialization.jsonObject(with: Data(first.standardOutput.utf8)) as? [String: Any])
        let figures = { (rows: [[String: Any]]) in rows.map { [$0["method"] as? String, "\($0["dice"] ?? "")", "\($0["pixelAUROC"] ?? "")"] } }
        #expect(figures(try #require(again["rows"] as? [[String: Any]])) == figures(rows), "\(first.standardError)")
        let missing = try Tool.run(["eval-explanations", "--data", data, "--model", workspace, "--round", "9"])
        #expect(missing.status == 1 && missing.standardError.contains("no round 9 (its rounds: 1, 2)"), "\(missing.standardError)")
    }

    @Test func aFolderWithoutClassesIsARuntimeFailure() throws {
        let directory = TemporaryDirectory("train-empty")
        defer { directory.remove() }
        let result = try Tool.run(["train", "--data", directory.path, "--out", directory.file("m")])
        #expect(result.status == 1 && result.standardError.contains("no readable image in the class folders"))
    }
}
