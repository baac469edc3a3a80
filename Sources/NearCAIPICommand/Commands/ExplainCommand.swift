import Explanations
import FileAccess
import Imaging
import NearCAIPI
#if canImport(Glibc)
import Glibc
#endif

/// `nearcaipi explain`: heatmaps for images, as files.
enum ExplainCommand: Command {
    static let name = "explain"
    static let summary = "explain the model's decision on images with an InvRISE (or RISE) heatmap"
    static let help = """
    Usage: nearcaipi explain WORKSPACE_OR_CHECKPOINT IMAGE... --out DIR [--method invrise|rise] [--masks K]
                             [--grid L] [--p P] [--fill NAME] [--normal DIR] [--class NAME] [--seed N]
                             [--batch N]

    The model is a checkpoint file, or a workspace folder's active round. For each image: the
    predicted class and its confidence, and the heatmap of the NOK class (which region, made
    normal, lowers P(NOK) most) with its range, noise and contrast, written as
      DIR/<name>_overlay.png   the image, the heatmap laid over it, and a colour bar
      DIR/<name>_heatmap.png   the raw heatmap: 16-bit grey from the map's minimum (0) to its
                               maximum (65535), both stored in the file's text chunks
                               heatmap-min and heatmap-max (with heatmap-noise and -contrast)
    A map whose contrast (its hot region over the hot spots that the noise of its masks makes)
    is below \(Int(HeatmapNoise.flatBelow)), or where hiding no region lowers the explained class's probability, is
    drawn flat, in neutral grey: the decision does not hinge on one region. Any other map is
    drawn from its own minimum (blue) to its maximum (red), and the line printed for it says
    how much hiding the red and the blue region lowered that probability. An image that
    cannot be read is reported by name and skipped; the others go on.

    Options:
      --out DIR        where to write (created if missing)
      --method NAME    invrise (default; the main paper's) or rise
      --masks K        number of random masks, 1-100000 (default 1000)
      --grid L         mask grid cells per side, 2-64 (default \(RISEMasks.standardGrid))
      --p P            probability a grid cell is kept, between 0 and 1 (default 0.5)
      --fill NAME      what hides a region: \(MaskFill.allCases.map(\.rawValue).joined(separator: ", ")) (default \(MaskFill.standard.rawValue)).
                       normal = the same pixels of the best aligned OK part, median = the
                       per-pixel median of the OK parts; both take the OK parts from the
                       workspace's training split or from --normal, else fall back to blur
      --normal DIR     a folder of OK images (with a checkpoint: the normal parts)
      --class NAME     the class explained: nok (default), ok, or predicted
      --seed N         mask seed; the same seed gives the same heatmap (default 1)
      --batch N        masked images per forward pass, 1-1024 (default 32)
    """
    static let options: Set<String> = ["--out", "--method", "--masks", "--grid", "--p", "--fill", "--normal", "--class", "--seed",
                                       "--batch"]
    static let flags: Set<String> = []

