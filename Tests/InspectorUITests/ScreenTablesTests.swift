import Foundation
@testable import InspectorUI
@testable import NearCAIPI
import Testing

/// The operator's and supervisor's tables as a person reads them: every value under its
/// heading, whatever the status word, and the change from the round before.
@Suite struct ScreenTablesTests {
    static func metrics(validation: Double, accuracy: Double, f1: Double, mcc: Double) throws -> RoundMetrics {
        let json = """
        {"validation": {"accuracy": 0.5, "f1": 0.5, "mcc": \(validation), "count": 20},
         "test": {"accuracy": \(accuracy), "f1": \(f1), "mcc": \(mcc), "count": 40},
         "epochs": 3, "bestEpoch": 2, "seconds": 12}
        """
        return try JSONDecoder().decode(RoundMetrics.self, from: Data(json.utf8))
    }

    @Test func roundsTableKeepsEveryNumberUnderItsHeading() throws {
        let rounds = [
            Round(number: 1, checkpoint: "models/round-001.safetensors", status: .superseded, trainingSize: 60,
                  metrics: try Self.metrics(validation: 0.2, accuracy: 0.625, f1: 0.6, mcc: 0.234)),
            Round(number: 2, checkpoint: "models/round-002.safetensors", status: .rolledBack, trainingSize: 102,
                  metrics: try Self.metrics(validation: -0.1, accuracy: 0.575, f1: 0.55, mcc: 0.146), replacedNumber: 1),
            Round(number: 12, checkpoint: "models/round-012.safetensors", status: .active, trainingSize: 1092, metrics: nil),
        ]
        let lines = OperatorScreen.roundsTable(rounds)
        let heading = lines[0]
        // Each heading ends where its numbers end (right-aligned columns).
        func end(of word: String, in line: String) -> Int? {
            line.range(of: word).map { line.distance(from: line.startIndex, to: $0.upperBound) }
        }
        for (word, values) in [("test acc", ["0.625", "0.575"]), ("MCC", ["0.234", "0.146"]), ("train size", ["60", "102"]),
                               ("Δ MCC", ["-0.088"])] {
            let column = try #require(word == "MCC" ? heading.range(of: "test MCC").map { heading.distance(from: heading.startIndex, to: $0.upperBound) }
                                                    : end(of: word, in: heading))
            for (line, value) in zip(lines.dropFirst(word == "Δ MCC" ? 2 : 1), values) {
                #expect(end(of: value, in: line) == column, "\(word): '\(value)' not under its heading\n\(heading)\n\(line)")
            }
        }
        #expect(lines[2].contains("rolled back"))  // the status in words, not rolled_back
        #expect(lines[3].contains("–"))            // a round without metrics shows dashes, not nan
        #expect(lines.allSatisfy { !$0.contains("nan") })
    }

    /// Δ MCC is measured against the round a round replaced — the one in use when it was
    /// trained — not the row above: after a rollback to round 1, round 3 replaced round 1.
    @Test func theChangeIsFromTheReplacedRound() throws {
        let rounds = [
            Round(number: 1, checkpoint: "models/round-001.safetensors", status: .active, trainingSize: 60,
                  metrics: try Self.metrics(validation: 0.9, accuracy: 0.975, f1: 0.97, mcc: 0.951)),
            Round(number: 2, checkpoint: "models/round-002.safetensors", status: .rolledBack, trainingSize: 80,
                  metrics: try Self.metrics(validation: 1, accuracy: 0.925, f1: 0.92, mcc: 0.849), replacedNumber: 1),
            Round(number: 3, checkpoint: "models/round-003.safetensors", status: .candidate, trainingSize: 90,
                  metrics: try Self.metrics(validation: 0.8, accuracy: 0.925, f1: 0.92, mcc: 0.849), replacedNumber: 1),
        ]
        let lines = OperatorScreen.roundsTable(rounds)
        #expect(lines[2].contains("0.849   -0.102") && lines[3].contains("0.849   -0.102"), "\(lines.joined(separator: "\n"))")
        // At 60 columns the MCC figures are still there.
        #expect(lines.allSatisfy { $0.count > 46 } && lines[2].prefix(46).contains("-0.102"))
        #expect(!lines[1].contains("+") && !lines[1].contains("-0."))
    }

    /// The operator reads the selected round's pass / review / reject figures in one line.
    @Test func theDecisionsLineSaysWhatTheCutsDo() throws {
        var metrics = try Self.metrics(validation: 0.9, accuracy: 0.9, f1: 0.9, mcc: 0.8)
        metrics.operatingPoint = OperatingPoint(validation: ([0.05, 0.1, 0.3, 0.8, 0.2, 0.4, 0.6, 0.9, 0.95], [0, 0, 0, 0, 1, 1, 1, 1, 1]),
                                                test: ([0.1, 0.5, 0.85, 0.1, 0.3], [0, 0, 0, 1, 1]), maxMissed: 0.01, maxRejected: 0.01)
        let line = OperatorScreen.decisionsLine(Round(number: 4, checkpoint: "", status: .active, trainingSize: 9, metrics: metrics))
        #expect(line == "round 4 decisions: passes 50 % [15, 85] of good parts at ≤ 1 % missed · test: 1/2 defects missed, "
                + "1/3 good passed, 1 good rejected, 2 to review", "\(line)")
        let older = OperatorScreen.decisionsLine(Round(number: 2, checkpoint: "", status: .superseded, trainingSize: 9,
                                                       metrics: try Self.metrics(validation: 0.9, accuracy: 0.9, f1: 0.9, mcc: 0.8)))
        #expect(older.contains("no pass / reject thresholds"))
    }

    /// The operator's series: per round what became of it, the pass rate with its interval,
    /// the defects missed and test MCC, in plain characters; the latest rounds when narrow.
    @Test func theSeriesShowTheRoundsFiguresAndWhatBecameOfThem() throws {
        var decided = try Self.metrics(validation: 0.9, accuracy: 0.9, f1: 0.9, mcc: 0.8)
        decided.operatingPoint = OperatingPoint(validation: ([0.05, 0.1, 0.3, 0.8, 0.2, 0.4, 0.6, 0.9, 0.95], [0, 0, 0, 0, 1, 1, 1, 1, 1]),
                                                test: ([0.1, 0.5, 0.85, 0.1, 0.3], [0, 0, 0, 1, 1]), maxMissed: 0.01, maxRejected: 0.01)
        let rounds = [
            Round(number: 1, checkpoint: "", status: .superseded, trainingSize: 9, metrics: try Self.metrics(validation: 0.2, accuracy: 0.6, f1: 0.6, mcc: 0.25)),
            Round(number: 2, checkpoint: "", status: .candidate, trainingSize: 9, metrics: decided),
            Round(number: 3, checkpoint: "", status: .active, trainingSize: 9, metrics: decided),
        ]
        let lines = OperatorScreen.seriesLines(rounds, columns: 200)
        #expect(lines.count == 3)
        #expect(lines[0] == "passes (val)    1 –    · 2c 50% [15,85] · 3* 50% [15,85]", "\(lines[0])")
        #expect(lines[1].hasPrefix("missed (test)   1 –") && lines[1].contains("2c 1/2") && lines[1].contains("3* 1/2"))
        #expect(lines[2].contains("1 0.25") && lines[2].contains("3* 0.80"))
        // No block elements (xterm's font draws them as solid squares): letters, digits, – · …
        #expect(lines.allSatisfy { $0.unicodeScalars.allSatisfy { $0.isASCII || "–·…".unicodeScalars.contains($0) } })
        // Narrow: the latest rounds, and a mark that earlier ones are left out.
        let narrow = OperatorScreen.seriesLines(rounds, columns: 40)
        #expect(narrow[0].hasPrefix("passes (val)  … 3*") && !narrow[0].contains("2c"), "\(narrow[0])")
    }

    /// The inspector reads what the plant would do with the part under the model in use.
    @Test func thePredictionLineSaysPassReviewOrReject() throws {
        let cuts = try #require(OperatingPoint(validation: ([0.05, 0.1, 0.95, 0.2, 0.96, 0.99], [0, 0, 0, 1, 1, 1]), test: ([], []),
                                               maxMissed: 0, maxRejected: 0))
        let review = ScreenStateTests.view(predicted: .nok)            // P(NOK) 0.8: between 0.2 and 0.95
        #expect(InspectorScreen.predictionLine(review, cuts: cuts) == "  ·  predicted: NOK 0.80 → review")
        var sure = review
        sure.probabilities = [0.01, 0.99]
        #expect(InspectorScreen.predictionLine(sure, cuts: cuts).hasSuffix("→ reject"))
        sure.probabilities = [0.9, 0.1]
        #expect(InspectorScreen.predictionLine(sure, cuts: cuts).hasSuffix("OK 0.90 → pass (no review)"))
        #expect(InspectorScreen.predictionLine(review, cuts: nil) == "  ·  predicted: NOK 0.80")
    }

    /// The log named items by their folder path ("test/crack/015.png"), which the screens
    /// hide because it gives the class away; MVTec repeats "015.png" in every folder.
    @Test func listsNameItemsByFileAndTellRepeatedNamesApart() {
        func answer(_ id: Int64, _ path: String) -> FeedbackRecord {
            FeedbackRecord(id: id, itemPath: path, user: "sam", role: .inspector, time: "2026-12-02T13:30:00Z", predictedLabel: .ok,
                           prediction: .right, explanation: nil, correctedLabel: nil, hasCorrectedMask: false, roundNumber: nil, reverted: false)
        }
        let lines = AnswersTable.lines([answer(1, "test/crack/015.png"), answer(2, "test/hole/015.png"), answer(3, "train/good/003.png")])
        #expect(!lines.joined().contains("test/") && !lines.joined().contains("good"))
        let names = lines.dropFirst().map { line in line.split(separator: " ").first { $0.hasSuffix(".png") }.map(String.init) ?? "" }
        #expect(names[2] == "003.png" && names[0] == "015.png" && names[1] == "015.png")
        let tagged = ScreenState.shownNames(["test/crack/015.png", "test/hole/015.png"])
        #expect(tagged["test/crack/015.png"] != tagged["test/hole/015.png"])
        #expect(tagged.values.allSatisfy { $0.hasPrefix("015.png ·") && !$0.contains("crack") && !$0.contains("hole") })
    }

    @Test func answersTableHasHeadingsAndLocalTimes() {
        let answers = [FeedbackRecord(id: 7, itemPath: "nok/weld_0012.png", user: "sam", role: .supervisor, time: "2026-12-02T13:30:00Z",
                                      predictedLabel: .ok, prediction: .wrong, explanation: nil, correctedLabel: nil,
                                      hasCorrectedMask: false, roundNumber: nil, reverted: true)]
        let lines = AnswersTable.lines(answers)
        for heading in ["#", "time", "who", "role", "item", "prediction", "explanation", "label", "mask"] {
            #expect(lines[0].contains(heading))
        }
        let local = DateFormatter()
        local.dateFormat = "yyyy-MM-dd HH:mm"
        #expect(lines[1].contains(local.string(from: ISO8601DateFormatter().date(from: "2026-12-02T13:30:00Z")!)))
        #expect(lines[1].contains("supervisor") && lines[1].hasSuffix("reverted"))
        // The label the answer gave: a wrong OK prediction made the part NOK.
        #expect(lines[1].contains(" NOK "), "\(lines[1])")
    }

    /// A narrow terminal never shows a key cut in half ("Tab scre"): whole items, then where to
    /// find the rest.
    @Test func theKeyLineKeepsWholeKeys() {
        let line = " y/n prediction right/wrong · g/b explanation right/wrong · Enter submit · s skip · Tab screens · ? help · q quit"
        #expect(ScreenFrame.fitted(line, columns: 200) == line)
        for columns in [40, 60, 80] {
            let fitted = ScreenFrame.fitted(line, columns: columns)
            #expect(fitted.count <= columns && fitted.hasSuffix(" · ? all keys"), "\(fitted)")
            let items = fitted.dropLast(" · ? all keys".count).components(separatedBy: " · ")
            #expect(items.allSatisfy { line.components(separatedBy: " · ").contains($0) }, "\(fitted)")
        }
    }

    /// At 80 columns the inspector's key line kept only y/n and g/b; the short line names
    /// Enter, s and z too, and fits.
    @Test func aNarrowTerminalGetsTheShortKeyLine() throws {
        let state = ScreenStateTests.showing()
        let short = try #require(ScreenFrame.shortHints(for: state))
        #expect(short.count <= 80)
        for context: KeyContext in [.inspector, .supervisor, .operator, .maskEditor] {
            #expect(KeyTable.shortLine(in: context).count <= 80, "\(KeyTable.shortLine(in: context))")
        }
        for key in ["y/n", "g/b", "Enter submit", "s skip", "z/Z zoom", "?"] { #expect(short.contains(key), "\(key)") }
        // q was named on no short line: a new inspector at 80×24 did not see how to leave.
        #expect(short.hasSuffix(" · ? · q"), "\(short)")
    }

    /// `m` acts only where the round has its own defect map: the key line names it there and
    /// nowhere else (the caption ended in "(m)" and the key line never said what m was).
    @Test func theKeyLineNamesTheOwnMapOnlyWhereThereIsOne() throws {
        let state = ScreenStateTests.showing()
        #expect(!ScreenFrame.hints(for: state).contains("m own map"))
        #expect(!(try #require(ScreenFrame.shortHints(for: state))).contains(" · m · "))
        #expect(ScreenFrame.hints(for: state, ownMap: true).contains(" · m own map · "))
        let short = try #require(ScreenFrame.shortHints(for: state, ownMap: true))
        #expect(short.contains(" · m · ") && short.count <= 80, "\(short)")
    }

    /// The help at 80×24 was cut mid-word: now each screen's own keys come first, every line
    /// fits the width, and what does not fit in height is said to be there.
    @Test func theHelpFitsANarrowTerminal() throws {
        for screen in Role.allCases {
            let lines = HelpScreen.lines(for: screen == .inspector ? .inspector : screen == .supervisor ? .supervisor : .operator, columns: 80, rows: 18)
            #expect(lines.count == 18 && lines.allSatisfy { $0.count <= 77 }, "\(lines)")
            #expect(lines.last?.hasPrefix("… ") == true && lines.last?.hasSuffix("↓ scrolls, a taller terminal shows them") == true)
            let heading = screen == .inspector ? "Inspector:" : screen == .supervisor ? "Supervisor:" : "Operator:"
            // The screen's own keys right after the few that hold everywhere.
            let own = try #require(lines.firstIndex { $0.hasPrefix(heading) })
            #expect(own <= KeyTable.everywhere.count + 2 && lines[..<own].allSatisfy { !$0.hasPrefix("Inspector:") && !$0.hasPrefix("Supervisor:") })
        }
        // ↓ scrolls: the lines after the first window, and the last line says what is above.
        let scrolled = HelpScreen.lines(for: .operator, columns: 80, rows: 18, scroll: 10)
        let whole = HelpScreen.lines(for: .operator, columns: 80, rows: 1000)
        #expect(scrolled[0] == whole[10] && scrolled.last?.contains("10 above (↑)") == true, "\(scrolled)")
        #expect(whole.contains { $0.contains("export the labelled images") })
        let tall = HelpScreen.lines(for: .inspector, columns: 160, rows: 80)
        #expect(!tall.contains { $0.hasPrefix("… ") } && tall.contains { $0.contains("Grey \"flat\"") })
    }

    /// Every key a screen acts on is named in its help with what it does, and every key its
    /// key line names acts: dispatch, help and key line come from one table (Ctrl-R and
    /// Shift-Tab acted once and were listed nowhere).
    @Test func everyKeyThatActsIsInTheHelpAndTheKeyLineOnlyNamesKeysThatAct() {
        let contexts: [KeyContext] = [.inspector, .supervisor, .refutations, .log, .operator, .maskEditor]
        for context in contexts {
            let help = HelpScreen.lines(for: context, columns: 400, rows: 1000).joined(separator: "\n")
            for binding in KeyTable.bindings(in: context) {
                #expect(help.contains(binding.keys) && help.contains(binding.help), "\(context): \(binding.keys)")
                for (input, action) in binding.inputs { #expect(KeyTable.action(for: input, in: context) == action, "\(context): \(input)") }
            }
            let line = KeyTable.keyLine(in: context)
            #expect(line.count <= 160, "\(context): the long key line does not fit 160 columns: \(line)")
            for binding in KeyTable.lineBindings(in: context) {
                #expect(line.contains(binding.keys + " ") || line.contains(binding.keys + " ·"), "\(context): \(binding.keys)")
                #expect(!binding.inputs.isEmpty, "\(context): the key line names \(binding.keys), which acts on nothing")
            }
        }
        let help = HelpScreen.lines(for: .maskEditor, columns: 200, rows: 1000).joined(separator: "\n")
        #expect(help.contains("Ctrl-R") && help.contains("Shift-Tab") && help.contains("Ctrl-C"))
    }

    /// No input is bound twice in one table: the first row would silently shadow the second.
    @Test func noKeyIsBoundTwiceOnOneScreen() {
        for context: KeyContext in [.inspector, .supervisor, .operator, .maskEditor, .question(revert: true)] {
            let inputs = KeyTable.bindings(in: context).flatMap { $0.inputs.map(\.input) }
            for (index, input) in inputs.enumerated() {
                #expect(!inputs[..<index].contains(input), "\(context): \(input) bound twice")
            }
        }
    }

    /// Every key of a screen either does something or says why not ("o / t on a flat map say
    /// nothing"); a key of no screen says so and points at ?.
    @Test func everyKeySaysWhatItDid() throws {
        let facts = ScreenStateTests.Facts(roundList: [ScreenStateTests.round(1, .active)], users: ["ann"])
        for (context, role, screen) in [(KeyContext.inspector, Role.inspector, Role.inspector), (.supervisor, .supervisor, .supervisor),
                                        (.operator, .operator, .operator)] {
            for binding in KeyTable.bindings(in: context) {
                for (input, _) in binding.inputs where input != .character("?") && input != .character("q") {
                    var state = ScreenStateTests.showing(role: role)
                    state.current = screen
                    state.message = ""
                    let effects = try state.handle(input, facts: facts)
                    #expect(!effects.isEmpty || !state.message.isEmpty || state.current != screen || state.roundChosen,
                            "\(context): \(input) did nothing and said nothing")
                }
            }
        }
        var state = ScreenStateTests.showing()
        _ = try state.handle(.character("X"), facts: facts)
        #expect(state.message.contains("X is not a key") && state.message.contains("?"))
        _ = try state.handle(.character("b"), facts: facts)
        _ = try state.handle(.character("X"), facts: facts)
        #expect(state.message.contains("mask editor"))
    }

    /// "Revert 18 answers" counted a skip, and an answer kept for validation was listed as
    /// trained into a round: a round's selection holds what it trained on only, and the log
    /// says "validation" for a held-out answer.
    @Test func aRoundsAnswersAreWhatItTrainedOn() {
        func record(_ id: Int64, prediction: Verdict, held: Bool = false) -> FeedbackRecord {
            FeedbackRecord(id: id, itemPath: "ok/\(id).png", user: "sam", role: .inspector, time: "2026-12-02T13:30:00Z", predictedLabel: .ok,
                           prediction: prediction, explanation: nil, correctedLabel: nil, hasCorrectedMask: false, roundNumber: 3,
                           reverted: false, trainedInto: [3], heldForValidation: held)
        }
        let answers = [record(1, prediction: .right), record(2, prediction: .skip), record(3, prediction: .wrong, held: true)]
        #expect(answers.filter { AnswerSelection(round: 3).matches($0) }.map(\.id) == [1])
        #expect(answers.filter { AnswerSelection(user: "sam").matches($0) }.count == 3, "a person's own skips can still be reverted")
        let lines = AnswersTable.lines(answers)
        #expect(lines[1].hasSuffix("round 3") && lines[2].hasSuffix("–") && lines[3].hasSuffix("validation"), "\(lines)")
        // At 80 columns the label, mask and state columns were cut off: the narrow table keeps them.
        let narrow = AnswersTable.lines(answers, narrow: true)
        #expect(narrow.allSatisfy { $0.count <= 78 } && narrow[0].contains("lab.") && narrow[0].hasSuffix("state"), "\(narrow)")
        #expect(narrow[3].hasSuffix("validation"))
    }

    /// The operator's chart in pixel terminals: each round's validation pass rate is drawn
    /// at its height on the 0–100 % scale, in the series' colour, and the mark says what
    /// became of the round — framed in use, hollow candidate, dim rolled back.
    @Test func theChartDrawsEachRoundsFigureWhereItIsAndMarksItsFate() throws {
        var metrics = try Self.metrics(validation: 0.9, accuracy: 0.9, f1: 0.9, mcc: 0.8)
        // 4 good validation parts, 2 scored below the pass cut: 50 % passed.
        metrics.operatingPoint = OperatingPoint(validation: ([0.05, 0.1, 0.7, 0.8, 0.6, 0.9, 0.95], [0, 0, 0, 0, 1, 1, 1]),
                                                test: ([0.1, 0.5, 0.85, 0.1, 0.3], [0, 0, 0, 1, 1]), maxMissed: 0.01, maxRejected: 0.01)
        let rounds = [Round(number: 1, checkpoint: "", status: .rolledBack, trainingSize: 9, metrics: metrics),
                      Round(number: 2, checkpoint: "", status: .candidate, trainingSize: 9, metrics: metrics),
                      Round(number: 3, checkpoint: "", status: .active, trainingSize: 9, metrics: metrics)]
        let rate = try #require(metrics.operatingPoint?.validation.passedGood.rate)
        #expect(abs(rate - 0.5) < 1e-9)
        let (width, height) = (400, 120)
        let chart = RoundsChart.image(rounds, width: width, height: height)
        let green = RoundsChart.series[0].colour
        func pixel(_ x: Int, _ y: Int) -> [Float] { (0..<3).map { chart[$0, y, x] } }
        let y = RoundsChart.y(rate, height: height)
        let active = RoundsChart.x(round: 2, of: 3, series: 0, width: width)
        #expect(pixel(active, y) == green && pixel(active - 4, y - 4) == [1, 1, 1])
        let candidate = RoundsChart.x(round: 1, of: 3, series: 0, width: width)
        #expect(pixel(candidate, y) == RoundsChart.background && pixel(candidate - 4, y) == green)
        let rolledBack = RoundsChart.x(round: 0, of: 3, series: 0, width: width)
        #expect(pixel(rolledBack, y) == green.map { $0 * 0.45 })
        // The 100 % and 0 % grid lines frame the plot.
        #expect(RoundsChart.y(1, height: height) < y && y < RoundsChart.y(0, height: height))
    }

    /// Inside tmux or screen, sixel would draw blank panels: the reason is named.
    @Test func sixelInsideAMultiplexerIsRefusedWithTheReason() {
        #expect(GraphicsMode.sixelBlocker(environment: ["TMUX": "/tmp/tmux-0/default,1,0", "TERM": "screen"])?.contains("tmux") == true)
        #expect(GraphicsMode.sixelBlocker(environment: ["TERM": "screen-256color", "STY": "1.pts"])?.contains("screen") == true)
        #expect(GraphicsMode.sixelBlocker(environment: ["TERM": "xterm-256color"]) == nil)
    }
}
