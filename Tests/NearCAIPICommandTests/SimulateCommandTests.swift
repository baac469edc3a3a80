import Foundation
import Testing
import TestSupport

/// `nearcaipi simulate` end to end: a tiny budget on the bundled weld data.
@Suite struct SimulateCommandTests {
    @Test func writesTheTableTheCSVAndTheChart() throws {
        let directory = TemporaryDirectory("simulate-cli")
        defer { directory.remove() }
        let out = directory.file("results")
        let arguments = ["simulate", "--data", repositoryRoot() + "/SampleData/weld", "--out", out, "--input", "32",
                         "--initial-train", "12", "--rounds", "1", "--per-round", "2", "--seeds", "7", "--strategies", "random,caipi",
                         "--epochs", "1", "--initial-epochs", "1"]
        let result = try Tool.run(arguments)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("seed 7 initial model:") && result.standardError.contains("seed 7 CAIPI: [####################] done"))
        #expect(result.standardOutput.contains("| Random Add | MCC |") && result.standardOutput.contains("| CAIPI | Acc |"))
        let csv = try String(contentsOfFile: out + "/results.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 2 * 2 && csv[1].hasPrefix("random,7,0,12,") && csv[4].hasPrefix("caipi,7,1,"))
        #expect(try String(contentsOfFile: out + "/results.md", encoding: .utf8).contains("| Strategy | Metric | R0 | R1 |"))
        let png = try Data(contentsOf: URL(fileURLWithPath: out + "/results.png"))
        // PNG signature, then IHDR with width 800 and height 500.
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(png[16..<24] == Data([0, 0, 3, 0x20, 0, 0, 1, 0xF4]))
        #expect(FileManager.default.fileExists(atPath: out + "/seed-7/caipi/workspace.sqlite"))

        // Started again: everything is there, nothing is retrained, the same table comes out.
        let again = try Tool.run(arguments)
        let table = { (text: String) in text.split(separator: "\n").filter { !$0.hasPrefix("Wrote ") } }
        #expect(again.status == 0 && !again.standardError.contains("training"), "\(again.standardError)")
        #expect(table(again.standardOutput) == table(result.standardOutput))
    }
}
