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
    static let discussion = """
    The model is a checkpoint file, or a workspace folder's active round. For each image: the
    predicted class and its confidence, and the heatmap of the NOK class (which region, made
    normal, lowers P(NOK) most) with its range, noise and contrast, written as
      DIR/<name>_overlay.png   the image, the heatmap laid over it, and a colour bar
                               (<name>: the file name, with its folders where two images
                               given share a name)
      DIR/<name>_heatmap.png   the raw heatmap: 16-bit grey from the map's minimum (0) to its
                               maximum (65535), both stored in the file's text chunks
                               heatmap-min and heatmap-max (with heatmap-noise and -contrast)
      DIR/<name>_own-map.png   for a workspace round that trained its own defect map on the
                               painted regions (train --mask-loss on): the network's own map,
                               P(defect) per pixel on its fixed 0 … 1 scale, laid over the image
    A map whose contrast (its hot region over the hot spots that the noise of its masks makes)
    is below \(Int(HeatmapNoise.flatBelow)), or where hiding no region lowers the explained class's probability, is
    drawn flat, in neutral grey: the decision does not hinge on one region. Any other map is
    drawn from its own minimum (blue) to its maximum (red), and the line printed for it says
    how much hiding the red and the blue region lowered that probability. An image that
    cannot be read is reported by name and skipped; the others go on.
    """

    static let source = Positional(placeholder: "WORKSPACE_OR_CHECKPOINT", missing: "the workspace or checkpoint")
    static let images = Positional(placeholder: "IMAGE", missing: "the image(s) to explain", repeats: true)
    static let out = Option<String>(name: "--out", placeholder: "DIR", help: "where to write (created if missing)", format: .text)
    static let method = Option<SaliencyMethod>(name: "--method", placeholder: "NAME", help: "how the heatmap is made",
                                               format: .choice, default: .invrise, note: "invrise is the main paper's")
    static let masks = Option<Int>(name: "--masks", placeholder: "K", help: "number of random masks",
                                   format: .wholeNumber(in: 1...100_000), default: 1000)
    static let grid = Option<Int>(name: "--grid", placeholder: "L", help: "mask grid cells per side", format: .wholeNumber(in: 2...64),
                                  default: RISEMasks.standardGrid)
    static let keepProbability = Option<Float>(name: "--p", placeholder: "P", help: "probability a grid cell is kept",
                                                format: .number(.strictlyBetween(0, 1)), default: 0.5)
    static let fill = Option<MaskFill>(
        name: "--fill", placeholder: "NAME", help: "what hides a region", format: .choice, default: .standard,
        note: """
        normal = the same pixels of the best aligned OK part, median = the per-pixel median of the OK parts; \
        both take the OK parts from the workspace's training split or from --normal, else fall back to blur
        """)
    static let normal = Option<String?>(name: "--normal", placeholder: "DIR",
                                        help: "a folder of OK images (with a checkpoint: the normal parts)", format: .text)
    static let explainedClass = Option<String>(name: "--class", placeholder: "NAME",
                                               help: "the class explained: nok, ok, or predicted", format: .text, default: "nok")
    static let seed = Option<UInt64>(name: "--seed", placeholder: "N", help: "mask seed; the same seed gives the same heatmap",
                                     format: .nonNegativeWholeNumber, default: 1)
    static let batch = Option<Int>(name: "--batch", placeholder: "N", help: "masked images per forward pass",
                                   format: .wholeNumber(in: 1...1024), default: 32)
    static let parameters: [any Parameter] = [source, images, out, method, masks, grid, keepProbability, fill, normal,
                                              explainedClass, seed, batch]

    static func run(_ arguments: Arguments) throws {
        let paths = try arguments.positionals([Self.source, Self.images])
        let source = paths[0]
        let images = Array(paths.dropFirst())
        let directory = try arguments[out]
        var explainer = try explainerOptions(arguments)
        let (classifier, workspace, ownMaps) = try ModelSource.openRound(source)
        let explained = try arguments[explainedClass]
        guard explained == "predicted" || classifier.classNames.contains(explained) else {
            throw UsageError("option '--class' must be \((classifier.classNames + ["predicted"]).joined(separator: ", ")); got '\(explained)'")
        }
        let target = classifier.classNames.firstIndex(of: explained)
        explainer.normalParts = try ModelSource.normalParts(for: [explainer.fill], classifier: classifier, workspace: workspace,
                                                            folder: try arguments[normal], command: name)
        do { try BinaryFile.createDirectory(directory) } catch { throw RuntimeFailure(error.description) }

        var failures = 0
        let names = outputNames(images)
        for (path, base) in zip(images, names) {
            let decoded: DecodedImage
            do { decoded = try ImageFile.read(path) } catch {
                printError("nearcaipi explain: \(error) (skipped)")
                failures += 1
                continue
            }
            let input = classifier.prepare(decoded.image)
            let start = monotonicSeconds()
            let result = explainer.explain(input, target: target, classCount: classifier.classNames.count,
                                           probabilities: classifier.probabilityFunction())
            let seconds = monotonicSeconds() - start
            let display = HeatmapDisplay(result, className: classifier.classNames[result.targetClass])
            do {
                try ImageFile.writePNG(overlayPanel(input, heatmap: result.heatmap, display: display, method: explainer.method),
                                       to: "\(directory)/\(base)_overlay.png")
                try HeatmapFile.write(result.heatmap, noise: result.noise, to: "\(directory)/\(base)_heatmap.png")
            } catch {
                throw RuntimeFailure(error.description)
            }
            // The network's own map, where the round learnt one from painted regions: what it
            // believes beside what the explanation says, and whether the two point alike.
            var ownMapWords = ""
            if ownMaps, let ownMap = Workspace.defectMaps(of: [input], model: classifier.model, info: classifier.info)?.first {
                let reading = OwnMapReading(ownMap: ownMap, explanation: display.isFlat ? nil : result.heatmap)
                let ownDisplay = HeatmapDisplay.probabilities(ownMap)
                do {
                    try ImageFile.writePNG(overlayPanel(input, heatmap: ownMap, display: ownDisplay, ownMap: reading),
                                           to: "\(directory)/\(base)_own-map.png")
                } catch {
                    throw RuntimeFailure(error.description)
                }
                ownMapWords = "; \(reading.words) → \(directory)/\(base)_own-map.png"
            }
            let best = result.probabilities.indices.max { result.probabilities[$0] < result.probabilities[$1] }!
            print("\(path): \(classifier.classNames[best]) \(String(format: "%.3f", result.probabilities[best])), \(explainer.method.rawValue) of \(classifier.classNames[result.targetClass]) \(result.masksUsed) masks, fill \(result.fill.rawValue), \(String(format: "%.2f", seconds)) s: \(display.caption) → \(directory)/\(base)_overlay.png\(ownMapWords)")
        }
        if failures == images.count { throw RuntimeFailure("no image could be read") }
    }

    /// The explainer the options describe (method, masks, grid, p, seed, fill, batch), without
    /// normal parts.
    static func explainerOptions(_ arguments: Arguments) throws -> SaliencyExplainer {
        var explainer = SaliencyExplainer(
            method: try arguments[method],
            masks: RISEMasks(count: try arguments[masks], grid: try arguments[grid],
                             keepProbability: try arguments[keepProbability], seed: try arguments[seed]),
            fill: try arguments[fill])
        explainer.batchSize = try arguments[batch]
        return explainer
    }

    /// The output name of each image: its file name without the extension, with as many of
    /// its folders before it (joined by "_") as it takes to tell it from the other images'
    /// (an MVTec layout's test/crack/000.png and test/hole/000.png: crack_000, hole_000), and a
    /// number where even the whole paths agree (the same file given twice).
    static func outputNames(_ paths: [String]) -> [String] {
        func parts(_ path: String) -> [String] {
            var parts = path.split(separator: "/").map(String.init)
            if let file = parts.last, let dot = file.lastIndex(of: "."), dot != file.startIndex { parts[parts.count - 1] = String(file[..<dot]) }
            return parts.isEmpty ? [path] : parts
        }
        let all = paths.map(parts)
        var names: [String] = []
        for (index, own) in all.enumerated() {
            var depth = 1
            while depth < own.count,
                  all.indices.contains(where: { $0 != index && all[$0].suffix(depth) == own.suffix(depth) && all[$0] != own }) {
                depth += 1
            }
            names.append(own.suffix(depth).joined(separator: "_"))
        }
        var seen: [String: Int] = [:]
        return names.map { name in
            seen[name, default: 0] += 1
            return seen[name]! == 1 ? name : "\(name)-\(seen[name]!)"
        }
    }

    /// The image and the overlay side by side, then a colour bar (or, for a flat map, a grey
    /// block), on a dark background, with the map's caption and what the bar's ends mean —
    /// of the explanation, or, given `ownMap`, of the network's own map on its 0 … 1 scale.
    static func overlayPanel(_ image: Image, heatmap: Image, display: HeatmapDisplay, method: SaliencyMethod = .invrise,
                             ownMap: OwnMapReading? = nil) -> Image {
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
        // A flat map's caption says why at length: wrapped over the three lines of text room.
        let columns = (panel.width - 4) / BitmapFont.advance
        let lines: [String]
        if let ownMap {
            lines = ["own defect map: P(defect) up to \(String(format: "%.2f", ownMap.peak))", ownMap.words,
                     "red P(defect) 1, blue 0"]
        } else {
            lines = display.isFlat ? TextLines.wrapped(display.caption, columns: columns, lines: 3)
                : [display.caption, "red " + labels.high, "blue " + labels.low]
        }
        for (row, line) in lines.enumerated() {
            panel.text(line, x: 2, y: size + 2 + row * 9, color: [0.9, 0.9, 0.9])
        }
        return panel
    }
}
