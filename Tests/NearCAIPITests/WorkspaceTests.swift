import FileAccess
import Imaging
@testable import NearCAIPI
import Storage
import Testing
import TestSupport

@Suite struct WorkspaceTests {
    /// A tiny MVTec AD layout: 3 + 2 good, 3 cracks with masks (one mask empty), one corrupt file.
    static func makeMVTec(_ root: String) throws {
        let part = Image(width: 16, height: 16, channels: 3, filledWith: 0.5)
        var crack = BinaryMask(width: 16, height: 16)
        for x in 3..<9 { crack[7, x] = true }
        for folder in ["train/good", "test/good", "test/crack", "ground_truth/crack"] { try BinaryFile.createDirectory("\(root)/\(folder)") }
        for i in 0..<3 { try ImageFile.writePNG(part, to: "\(root)/train/good/00\(i).png") }
        for i in 0..<2 { try ImageFile.writePNG(part, to: "\(root)/test/good/00\(i).png") }
        for i in 0..<3 {
            try ImageFile.writePNG(part, to: "\(root)/test/crack/00\(i).png")
            try ImageFile.writePNG(i == 2 ? BinaryMask(width: 16, height: 16).image : crack.image, to: "\(root)/ground_truth/crack/00\(i)_mask.png")
        }
        try BinaryFile.writeAtomically(Array("not an image".utf8), to: "\(root)/test/crack/003.png")
    }

    @Test func mvtecLayoutIsDetectedIndexedAndCorruptFilesAreKeptAsUnusable() throws {
        let directory = TemporaryDirectory("mvtec")
        defer { directory.remove() }
        try Self.makeMVTec(directory.file("data"))
        var reported: [DatasetProblem] = []
        let (workspace, summary) = try Workspace.create(at: directory.file("ws"), dataRoot: directory.file("data"),
                                                        options: WorkspaceOptions()) { reported.append($0) }
        #expect(summary.layout == "mvtec" && summary.items == 9)
        #expect(reported.map(\.path) == ["test/crack/003.png"])
        let status = try workspace.status()
        #expect(status.usable == 8 && status.unusable == 1)
        #expect(status.perClass[.ok] == 5 && status.perClass[.nok] == 3)
        #expect(status.withMask == 2)  // the all-zero mask means "no mask"
        let broken = try #require(try workspace.item(at: "test/crack/003.png"))
        // The reason in words, as `scan` says it — not the name of an enum case.
        #expect(!broken.isUsable && broken.problem == "not a PNG or JPEG file")
        #expect(reported.map(\.reason) == ["not a PNG or JPEG file"])
        #expect(try workspace.layout == .mvtec)
    }

    @Test func foldersLayoutSplitsStratifiedAndHidesPoolLabels() throws {
        let directory = TemporaryDirectory("folders")
        defer { directory.remove() }
        let data = directory.file("data")
        for folder in ["ok", "nok"] { try BinaryFile.createDirectory("\(data)/\(folder)") }
        let part = Image(width: 8, height: 8, channels: 1, filledWith: 0.3)
        for i in 0..<30 { try ImageFile.writePNG(part, to: "\(data)/ok/o\(i).png") }
        for i in 0..<20 { try ImageFile.writePNG(part, to: "\(data)/nok/n\(i).png") }
        var options = WorkspaceOptions()
        options.split = [0.2, 0.2, 0.2, 0.4]
        let (workspace, _) = try Workspace.create(at: directory.file("ws"), dataRoot: data, options: options)
        let status = try workspace.status()
        #expect(status.perSplit[.train] == [.ok: 6, .nok: 4] && status.perSplit[.test] == [.ok: 6, .nok: 4])
        #expect(status.perSplit[.pool] == [nil: 20])
        let pool = try workspace.items(in: .pool)
        #expect(pool.count == 20 && pool.allSatisfy { $0.label == nil && $0.truthLabel != nil })

        // --initial-train: exactly N training images, still stratified.
        options.initialTrain = 10
        let (second, _) = try Workspace.create(at: directory.file("ws2"), dataRoot: data, options: options)
        #expect(try second.status().perSplit[.train] == [.ok: 6, .nok: 4])
        // The same seed gives the same split.
        options.initialTrain = nil
        let (third, _) = try Workspace.create(at: directory.file("ws3"), dataRoot: data, options: options)
        let splitOf = { (w: Workspace) in try Split.allCases.flatMap { try w.items(in: $0).map { "\($0.path) \($0.split)" } }.sorted() }
        #expect(try splitOf(third) == splitOf(workspace))

        // --validation: exactly N validation images, stratified; test and pool share the rest
        // by their fractions (0.2 : 0.4 of the 30 left after 10 + 10).
        options.initialTrain = 10
        options.validationCount = 10
        let (fourth, _) = try Workspace.create(at: directory.file("ws4"), dataRoot: data, options: options)
        let counts = try fourth.status().perSplit
        #expect(counts[.train] == [.ok: 6, .nok: 4] && counts[.validation] == [.ok: 6, .nok: 4])
        #expect(counts[.test] == [.ok: 6, .nok: 4] && counts[.pool] == [nil: 20])
        // More than the data holds: refused, naming the numbers.
        options.validationCount = 45
        #expect(throws: WorkspaceError.self) { try Workspace.create(at: directory.file("ws5"), dataRoot: data, options: options) }
    }

