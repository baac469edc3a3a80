import Explanations
import FileAccess
import Foundation
import Imaging
import NearCAIPI
import NeuralNet

/// `nearcaipi eval-explanations`: the main paper's Table 1 for a model on a data set, per
/// method and fill.
enum EvalExplanationsCommand: Command {
    static let name = "eval-explanations"
    static let summary = "score RISE / InvRISE heatmaps against the data set's defect masks (the paper's Table 1)"
    static let discussion = """
    Classifies every readable image of the data set (model accuracy) — with a workspace as
    --model only its test split, the parts no round trained on, unless --split all — then
    for each NOK image that has a mask computes each method's heatmap with each fill, for
    the NOK class, and scores it as the main paper does: the top 10 % most salient pixels
    against the mask (Dice, Jaccard), hit accuracy (the most salient pixel lies in the mask),
    plus the threshold-free pixel AUROC and the median contrast of the maps (structure over
    the noise of the masks). "ceiling" is what a perfect map would score on Dice and Jaccard: with the
    top 10 % binarisation, a defect smaller than a tenth of the image caps both.
    A model with a defect head (a round trained with the mask loss, 'train --mask-loss on')
    adds a row for the network's own defect map, scored the same way.
    Each map costs one forward pass per mask (about 4 s for 1000 masks of the default model on
    2 cores), so a run computes methods × fills × NOK images maps: --limit and --masks bound it.
    """

    static let data = Option<String>(name: "--data", placeholder: "DIR",
                                     help: "the data set folder (read only), in any layout 'init' reads", format: .text)
    static let model = Option<String>(name: "--model", placeholder: "PATH",
                                      help: "a checkpoint, or a workspace folder (its active round)", format: .text)
    static let methods = Option<[SaliencyMethod]>(
        name: "--methods", placeholder: "LIST", help: "rise, invrise or both, comma-separated",
        format: ValueFormat(describe: { $0.map(\.rawValue).joined(separator: ",") }) { (text) throws(Refusal) in
            var methods: [SaliencyMethod] = []
            for name in text.split(separator: ",") {
                guard let method = SaliencyMethod(rawValue: String(name)) else {
                    throw Refusal("takes rise and/or invrise, comma-separated; got '\(name)'")
                }
                methods.append(method)
            }
            return methods
        },
        default: [.rise, .invrise])
    static let fills = Option<[MaskFill]>(
        name: "--fill", placeholder: "LIST", help: "fills to compare (comma-separated, or all)",
        format: ValueFormat(allowed: .choices(MaskFill.allCases.map(\.rawValue)),
                            describe: { $0.map(\.rawValue).joined(separator: ",") }) { (text) throws(Refusal) in
            var fills: [MaskFill] = []
            for name in text.split(separator: ",") {
                if name == "all" { fills += MaskFill.allCases; continue }
                guard let fill = MaskFill(rawValue: String(name)) else {
                    throw Refusal("takes \(MaskFill.allCases.map(\.rawValue).joined(separator: ", ")) or all, comma-separated; got '\(name)'")
                }
                fills.append(fill)
            }
            return fills
        },
        default: [MaskFill.standard])
    static let normal = Option<String?>(
        name: "--normal", placeholder: "DIR", help: "OK images for the normal and median fills", format: .text,
        defaultDescription: "the workspace's OK training parts, or the data set's own OK images")
    static let limit = Option<Int?>(name: "--limit", placeholder: "N", help: "score at most N of the NOK images that have a mask",
                                    format: .wholeNumber(in: 1...100_000), defaultDescription: "all")
    static let masks = Option<Int>(name: "--masks", placeholder: "K", help: "masks per heatmap", format: .wholeNumber(in: 1...100_000),
                                   default: 1000)
    static let grid = Option<Int>(name: "--grid", placeholder: "L", help: "mask grid cells per side", format: .wholeNumber(in: 2...64),
                                  default: RISEMasks.standardGrid)
    static let seed = Option<UInt64>(name: "--seed", placeholder: "N", help: "mask seed", format: .nonNegativeWholeNumber, default: 1)
    static let csv = Option<String?>(name: "--csv", placeholder: "FILE", help: "also write the table as CSV", format: .text)
    static let json = Flag(name: "--json", help: "print the table as JSON instead of text")
    enum Images: String, CaseIterable, Sendable {
        /// The workspace's test split: parts no round trained on.
        case test
        /// Every readable image of the data set.
        case all
    }
    static let split = Option<Images?>(
        name: "--split", placeholder: "test|all", help: "which images: a workspace's test split (parts no round trained on), or all",
        format: .choice, defaultDescription: "test with a workspace as --model, all with a checkpoint",
        note: "a model scored on the parts it trained on flatters itself")
    static let round = Option<Int?>(name: "--round", placeholder: "N", help: "with a workspace as --model: that round's network",
                                    format: .wholeNumber(in: 1...1_000_000), defaultDescription: "the round in use",
                                    note: "its maps over the rounds show what the answers changed")
    static let parameters: [any Parameter] = [data, model, round, SharedParameters.layout, SharedParameters.okFolders,
                                              SharedParameters.nokFolders, split, methods, fills, normal, limit, masks, grid, seed, csv,
                                              json]

