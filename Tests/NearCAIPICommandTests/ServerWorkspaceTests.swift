import Foundation
import NearCAIPI
import Testing
import TestSupport

/// A workspace on a PostgreSQL server, used from two stations — separate processes, each with
/// its own station folder, sharing nothing but the server and the data set's folder — through
/// the command line: made on one, trained on one, answered and predicted on the other.
@Suite(.serialized) struct ServerWorkspaceTests {
    @Test func twoStationsShareOneWorkspaceOnAServer() throws {
        let directory = TemporaryDirectory("server-workspace")
        defer { directory.remove() }
        let server = try PostgresTestServer.shared()
        let url = server.url(database: try server.freshDatabaseName("stations"), workspace: "line-1")
        let stationA = ["NEARCAIPI_STATION_FOLDER": directory.file("station-a")]
        let stationB = ["NEARCAIPI_STATION_FOLDER": directory.file("station-b")]
        let data = directory.file("data")
        #expect(try Tool.run(["sample", "--out", data, "--count", "60", "--size", "32"]).status == 0)

        let made = try Tool.run(["init", url, "--data", data, "--input", "32"], environment: stationA)
        #expect(made.status == 0, "\(made.standardError)")
        let again = try Tool.run(["init", url, "--data", data, "--input", "32"], environment: stationB)
        #expect(again.status == 1 && again.standardError.contains("workspace 'line-1'") && again.standardError.contains("exists already"))

        let trained = try Tool.run(["train", url, "--epochs", "2"], environment: stationA)
        #expect(trained.status == 0, "\(trained.standardError)")
        #expect(trained.standardOutput.contains("round 1"))

        // Station B sees the round and loads its model, copied from the server.
        let status = try Tool.run(["status", url], environment: stationB)
        #expect(status.status == 0, "\(status.standardError)")
        #expect(status.standardOutput.contains("round 1"), "\(status.standardOutput)")
        let checkpoint = "models/round-001.safetensors"
        // Each station's folder of the workspace: NAME-SERVERKEY below its root.
        func stationCopy(_ station: String) throws -> Data {
            let root = directory.file(station)
            let folders = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix("line-1-") }
            #expect(folders.count == 1, "\(folders)")
            return try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(folders.first ?? "")/\(checkpoint)"))
        }
        let image = try #require(FileManager.default.enumerator(atPath: data)?.compactMap { $0 as? String }.first { $0.hasSuffix(".png") })
        let predicted = try Tool.run(["predict", url, "\(data)/\(image)"], environment: stationB)
        #expect(predicted.status == 0, "\(predicted.standardError)")
        #expect(predicted.standardOutput.contains("\(image): ok ") || predicted.standardOutput.contains("\(image): nok "), "\(predicted.standardOutput)")
        #expect(try stationCopy("station-b") == stationCopy("station-a"))