    @Test func schemaMigratesFromVersionOneKeepingData() throws {
        let directory = TemporaryDirectory("migrate")
        defer { directory.remove() }
        try BinaryFile.createDirectory(directory.file("ws"))
        do {
            let old = try Database(path: directory.file("ws/workspace.sqlite"))
            _ = try WorkspaceSchema.migrate(old, path: "ws", upTo: 1)
            try old.query("INSERT INTO items (path, split, truth_label) VALUES (?, 'train', 1)", [.text("a.png")])
        }
        let workspace = try Workspace(opening: directory.file("ws"))
        #expect(try workspace.schemaVersion == WorkspaceSchema.currentVersion)
        #expect(try workspace.items(in: .train).map(\.path) == ["a.png"])
        try workspace.recordFeedback(FeedbackEvent(itemPath: "a.png", user: "anna", predictedLabel: .ok, prediction: .wrong))
        #expect(try workspace.status().pendingFeedback == 1)
    }

    /// Schema 5 rebuilds the rounds table (SQLite cannot change a CHECK in place): rounds and
    /// the answers that point at them survive it, foreign keys intact.
    @Test func roundsSurviveTheRebuildOfTheirTable() throws {
        let directory = TemporaryDirectory("migrate-rounds")
        defer { directory.remove() }
        try BinaryFile.createDirectory(directory.file("ws"))
        do {
            let old = try Database(path: directory.file("ws/workspace.sqlite"))
            _ = try WorkspaceSchema.migrate(old, path: "ws", upTo: 4)
            try old.query("INSERT INTO items (path, split, label, truth_label) VALUES ('a.png', 'train', 1, 1)")
            try old.query("""
                INSERT INTO rounds (number, checkpoint, training_size, metrics, created, status)
                VALUES (1, 'models/round-001.safetensors', 60, '{}', 'then', 'superseded'),
                       (2, 'models/round-002.safetensors', 61, '{}', 'then', 'active')
                """)
            try old.query("INSERT INTO feedback (item_id, user, time, prediction_verdict, predicted_label, round_id) VALUES (1, 'anna', 'now', 'right', 1, 2)")
        }
        let workspace = try Workspace(opening: directory.file("ws"))
        #expect(try workspace.schemaVersion == WorkspaceSchema.currentVersion)
        #expect(try workspace.rounds().map { "\($0.number) \($0.status)" } == ["1 superseded", "2 active"])
        #expect(try workspace.feedbackLog().map(\.roundNumber) == [2])
        // Schema 6 keeps what each round trained on: filled from where the answers stood.
        #expect(try workspace.feedbackLog().map(\.trainedInto) == [[2]])
        #expect(try workspace.integrityProblems().isEmpty)
    }

