import Foundation
import Testing
import TestSupport

/// End-to-end: the built executable, its exit statuses and what it writes.
@Suite struct CommandLineTests {
    @Test func noArgumentsIsAUsageError() throws {
        let result = try Tool.run([])
        #expect(result.status == 2 && result.standardError.contains("Verbs:"))
    }

    @Test func unknownVerbAndUnknownOption() throws {
        let verb = try Tool.run(["lable"])
        #expect(verb.status == 2 && verb.standardError.contains("unknown verb 'lable'"))
        let option = try Tool.run(["sample", "--out", "/tmp/x", "--colour", "red"])
        #expect(option.status == 2 && option.standardError.contains("unknown option '--colour'"))
    }

    @Test(arguments: [
        (["sample"], "missing required option '--out'"),
        (["sample", "--out", "/tmp/x", "--count", "0"], "'--count' must be between 1 and 100000, got 0"),
        (["sample", "--out", "/tmp/x", "--size", "big"], "'--size' needs a whole number, got 'big'"),
        (["sample", "--out", "/tmp/x", "--family", "gear"], "'--family' must be one of: weld, cast; got 'gear'"),
        (["sample", "--out"], "option '--out' needs a value"),
        (["scan"], "missing the data set folder DIR"),
        (["scan", "a", "b"], "unexpected argument 'b'"),
        (["bench", "--seconds", "99"], "'--seconds' must be a number between 0.1 and 10"),
        (["bench", "--models", "vgg"], "'--models' takes resnet18-w4, resnet18 or none; got 'vgg'"),
        (["simulate", "--out", "/tmp/x"], "missing required option '--data'"),
        (["simulate", "--data", "SampleData/weld", "--out", "/tmp/x", "--strategies", "al,magic"],
         "'--strategies' takes random, al, near-al, caipi, near-caipi; got 'magic'"),
        (["simulate", "--data", "SampleData/weld", "--out", "/tmp/x", "--strategies", "al,al"], "needs distinct strategy names"),
        (["simulate", "--data", "SampleData/weld", "--out", "/tmp/x", "--seeds", "1,x"], "'--seeds' needs distinct non-negative integers"),
        (["simulate", "--data", "SampleData/weld", "--out", "/tmp/x", "--rounds", "0"], "'--rounds' must be between 1 and 100, got 0"),
        (["simulate", "--data", "SampleData/weld", "--out", "/tmp/x", "--validation", "8", "--validation-fraction", "0.2"],
         "both set the validation split"),
        (["simulate", "--data", "SampleData/weld", "--out", "/tmp/x", "--test-fraction", "0.6", "--validation-fraction", "0.5"],
         "must leave images for the pool"),
        (["simulate", "--data", "SampleData/weld", "--out", "/tmp/x", "extra"], "unexpected argument 'extra'"),
        (["simulate", "--data", "SampleData/weld", "--out", "/tmp/x", "--pretrain-method", "defects"],
         "option '--pretrain-method' needs '--pretrain'"),
        (["simulate", "--data", "SampleData/weld", "--out", "/tmp/x", "--pretrain", "--pretrain-method", "rotation"],
         "'--pretrain-method' takes simclr, simsiam, defects; got 'rotation'"),
        (["pretrain", "/tmp/x", "--show", "4"], "option '--show' needs '--out DIR'"),
        (["pretrain", "/tmp/x", "--out", "/tmp/x"], "option '--out' goes with '--show'"),
        (["eval-detection", "--model", "/tmp/x/model.safetensors"], "a checkpoint as '--model' needs '--data DIR'"),
        (["eval-detection", "--data", "SampleData/weld"], "missing required option '--model'"),
        (["pretrain", "/tmp/x", "--method", "simclr", "--suspects", "off"], "option '--suspects' belongs to the defects method"),
        (["pretrain", "/tmp/x", "--map-weight", "0.5"], "option '--map-weight' needs '--defect-map on'"),
        (["sample", "--out", "/tmp/x", "--nok-share", "1.5"], "'--nok-share'"),
    ])
    func usageErrorsExitTwoAndWriteNothing(arguments: [String], message: String) throws {
        try expectUsageError(arguments, message)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/x"))
    }

