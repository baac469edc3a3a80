import Explanations
import Foundation
import Imaging
import NearCAIPI

/// `nearcaipi predict`: the active round's verdict on images.
enum PredictCommand: Command {
    static let name = "predict"
    static let summary = "classify images with a workspace's active model"
    static let discussion = """
    Prints, per image, the predicted class and its confidence under the workspace's active
    round, and what the plant does with the part: pass (ship without review), review (a
    person decides) or reject (defective, set aside) — cut where, on the validation parts, at
    most max_missed_defects of the defective parts pass and at most max_good_rejected of the
    good parts are rejected (workspace settings, 1 % each unless 'train' set them). A round
    without both classes among its validation parts has no cuts: no decision is printed. An
    image that cannot be read is reported by name and skipped.
    """

    static let images = Positional(placeholder: "IMAGE", missing: "the image(s) to classify", repeats: true)
    static let json = Flag(name: "--json", help: "print one JSON array instead of one line per image")
    static let parameters: [any Parameter] = [Positional.workspace, images, json]

    static func run(_ arguments: Arguments) throws {
        let paths = try arguments.positionals([Positional.workspace, images])
        let classifier: ImageClassifier
        let round: Round
        do {
            let workspace = try Workspace(opening: paths[0])
            let active = try workspace.activeModel()
            classifier = ImageClassifier(model: active.model, info: active.info)
            round = active.round
        } catch {
            throw RuntimeFailure(error)
        }
        /// One line of `predict --json`.
        struct PredictionEntry: Encodable {
            var image: String
            var `class`: String
            var confidence: Float
            var round: Int
            /// P(NOK), and pass / review / reject where the round has an operating point.
            var p_nok: Float
            var decision: String?
        }
        let cuts = round.metrics?.operatingPoint
        var rows: [PredictionEntry] = [], failures = 0
        for path in paths.dropFirst() {
            let image: Image
            do { image = try ImageFile.read(path).image } catch {
                printError("nearcaipi predict: \(error) (skipped)")
                failures += 1
                continue
            }
            let probabilities = classifier.probabilities(classifier.prepare(image).pixels, batch: 1)
            let best = ClassLabel(predictedFrom: probabilities).classIndex
            let name = classifier.classNames[best]
            let pNOK = probabilities[ClassLabel.nok.classIndex]
            let decision = cuts?.decide(pNOK)
            if arguments[json] {
                rows.append(PredictionEntry(image: path, class: name, confidence: probabilities[best], round: round.number,
                                            p_nok: pNOK, decision: decision?.rawValue))
            } else {
                print("\(path): \(name) \(String(format: "%.3f", probabilities[best]))" + (decision.map { " → \($0.words)" } ?? ""))
            }
        }
        if arguments[json] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
        }
        if failures == paths.count - 1 { throw RuntimeFailure("no image could be read") }
    }
}