    @Test func newerSchemaAndMissingWorkspaceAreRefused() throws {
        let directory = TemporaryDirectory("newer")
        defer { directory.remove() }
        try BinaryFile.createDirectory(directory.file("ws"))
        do {
            let future = try Database(path: directory.file("ws/workspace.sqlite"))
            try future.execute("PRAGMA user_version = 99")
        }
        do {
            _ = try Workspace(opening: directory.file("ws"))
            Issue.record("a newer workspace opened")
        } catch let error as WorkspaceError {
            #expect(error.message.contains("newer NearCAIPI (schema 99"))
        }
        #expect(throws: WorkspaceError.self) { try Workspace(opening: directory.file("nothing")) }
    }

    @Test func failuresLeaveNothingBehind() throws {
        let directory = TemporaryDirectory("refused")
        defer { directory.remove() }
        let data = directory.file("data")
        try BinaryFile.createDirectory("\(data)/ok")
        try ImageFile.writePNG(Image(width: 4, height: 4, channels: 1), to: "\(data)/ok/a.png")
        do {
            _ = try Workspace.create(at: directory.file("ws"), dataRoot: data, options: WorkspaceOptions())
            Issue.record("a one-class data set made a workspace")
        } catch let error as WorkspaceError {
            #expect(error.message.contains("both classes"))
        }
        #expect(!BinaryFile.exists(directory.file("ws/workspace.sqlite")))
    }

    @Test func feedbackEstablishesTheItemsLabel() throws {
        let directory = TemporaryDirectory("feedback")
        defer { directory.remove() }
        try Self.makeMVTec(directory.file("data"))
        var options = WorkspaceOptions()
        options.split = [0, 0, 0, 1]  // everything in the pool: labels hidden
        let (workspace, _) = try Workspace.create(at: directory.file("ws"), dataRoot: directory.file("data"), options: options)
        let label = { (path: String) in try workspace.item(at: path)?.label }
        #expect(try label("test/crack/000.png") == nil)
        // "Prediction OK was wrong" establishes NOK; a confirmed prediction keeps it; a skip says nothing.
        try workspace.recordFeedback(FeedbackEvent(itemPath: "test/crack/000.png", user: "anna", predictedLabel: .ok, prediction: .wrong))
        try workspace.recordFeedback(FeedbackEvent(itemPath: "train/good/000.png", user: "anna", predictedLabel: .ok, prediction: .right))
        try workspace.recordFeedback(FeedbackEvent(itemPath: "train/good/001.png", user: "anna", prediction: .skip))
        #expect(try label("test/crack/000.png") == .nok)
        #expect(try label("train/good/000.png") == .ok)
        #expect(try label("train/good/001.png") == nil)
        let log = try workspace.feedbackLog()
        #expect(log.map(\.itemPath) == ["test/crack/000.png", "train/good/000.png", "train/good/001.png"])
        #expect(log.map(\.prediction) == [.wrong, .right, .skip] && log.allSatisfy { $0.user == "anna" && !$0.reverted })
        #expect(log.allSatisfy { $0.correctedLabel == nil && $0.time.hasSuffix("Z") })
        #expect(throws: WorkspaceError.self) {
            try workspace.recordFeedback(FeedbackEvent(itemPath: "test/crack/003.png", user: "anna", prediction: .right))  // unusable
        }
    }

    /// The code and the database share one vocabulary: every word the schema's CHECK lists
    /// allow — in the SQLite migrations and in the PostgreSQL schema alike — is a case of the
    /// engine's type, and nothing else is.
    @Test(arguments: [false, true])
    func vocabularyIsTheSchemasCheckLists(postgreSQL: Bool) {
        func words(_ column: String) -> [String] { WorkspaceSchema.allowedWords(of: column, postgreSQL: postgreSQL) }
        #expect(words("split") == Split.allCases.map(\.rawValue))
        #expect(words("origin") == ItemOrigin.allCases.map(\.rawValue))
        #expect(words("status") == RoundStatus.allCases.map(\.rawValue))
        #expect(words("reason") == ReviewReason.allCases.map(\.rawValue))
        #expect(words("role") == Role.allCases.map(\.rawValue))
        #expect(words("prediction_verdict") == Verdict.allCases.map(\.rawValue))
        #expect(words("explanation_verdict") == Verdict.allCases.map(\.rawValue))
        for column in ["label", "truth_label", "corrected_label"] {
            #expect(words(column) == ClassLabel.allCases.map { String($0.rawValue) }, "\(column)")
        }
    }
}