    /// A plant's pool is mostly good parts: --nok-share sets how many are defective.
    @Test func sampleWithAShareOfDefectiveParts() throws {
        let directory = TemporaryDirectory("cli-share")
        defer { directory.remove() }
        var counts: [Int] = []
        for share in ["0.1", "0.9"] {
            let data = directory.file("weld-\(share)")
            let made = try Tool.run(["sample", "--out", data, "--count", "60", "--size", "32", "--nok-share", share])
            #expect(made.status == 0, "\(made.standardError)")
            let manifest = try String(contentsOfFile: data + "/manifest.csv", encoding: .utf8)
            counts.append(manifest.split(separator: "\n").filter { $0.contains(",nok,") }.count)
        }
        #expect(counts[0] < 15 && counts[1] > 45, "NOK parts at 10 % and 90 %: \(counts)")
    }

    @Test func sampleThenScan() throws {
        let directory = TemporaryDirectory("cli")
        defer { directory.remove() }
        let data = directory.file("weld")
        let made = try Tool.run(["sample", "--out", data, "--count", "12", "--size", "48", "--seed", "4"])
        #expect(made.status == 0, "\(made.standardError)")
        #expect(made.standardOutput.contains("Wrote 12 weld images (48x48, seed 4)"))
        let manifest = try String(contentsOfFile: data + "/manifest.csv", encoding: .utf8)
        #expect(manifest.split(separator: "\n").count == 13)

        // A second run into the same folder must not overwrite without --force.
        let again = try Tool.run(["sample", "--out", data, "--count", "3"])
        #expect(again.status == 1 && again.standardError.contains("pass --force"))
        #expect(try String(contentsOfFile: data + "/manifest.csv", encoding: .utf8) == manifest)

        // A corrupt file among the images is reported by name and skipped.
        let whole = try Data(contentsOf: URL(fileURLWithPath: data + "/manifest.csv").deletingLastPathComponent()
            .appendingPathComponent(String(manifest.split(separator: "\n")[1].split(separator: ",")[0])))
        _ = FileManager.default.createFile(atPath: data + "/ok/broken.png", contents: whole.prefix(60))
        let sheet = directory.file("sheet.png")
        let scan = try Tool.run(["scan", data, "--sheet", sheet, "--thumb", "32", "--columns", "4"])
        #expect(scan.status == 0, "\(scan.standardError)")
        #expect(scan.standardOutput.contains("12 of 13 images readable"))
        #expect(scan.standardOutput.contains("broken.png: corrupt image"))
        #expect(scan.standardOutput.contains("48x48 (12)"))
        #expect(scan.standardOutput.contains("0 problem(s)"))
        #expect(scan.standardOutput.contains("contact sheet: \(sheet) (128x96, 12 thumbnails)"))
    }

    @Test func classFolderOptionsRepeat() throws {
        let directory = TemporaryDirectory("repeat")
        defer { directory.remove() }
        let data = directory.file("data")
        #expect(try Tool.run(["sample", "--out", data, "--count", "8", "--size", "32"]).status == 0)
        try FileManager.default.moveItem(atPath: data + "/ok", toPath: data + "/ok_front")
        try FileManager.default.createDirectory(atPath: data + "/ok_back", withIntermediateDirectories: true)
        let moved = try FileManager.default.contentsOfDirectory(atPath: data + "/ok_front").sorted()
        try FileManager.default.moveItem(atPath: data + "/ok_front/" + moved[0], toPath: data + "/ok_back/" + moved[0])
        let result = try Tool.run(["init", directory.file("ws"), "--data", data, "--ok", "ok_front", "--ok", "ok_back"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains(": 8 images"))
        try expectUsageError(["sample", "--out", "a", "--out", "b"], "option '--out' given twice")
    }

    @Test func scanOfAMissingFolderFails() throws {
        let result = try Tool.run(["scan", "/no/such/folder"])
        #expect(result.status == 1 && result.standardError.contains("/no/such/folder: not a directory"))
    }

    @Test func benchJsonIsOneObjectWithThePeak() throws {
        let result = try Tool.run(["bench", "--json", "--seconds", "0.1", "--models", "none"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let peak = object?["sgemm_gflops"] as? Double
        #expect((peak ?? 0) > 1)
        #expect((object?["imaging"] as? [String: Any])?["png_decode_128_rgb_per_s"] != nil)
    }
}
