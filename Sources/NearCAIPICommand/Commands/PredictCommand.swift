import Explanations
import Foundation
import Imaging
import NearCAIPI

/// `nearcaipi predict`: the active round's verdict on images.
enum PredictCommand: Command {
    static let name = "predict"
    static let summary = "classify images with a workspace's active model"
    static let help = """
    Usage: nearcaipi predict WORKSPACE IMAGE... [--json]

    Prints, per image, the predicted class and its confidence under the workspace's active
    round. An image that cannot be read is reported by name and skipped.
    """
    static let options: Set<String> = []
    static let flags: Set<String> = ["--json"]

    static func run(_ arguments: Arguments) throws {
        guard arguments.positionals.count >= 2 else {
            throw UsageError(arguments.positionals.isEmpty ? "missing the workspace folder WORKSPACE" : "missing the image(s) to classify")
        }
        let classifier: ImageClassifier
        let round: Round
        do {
            let workspace = try Workspace(opening: arguments.positionals[0])
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
        }
        var rows: [PredictionEntry] = [], failures = 0
        for path in arguments.positionals.dropFirst() {
            let image: Image
            do { image = try ImageFile.read(path).image } catch {
                printError("nearcaipi predict: \(error) (skipped)")
                failures += 1
                continue
            }
            let probabilities = classifier.probabilities(classifier.prepare(image).pixels, batch: 1)
            let best = ClassLabel(predictedFrom: probabilities).classIndex
            let name = classifier.classNames[best]
            if arguments.flag("--json") {
                rows.append(PredictionEntry(image: path, class: name, confidence: probabilities[best], round: round.number))
            } else {
                print("\(path): \(name) \(String(format: "%.3f", probabilities[best]))")
            }
        }
        if arguments.flag("--json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
        }
        if failures == arguments.positionals.count - 1 { throw RuntimeFailure("no image could be read") }
    }
}