    struct Row: Codable {
        var method: String
        var fill: String
        var images = 0
        var dice: Float = 0, jaccard: Float = 0, hitAccuracy: Float = 0
        var pixelAUROC: Float? = nil
        var medianContrast: Float = 0
        var seconds: Double = 0
    }

    /// One map's scores against its part's mask, gathered over the parts into a row: the
    /// paper's top-10 % Dice and Jaccard, hit accuracy, and the pixel AUROC, each a mean.
    struct MapScores {
        var images = 0
        var dice: Float = 0, jaccard: Float = 0, hits: Float = 0
        var aurocs: [Float] = []

        mutating func add(_ heatmap: Image, mask: BinaryMask) {
            let top = SaliencyMetrics.topFraction(heatmap)
            images += 1
            dice += SaliencyMetrics.dice(top, mask)
            jaccard += SaliencyMetrics.jaccard(top, mask)
            hits += SaliencyMetrics.hit(heatmap, mask: mask) ? 1 : 0
            if let auroc = SaliencyMetrics.pixelAUROC(heatmap, mask: mask) { aurocs.append(auroc) }
        }

        func row(method: String, fill: String, seconds: Double) -> Row {
            let n = Float(max(images, 1))
            return Row(method: method, fill: fill, images: images, dice: dice / n, jaccard: jaccard / n, hitAccuracy: hits / n,
                       pixelAUROC: aurocs.isEmpty ? nil : aurocs.reduce(0, +) / Float(aurocs.count), seconds: seconds)
        }
    }

    struct Report: Codable {
        var modelAccuracy: Float
        var imagesClassified: Int
        var maskedNOKImages: Int
        var masks: Int
        var grid: Int
        var ceilingDice: Float
        var ceilingJaccard: Float
        var rows: [Row]
    }

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.positionals([])
        let data = try arguments[Self.data]
        let modelPath = try arguments[model]
        let methods = try arguments[Self.methods]
        let fills = try arguments[Self.fills]
        // Not given: every NOK image that has a mask.
        let limit = try arguments[Self.limit] ?? .max
        let masks = RISEMasks(count: try arguments[Self.masks], grid: try arguments[grid], seed: try arguments[seed])
        let layout = try arguments[SharedParameters.layout]

        let chosen = try arguments[split]
        if chosen == .test, !WorkspaceAddress.namesWorkspace(modelPath) {
            throw UsageError("'--split test' needs a workspace as '--model': a checkpoint has no splits")
        }
        let (classifier, workspace) = try ModelSource.open(modelPath, round: try arguments[round])
        var dataset = try TrainCommand.openDataset(data, arguments, layout: layout)
        var loaded = dataset.load(size: classifier.inputSize, channels: classifier.channels)
        for problem in dataset.problems { printError("nearcaipi eval-explanations: \(problem) (skipped)") }
        guard !loaded.isEmpty else { throw RuntimeFailure("\(data): no readable image") }
        var which = "images"
        if let workspace, (chosen ?? .test) == .test {
            // The test split's originals, by their path below the data root (the data set the
            // workspace was made over).
            let test: Set<String>
            do { test = Set(try workspace.items(in: .test).filter { $0.origin == .original }.map(\.path)) } catch { throw RuntimeFailure(error) }
            let all = loaded.count
            loaded = loaded.filter { test.contains($0.item.path) }
            guard !loaded.isEmpty else {
                throw RuntimeFailure("\(data): none of the \(test.count) images of the workspace's test split is in this data set — "
                                     + "give the data set the workspace was made over, or --split all")
            }
            which = "test-split images of \(all)"
        }

        // Model accuracy over every readable image, in batches of 32.
        var correct = 0
        var start = 0
        while start < loaded.count {
            let part = loaded[start..<min(start + 32, loaded.count)]
            let probabilities = classifier.probabilities(part.flatMap(\.image.pixels), batch: part.count)
            for (offset, entry) in part.enumerated() where ClassLabel(predictedFrom: Array(probabilities[(2 * offset)..<(2 * offset + 2)])) == entry.item.label {
                correct += 1
            }
            start += 32
        }
        let accuracy = Float(correct) / Float(loaded.count)

