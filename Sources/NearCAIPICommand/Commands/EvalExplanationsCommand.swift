import Explanations
import FileAccess
import Imaging
import NearCAIPI
import NeuralNet

/// `nearcaipi eval-explanations`: the main paper's Table 1 for a model on a data set.
enum EvalExplanationsCommand: Command {
    static let name = "eval-explanations"
    static let summary = "score RISE / InvRISE heatmaps against the data set's defect masks (the paper's Table 1)"
    static let help = """
    Usage: nearcaipi eval-explanations --data DIR --model CHECKPOINT [--methods rise,invrise]
                                       [--limit N] [--masks K] [--seed N] [--csv FILE]

    Classifies every readable image of the class-folder data set (model accuracy), then for
    each NOK image that has a mask computes each method's heatmap for the NOK class and
    scores it as the main paper does: the top 10 % most salient pixels against the mask
    (Dice, Jaccard), hit accuracy (the most salient pixel lies in the mask), plus the
    threshold-free pixel AUROC. Prints one row per method; --csv writes the same as CSV.

    Options:
      --data DIR         the data set folder (read only)
      --model CHECKPOINT the classifier
      --methods LIST     rise, invrise or both (default: rise,invrise)
      --limit N          score at most N masked NOK images, 1-100000 (default: all)
      --masks K          masks per heatmap, 1-100000 (default 1000)
      --seed N           mask seed (default 1)
      --csv FILE         also write the table as CSV
    """
    static let options: Set<String> = ["--data", "--model", "--methods", "--limit", "--masks", "--seed", "--csv"]
    static let flags: Set<String> = []

    struct Row {
        var images = 0
        var dice: Float = 0, jaccard: Float = 0, hits = 0
        var auroc: Float = 0, aurocCount = 0
    }

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.positionals(exactly: [])
        let data = try arguments.requiredString("--data")
        let modelPath = try arguments.requiredString("--model")
        var methods: [SaliencyMethod] = []
        for name in (arguments.string("--methods") ?? "rise,invrise").split(separator: ",") {
            guard let method = SaliencyMethod(rawValue: String(name)) else {
                throw UsageError("option '--methods' takes rise and/or invrise, comma-separated; got '\(name)'")
            }
            methods.append(method)
        }
        let limit = try arguments.integer("--limit", default: 100_000, in: 1...100_000)
        let masks = RISEMasks(count: try arguments.integer("--masks", default: 1000, in: 1...100_000),
                              seed: try arguments.unsigned("--seed", default: 1))

        let classifier: ImageClassifier
        do { classifier = try ImageClassifier(checkpoint: modelPath) } catch { throw RuntimeFailure(error.description) }
        var dataset = try TrainCommand.openDataset(data, arguments)
        let loaded = dataset.load(size: classifier.inputSize, channels: classifier.channels)
        for problem in dataset.problems { printError("nearcaipi eval-explanations: \(problem) (skipped)") }
        guard !loaded.isEmpty else { throw RuntimeFailure("\(data): no readable image") }

        // Model accuracy over every readable image, in batches of 32.
        var correct = 0
        var start = 0
        while start < loaded.count {
            let part = loaded[start..<min(start + 32, loaded.count)]
            let probabilities = classifier.probabilities(part.flatMap(\.image.pixels), batch: part.count)
            for (offset, entry) in part.enumerated() where (probabilities[2 * offset + 1] > probabilities[2 * offset] ? 1 : 0) == entry.item.label {
                correct += 1
            }
            start += 32
        }
        let accuracy = Float(correct) / Float(loaded.count)

        let scored = loaded.filter { $0.item.label == 1 && $0.mask != nil }.prefix(limit)
        var rows: [SaliencyMethod: Row] = [:]
        for method in methods {
            var row = Row()
            let explainer = SaliencyExplainer(method: method, masks: masks, fill: .zero)
            for entry in scored {
                let mask = entry.mask!
                let result = explainer.explain(entry.image, target: 1, classCount: 2, probabilities: classifier.probabilityFunction)
                let top = SaliencyMetrics.topFraction(result.heatmap)
                row.images += 1
                row.dice += SaliencyMetrics.dice(top, mask)
                row.jaccard += SaliencyMetrics.jaccard(top, mask)
                row.hits += SaliencyMetrics.hit(result.heatmap, mask: mask) ? 1 : 0
                if let auroc = SaliencyMetrics.pixelAUROC(result.heatmap, mask: mask) {
                    row.auroc += auroc
                    row.aurocCount += 1
                }
            }
            rows[method] = row
        }

        print(String(format: "model accuracy %.3f (%d of %d images); heatmaps of %d masked NOK images, %d masks each",
                     accuracy, correct, loaded.count, scored.count, masks.count))
        print("method    images   Dice   Jaccard   hit accuracy   pixel AUROC")
        var csv = "method,images,model_accuracy,dice,jaccard,hit_accuracy,pixel_auroc\n"
        for method in methods {
            let row = rows[method]!
            let n = Float(max(row.images, 1))
            let values = (row.dice / n, row.jaccard / n, Float(row.hits) / n, row.aurocCount > 0 ? row.auroc / Float(row.aurocCount) : Float.nan)
            let label = method == .rise ? "RISE" : "InvRISE"
            let padded = label + String(repeating: " ", count: max(0, 8 - label.count))
            print(padded + String(format: " %7d  %5.3f    %5.3f          %5.3f         %5.3f", row.images, values.0, values.1, values.2, values.3))
            csv += String(format: "%@,%d,%.4f,%.4f,%.4f,%.4f,%.4f\n", label, row.images, accuracy, values.0, values.1, values.2, values.3)
        }
        if let path = arguments.string("--csv") {
            do { try BinaryFile.writeAtomically(Array(csv.utf8), to: path) } catch { throw RuntimeFailure(error.description) }
        }
    }
}
