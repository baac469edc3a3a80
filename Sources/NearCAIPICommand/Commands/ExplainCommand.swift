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
                             [--grid L] [--p P] [--fill zero|mean|blur] [--seed N]
                             [--scale fixed|minmax] [--batch N]

    The model is a checkpoint file, or a workspace folder's active round. For each image: the
    predicted class and its confidence, and the heatmap of the explanation, written as
      DIR/<name>_overlay.png   the image, the heatmap laid over it, and a colour bar
      DIR/<name>_heatmap.png   the raw heatmap, 16-bit grey (0 = 0, 65535 = 1)
    An image that cannot be read is reported by name and skipped; the others go on.

    Options:
      --out DIR        where to write (created if missing)
      --method NAME    invrise (default; the main paper's) or rise
      --masks K        number of random masks, 1-100000 (default 1000)
      --grid L         mask grid cells per side, 2-64 (default 8)
      --p P            probability a grid cell is kept, between 0 and 1 (default 0.5)
      --fill NAME      hidden pixels: zero (default, the paper), mean, blur
      --seed N         mask seed; the same seed gives the same heatmap (default 1)
      --scale NAME     overlay colours: fixed (default; 0 to 1 for every image, so a normal
                       image's flat map stays calm) or minmax (this image's own range)
      --batch N        masked images per forward pass, 1-1024 (default 32)
    """
    static let options: Set<String> = ["--out", "--method", "--masks", "--grid", "--p", "--fill", "--seed", "--scale", "--batch"]
    static let flags: Set<String> = []

    enum Scale: String, CaseIterable { case fixed, minmax }

    static func run(_ arguments: Arguments) throws {
        guard arguments.positionals.count >= 2 else {
            throw UsageError(arguments.positionals.isEmpty ? "missing the workspace or checkpoint" : "missing the image(s) to explain")
        }
        let checkpoint = arguments.positionals[0]
        let images = Array(arguments.positionals.dropFirst())
        let directory = try arguments.requiredString("--out")
        let method = try arguments.choice("--method", default: SaliencyMethod.invrise)
        let fill = try arguments.choice("--fill", default: MaskFill.zero)
        let scale = try arguments.choice("--scale", default: Scale.fixed)
        guard let p = Float(arguments.string("--p") ?? "0.5"), p > 0, p < 1 else {
            throw UsageError("option '--p' must be a number between 0 and 1 (exclusive)")
        }
        var explainer = SaliencyExplainer(
            method: method,
            masks: RISEMasks(count: try arguments.integer("--masks", default: 1000, in: 1...100_000),
                             grid: try arguments.integer("--grid", default: 8, in: 2...64),
                             keepProbability: p, seed: try arguments.unsigned("--seed", default: 1)),
            fill: fill)
        explainer.batchSize = try arguments.integer("--batch", default: 32, in: 1...1024)

        let classifier: ImageClassifier
        do {
            if BinaryFile.isDirectory(checkpoint) {
                let active = try Workspace(opening: checkpoint).activeModel()
                classifier = ImageClassifier(model: active.model, info: active.info)
            } else {
                classifier = try ImageClassifier(checkpoint: checkpoint)
            }
        } catch {
            throw RuntimeFailure("\(error)")
        }
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
            let result = explainer.explain(input, classCount: classifier.classNames.count,
                                           probabilities: classifier.probabilityFunction)
            let seconds = monotonicSeconds() - start
            let base = baseName(path)
            let display = scale == .fixed ? SaliencyDisplay.fixed(0...1) : .imageMinMax
            let range = display.range(for: result.heatmap)
            do {
                try ImageFile.writePNG(overlayPanel(input, heatmap: result.heatmap, range: range), to: "\(directory)/\(base)_overlay.png")
                try ImageFile.writePNG(result.heatmap.clamped(), to: "\(directory)/\(base)_heatmap.png", bitDepth: 16)
            } catch {
                throw RuntimeFailure(error.description)
            }
            let label = classifier.classNames[result.targetClass]
            let low = result.heatmap.pixels.min() ?? 0, high = result.heatmap.pixels.max() ?? 0
            print("\(path): \(label) \(String(format: "%.3f", result.targetProbability)), \(method.rawValue) \(result.masksUsed) masks in \(String(format: "%.2f", seconds)) s, heatmap values \(String(format: "%.4g", low))…\(String(format: "%.4g", high)) shown as \(String(format: "%.4g", range.lowerBound))…\(String(format: "%.4g", range.upperBound)) → \(directory)/\(base)_overlay.png")
        }
        if failures == images.count { throw RuntimeFailure("no image could be read") }
    }

    static func baseName(_ path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = file.lastIndex(of: ".") else { return file }
        return String(file[..<dot])
    }

    /// The image and the overlay side by side, then a colour bar, on a dark background.
    static func overlayPanel(_ image: Image, heatmap: Image, range: ClosedRange<Float>) -> Image {
        let size = image.width, gap = 6, barWidth = 12
        var panel = Image(width: 2 * size + 3 * gap + barWidth, height: size, channels: 3, filledWith: 0.1)
        panel.paste(image.rgb(), atX: 0, y: 0)
        panel.paste(image.overlaid(with: heatmap, colorMap: .jet, range: range, opacity: 0.5), atX: size + gap, y: 0)
        panel.paste(ColorMap.jet.bar(width: barWidth, height: size), atX: 2 * size + 3 * gap, y: 0)
        return panel
    }
}