    static func run(_ arguments: Arguments) throws {
        guard arguments.positionals.count >= 2 else {
            throw UsageError(arguments.positionals.isEmpty ? "missing the workspace or checkpoint" : "missing the image(s) to explain")
        }
        let source = arguments.positionals[0]
        let images = Array(arguments.positionals.dropFirst())
        let directory = try arguments.requiredString("--out")
        var explainer = try explainerOptions(arguments)
        let (classifier, workspace) = try ModelSource.open(source)
        let explained = arguments.string("--class") ?? "nok"
        guard explained == "predicted" || classifier.classNames.contains(explained) else {
            throw UsageError("option '--class' must be \((classifier.classNames + ["predicted"]).joined(separator: ", ")); got '\(explained)'")
        }
        let target = classifier.classNames.firstIndex(of: explained)
        explainer.normalParts = try ModelSource.normalParts(for: [explainer.fill], classifier: classifier, workspace: workspace,
                                                            folder: arguments.string("--normal"), command: name)
        do { try BinaryFile.createDirectory(directory) } catch { throw RuntimeFailure(error.description) }

        var failures = 0
        for path in images {
            let decoded: DecodedImage
            do { decoded = try ImageFile.read(path) } catch {
                printError("nearcaipi explain: \(error) (skipped)")
                failures += 1
                continue
            }
            let input = classifier.prepare(decoded.image)
            let start = monotonicSeconds()
            let result = explainer.explain(input, target: target, classCount: classifier.classNames.count,
                                           probabilities: classifier.probabilityFunction)
            let seconds = monotonicSeconds() - start
            let base = baseName(path)
            let display = HeatmapDisplay(result, className: classifier.classNames[result.targetClass])
            do {
                try ImageFile.writePNG(overlayPanel(input, heatmap: result.heatmap, display: display, method: explainer.method),
                                       to: "\(directory)/\(base)_overlay.png")
                try HeatmapFile.write(result.heatmap, noise: result.noise, to: "\(directory)/\(base)_heatmap.png")
            } catch {
                throw RuntimeFailure(error.description)
            }
            let best = result.probabilities.indices.max { result.probabilities[$0] < result.probabilities[$1] }!
            print("\(path): \(classifier.classNames[best]) \(String(format: "%.3f", result.probabilities[best])), \(explainer.method.rawValue) of \(classifier.classNames[result.targetClass]) \(result.masksUsed) masks, fill \(result.fill.rawValue), \(String(format: "%.2f", seconds)) s: \(display.caption) → \(directory)/\(base)_overlay.png")
        }
        if failures == images.count { throw RuntimeFailure("no image could be read") }
    }

    /// The explainer the options describe (method, masks, grid, p, seed, fill, batch), without
    /// normal parts.
    static func explainerOptions(_ arguments: Arguments) throws -> SaliencyExplainer {
        guard let p = Float(arguments.string("--p") ?? "0.5"), p > 0, p < 1 else {
            throw UsageError("option '--p' must be a number between 0 and 1 (exclusive)")
        }
        var explainer = SaliencyExplainer(
            method: try arguments.choice("--method", default: SaliencyMethod.invrise),
            masks: RISEMasks(count: try arguments.integer("--masks", default: 1000, in: 1...100_000),
                             grid: try arguments.integer("--grid", default: RISEMasks.standardGrid, in: 2...64),
                             keepProbability: p, seed: try arguments.unsigned("--seed", default: 1)),
            fill: try arguments.choice("--fill", default: MaskFill.standard))
        explainer.batchSize = try arguments.integer("--batch", default: 32, in: 1...1024)
        return explainer
    }

    static func baseName(_ path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = file.lastIndex(of: ".") else { return file }
        return String(file[..<dot])
    }

    /// The image and the overlay side by side, then a colour bar (or, for a flat map, a grey
    /// block), on a dark background, with the map's caption and what the bar's ends mean.
    static func overlayPanel(_ image: Image, heatmap: Image, display: HeatmapDisplay, method: SaliencyMethod) -> Image {
        // Enlarged to at least 256 pixels, so the map can be looked at and the text fits.
        let factor = max(1, (256 + image.width - 1) / image.width)
        let size = image.width * factor, gap = 6, barWidth = 12, textHeight = 3 * 9
        func enlarged(_ picture: Image) -> Image { picture.resized(width: size, height: picture.height * factor) }
        var panel = Image(width: 2 * size + 3 * gap + barWidth, height: size + textHeight, channels: 3, filledWith: 0.1)
        panel.paste(enlarged(image.rgb()), atX: 0, y: 0)
        panel.paste(enlarged(display.overlay(on: image, heatmap: heatmap)), atX: size + gap, y: 0)
        let bar = display.isFlat ? Image(width: barWidth, height: size, channels: 3, filledWith: 0.5) : ColorMap.jet.bar(width: barWidth, height: size)
        panel.paste(bar, atX: 2 * size + 3 * gap, y: 0)
        let labels = display.barLabels(method)
        let lines = display.isFlat ? [display.caption] : [display.caption, "red " + labels.high, "blue " + labels.low]
        for (row, line) in lines.enumerated() {
            panel.text(line, x: 2, y: size + 2 + row * 9, color: [0.9, 0.9, 0.9])
        }
        return panel
    }
}