        let scored = Array(loaded.filter { $0.item.label == .nok && $0.mask != nil }.prefix(limit))
        let normalParts = try ModelSource.normalParts(
            for: fills, classifier: classifier, workspace: workspace,
            folder: try arguments[normal], fallback: loaded.filter { $0.item.label == .ok }.map(\.image), command: name)
        var ceilingDice: Float = 0, ceilingJaccard: Float = 0
        for entry in scored {
            let perfect = Image(width: entry.mask!.width, height: entry.mask!.height, channels: 1, pixels: entry.mask!.bits.map { $0 ? 1 : 0 })
            let top = SaliencyMetrics.topFraction(perfect)
            ceilingDice += SaliencyMetrics.dice(top, entry.mask!) / Float(max(scored.count, 1))
            ceilingJaccard += SaliencyMetrics.jaccard(top, entry.mask!) / Float(max(scored.count, 1))
        }

        var rows: [Row] = []
        // Progress on standard error, a line per map with the time left at the pace so far:
        // a few hundred maps take minutes.
        let mapsToMake = methods.count * fills.count * scored.count
        var mapsMade = 0
        let startedMaps = monotonicSeconds()
        for method in methods {
            for fill in fills {
                let explainer = SaliencyExplainer(method: method, masks: masks, fill: fill, normalParts: normalParts)
                var scores = MapScores(), contrasts: [Float] = []
                let began = monotonicSeconds()
                for entry in scored {
                    let result = explainer.explain(entry.image, target: 1, classCount: 2,
                                                   probabilities: classifier.probabilityFunction())
                    scores.add(result.heatmap, mask: entry.mask!)
                    contrasts.append(result.noise.contrast)
                    mapsMade += 1
                    let left = (monotonicSeconds() - startedMaps) / Double(mapsMade) * Double(mapsToMake - mapsMade)
                    printError("[\(progressBar(mapsMade, of: mapsToMake))] map \(mapsMade) of \(mapsToMake) (\(method.rawValue), fill \(fill.rawValue))"
                               + (mapsMade < mapsToMake ? " · about \(readableDuration(left)) left" : ""))
                }
                var row = scores.row(method: method.rawValue, fill: fill.rawValue, seconds: monotonicSeconds() - began)
                contrasts.sort()
                row.medianContrast = contrasts.isEmpty ? 0 : contrasts[contrasts.count / 2]
                rows.append(row)
            }
        }
        if classifier.model.defectHead != nil {
            // The network's own map of where the defect is, scored like the explanations.
            var scores = MapScores()
            let began = monotonicSeconds()
            for start in stride(from: 0, to: scored.count, by: 32) {
                let part = scored[start..<min(start + 32, scored.count)]
                guard let maps = Workspace.defectMaps(of: part.map(\.image), model: classifier.model, info: classifier.info) else { break }
                for (entry, map) in zip(part, maps) {
                    let mask = entry.mask!
                    scores.add(map.width == mask.width && map.height == mask.height ? map : map.resized(width: mask.width, height: mask.height),
                               mask: mask)
                }
            }
            rows.append(scores.row(method: "defect-map", fill: "-", seconds: monotonicSeconds() - began))
        }
        let report = Report(modelAccuracy: accuracy, imagesClassified: loaded.count, maskedNOKImages: scored.count,
                            masks: masks.count, grid: masks.grid, ceilingDice: ceilingDice, ceilingJaccard: ceilingJaccard, rows: rows)

        var csv = "method,fill,images,model_accuracy,dice,jaccard,hit_accuracy,pixel_auroc,median_contrast\n"
        for row in rows {
            csv += String(format: "%@,%@,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.2f\n", row.method, row.fill, row.images, accuracy, row.dice,
                          row.jaccard, row.hitAccuracy, row.pixelAUROC ?? .nan, row.medianContrast)
        }
        if arguments[json] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(String(format: "model accuracy %.3f (%d of %d %@); heatmaps of %d masked NOK images, %d masks, grid %d",
                         accuracy, correct, loaded.count, which, scored.count, masks.count, masks.grid))
            print(String(format: "ceiling (a perfect map, top 10 %%): Dice %.3f, Jaccard %.3f", ceilingDice, ceilingJaccard))
            print("method     fill     images   Dice   Jaccard   hit accuracy   pixel AUROC   median contrast")
            for row in rows {
                func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
                let label = row.method == "rise" ? "RISE" : row.method == "invrise" ? "InvRISE" : "defect map"
                print(pad(label, 11) + pad(row.fill, 8) + String(format: " %6d  %5.3f    %5.3f          %5.3f         %5.3f          ",
                                                                 row.images, row.dice, row.jaccard, row.hitAccuracy, row.pixelAUROC ?? .nan)
                      + (row.method == "defect-map" ? "     –" : String(format: "%6.1f", row.medianContrast)))
            }
        }
        if let path = try arguments[Self.csv] {
            do { try BinaryFile.writeAtomically(Array(csv.utf8), to: path) } catch { throw RuntimeFailure(error.description) }
        }
    }
}