        // B answers; A's next round trains on B's answers.
        let answered = try Tool.run(["expert", url, "--user", "bob", "--answers", "4"], environment: stationB)
        #expect(answered.status == 0, "\(answered.standardError)")
        let stored = answered.standardOutput.split(separator: "\n").filter { $0.hasPrefix("stored ") }
        #expect(stored.count >= 4)
        let second = try Tool.run(["train", url, "--epochs", "2"], environment: stationA)
        #expect(second.status == 0 && second.standardOutput.contains("round 2"), "\(second.standardError)")
        let json = try Tool.run(["status", url, "--json"], environment: stationB)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        #expect((report["rounds"] as? [[String: Any]])?.count == 2)
    }

    /// The screens on a server workspace: an answer given on one station is stored for all,
    /// and a round another station puts in use shows on the screen within moments of its
    /// commit (the station hears the workspace's news channel).
    @Test(.enabled(if: LabelTerminalTests.tmuxAvailable)) func theScreensOfAStationHearAnotherStationsRound() throws {
        let directory = TemporaryDirectory("server-screens")
        defer { directory.remove() }
        let server = try PostgresTestServer.shared()
        let url = server.url(database: try server.freshDatabaseName("screens"), workspace: "line-2")
        let stationA = ["NEARCAIPI_STATION_FOLDER": directory.file("station-a")]
        let made = try Tool.run(["init", url, "--data", repositoryRoot() + "/SampleData/weld", "--input", "32"], environment: stationA)
        #expect(made.status == 0, "\(made.standardError)")
        #expect(try Tool.run(["train", url, "--epochs", "1"], environment: stationA).status == 0)

        let tmux = try LabelTerminalTests.TmuxSession(
            "NEARCAIPI_STATION_FOLDER=\(directory.file("station-b")) TERM=xterm-256color \(Tool.executable) label '\(url)' "
                + "--user tess --role operator; echo EXIT=$?; sleep 60", columns: 120, rows: 40)
        let first = tmux.waitFor("y/n prediction")
        #expect(first.contains("item: weld_") && !first.contains("station-b"), "\(first)")
        try tmux.keys("y")
        try tmux.keys("Enter")
        tmux.waitFor("(#1)")
        let status = try Tool.run(["status", url, "--json"], environment: stationA)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any])
        #expect(report["pending_feedback"] as? Int == 1, "\(status.standardOutput)")

        let trained = try Tool.run(["train", url, "--epochs", "1", "--force"], environment: stationA)
        #expect(trained.status == 0 && trained.standardOutput.contains("round 2"), "\(trained.standardError)")
        let committed = Date()
        tmux.waitFor("Round 2 is now in use", seconds: 15)
        #expect(Date().timeIntervalSince(committed) < 3)
        try tmux.keys("q")
        tmux.waitFor("EXIT=0")
    }

    /// A folder workspace with rounds, answers, masks, refutations and reviews moved to a
    /// server and back: the export of the round trip equals the original's byte for byte.
    @Test func aWorkspaceMovesToAServerAndBackUnchanged() throws {
        let directory = TemporaryDirectory("migrate")
        defer { directory.remove() }
        let server = try PostgresTestServer.shared()
        let station = ["NEARCAIPI_STATION_FOLDER": directory.file("station")]
        let data = directory.file("data"), folder = directory.file("ws"), back = directory.file("back")
        #expect(try Tool.run(["sample", "--out", data, "--count", "60", "--size", "32"]).status == 0)
        #expect(try Tool.run(["init", folder, "--data", data, "--input", "32"]).status == 0)
        #expect(try Tool.run(["train", folder, "--epochs", "2"]).status == 0)
        let answered = try Tool.run(["expert", folder, "--answers", "8", "--retrain-every", "4", "--epochs", "1"])
        #expect(answered.status == 0, "\(answered.standardError)")
        #expect(try Tool.run(["export", folder, "--out", directory.file("export-original")]).status == 0)

        let url = server.url(database: try server.freshDatabaseName("migrate"), workspace: "moved")
        let there = try Tool.run(["migrate", folder, "--to", url], environment: station)
        #expect(there.status == 0, "\(there.standardError)")
        #expect(there.standardOutput.contains("every count checked") && there.standardOutput.contains("workspace 'moved'"))
        let status = try Tool.run(["status", url], environment: station)
        #expect(status.standardOutput.contains("round 3"), "\(status.standardOutput)")
        let twice = try Tool.run(["migrate", folder, "--to", url], environment: station)
        #expect(twice.status == 1 && twice.standardError.contains("exists already"))

        let home = try Tool.run(["migrate", url, "--to", back], environment: station)
        #expect(home.status == 0, "\(home.standardError)")
        #expect(try Tool.run(["export", back, "--out", directory.file("export-back")]).status == 0)
        let original = directory.file("export-original"), roundTrip = directory.file("export-back")
        let files = try #require(FileManager.default.subpathsOfDirectory(atPath: original) as [String]?).sorted()
        #expect(files.contains("feedback.csv") && files.count > 10)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: roundTrip).sorted() == files)
        for file in files where !((try? FileManager.default.attributesOfItem(atPath: "\(original)/\(file)")[.type] as? FileAttributeType) == .typeDirectory) {
            #expect(FileManager.default.contentsEqual(atPath: "\(original)/\(file)", andPath: "\(roundTrip)/\(file)"), "\(file) differs")
        }
    }

    /// Stations share the image folder by mounting it: a station whose copy of an image is
    /// missing or differs from what `init` indexed is refused, naming the file; with the file
    /// back, it opens again.
    @Test func aStationWhoseImagesDifferIsRefusedNamingTheFile() throws {
        let directory = TemporaryDirectory("server-images")
        defer { directory.remove() }
        let server = try PostgresTestServer.shared()
        let url = server.url(database: try server.freshDatabaseName("images"), workspace: "line-5")
        let station = ["NEARCAIPI_STATION_FOLDER": directory.file("station")]
        let data = directory.file("data")
        #expect(try Tool.run(["sample", "--out", data, "--count", "20", "--size", "32"]).status == 0)
        #expect(try Tool.run(["init", url, "--data", data, "--input", "32"], environment: station).status == 0)
        #expect(try Tool.run(["status", url], environment: station).status == 0)

        let image = data + "/ok/" + (try FileManager.default.contentsOfDirectory(atPath: data + "/ok").sorted()[0])
        let original = try Data(contentsOf: URL(fileURLWithPath: image))
        var changed = original
        changed[changed.count - 20] ^= 0xFF
        try changed.write(to: URL(fileURLWithPath: image))
        let differs = try Tool.run(["status", url], environment: station)
        #expect(differs.status == 1 && differs.standardError.contains(image) && differs.standardError.contains("differs"),
                "\(differs.standardError)")
        try FileManager.default.removeItem(atPath: image)
        let missing = try Tool.run(["status", url], environment: station)
        #expect(missing.status == 1 && missing.standardError.contains(image) && missing.standardError.contains("missing on this station"),
                "\(missing.standardError)")
        try original.write(to: URL(fileURLWithPath: image))
        #expect(try Tool.run(["status", url], environment: station).status == 0)
    }

    @Test func aServerAddressThatCannotBeUsedIsRefusedWithTheReason() throws {
        let directory = TemporaryDirectory("server-refusals")
        defer { directory.remove() }
        let server = try PostgresTestServer.shared()
        let station = ["NEARCAIPI_STATION_FOLDER": directory.file("station")]
        let database = try server.freshDatabaseName("refusals")
        let missing = try Tool.run(["status", server.url(database: database, workspace: "nowhere")], environment: station)
        #expect(missing.status == 1 && missing.standardError.contains("workspace 'nowhere'") && missing.standardError.contains("no such workspace"))
        let noDatabase = try Tool.run(["status", server.url(database: "no_such_db", workspace: "w")], environment: station)
        #expect(noDatabase.status == 1 && noDatabase.standardError.contains("no_such_db"), "\(noDatabase.standardError)")
        let noName = try Tool.run(["status", server.url(database: database)], environment: station)
        // A mistake in the address itself is a usage error (exit 2), as a misspelt option is.
        #expect(noName.status == 2 && noName.standardError.contains("names no workspace"), "\(noName.standardError)")
        let typo = try Tool.run(["status", "postgressql:///\(database)?workspace=w"], environment: station)
        #expect(typo.status == 2 && typo.standardError.contains("not a folder or a PostgreSQL address"), "\(typo.standardError)")
        let secret = "postgresql://ann:s3cret@/\(database)?host=\(server.folder)&port=\(server.port)&workspace=w"
        let wrong = try Tool.run(["status", secret], environment: station)
        #expect(wrong.status != 0 && !wrong.standardError.contains("s3cret"), "\(wrong.standardError)")
        // A user the server does not know: named, refused.
        #expect(wrong.standardError.contains("\"ann\""), "\(wrong.standardError)")
        // No server where the address points: the address (without password) and the reason.
        let nowhere = "postgresql:///\(database)?host=\(directory.file("no-server-here"))&port=\(server.port)&workspace=w"
        let unreachable = try Tool.run(["status", nowhere], environment: station)
        #expect(unreachable.status == 1 && unreachable.standardError.contains("no-server-here"), "\(unreachable.standardError)")
        #expect(unreachable.standardError.contains("connect"), "\(unreachable.standardError)")
        // A workspace of another schema version (made by another NearCAIPI): refused, unchanged.
        let data = directory.file("data")
        #expect(try Tool.run(["sample", "--out", data, "--count", "20", "--size", "32"]).status == 0)
        let old = server.url(database: database, workspace: "old")
        #expect(try Tool.run(["init", old, "--data", data, "--input", "32"], environment: station).status == 0)
        try server.execute("UPDATE \"nearcaipi_old\".schema_version SET version = 99", database: database)
        for verb in [["status", old], ["expert", old, "--answers", "1"], ["train", old, "--epochs", "1"]] {
            let refused = try Tool.run(verb, environment: station)
            #expect(refused.status == 1 && refused.standardError.contains("workspace 'old'")
                    && refused.standardError.contains("is of schema 99"), "\(verb[0]): \(refused.standardError)")
        }
        try server.execute("UPDATE \"nearcaipi_old\".schema_version SET version = \(WorkspaceSchema.currentVersion)", database: database)
        let reopened = try Tool.run(["status", old], environment: station)
        #expect(reopened.status == 0 && reopened.standardOutput.contains("rounds: none yet"), "\(reopened.standardError)")
    }
}
