import FileAccess
import Imaging

/// How a heatmap is shown to a person: never stretching noise to full colour.
///
/// A map whose contrast (`HeatmapNoise`) is below `HeatmapNoise.flatBelow` is shown as
/// *flat*: a neutral grey over the image and the words "the decision does not hinge on one
/// region", with its absolute range. Any other map is drawn from its own minimum (blue) to
/// its own maximum (red), and its absolute range and contrast are printed beside it, so a
/// strong map and a faint one are told apart by their numbers, not their colours.
public struct HeatmapDisplay: Sendable, Equatable {
    /// The map's own minimum and maximum.
    public var range: ClosedRange<Float>
    public var noise: HeatmapNoise

    /// The class the map explains, as the captions name it.
    public var className: String

    public init(heatmap: Image, noise: HeatmapNoise, className: String = "NOK") {
        let low = heatmap.pixels.min() ?? 0, high = heatmap.pixels.max() ?? 0
        range = low...max(high, low)
        self.noise = noise
        self.className = className
    }

    public init(_ result: SaliencyResult, className: String = "NOK") {
        self.init(heatmap: result.heatmap, noise: result.noise, className: className)
    }

    /// A map of probabilities — the network's own defect map, σ of each cell — drawn on their
    /// fixed scale 0 … 1, not stretched to its own range: a part on which the network finds no
    /// defect stays cold. It has no sampling noise, so it is never shown as flat.
    public static func probabilities(_ map: Image, className: String = "NOK") -> HeatmapDisplay {
        var display = HeatmapDisplay(heatmap: map, noise: HeatmapNoise(noise: 0, peak: 1, noisePeak: 0), className: className)
        display.range = 0...1
        return display
    }

    public var isFlat: Bool { noise.isFlat }

    /// The image with the map laid over it: jet from the map's minimum to its maximum, or a
    /// neutral grey when the map is flat.
    /// `colorMap` must rise in brightness from low to high where only brightness is seen (a
    /// grey-ramp terminal): `.grey` or `.inferno` there, `.jet` where colours are.
    public func overlay(on image: Image, heatmap: Image, colorMap: ColorMap = .jet, opacity: Float = 0.5) -> Image {
        if isFlat {
            let grey = Image(width: heatmap.width, height: heatmap.height, channels: 1, filledWith: 0.5)
            return image.overlaid(with: grey, colorMap: .grey, range: 0...1, opacity: opacity)
        }
        let stretched = range.upperBound > range.lowerBound ? range : range.lowerBound...(range.lowerBound + 1e-6)
        return image.overlaid(with: heatmap, colorMap: colorMap, range: stretched, opacity: opacity)
    }

    /// One line for the screens and the command line. For InvRISE the map's values are said
    /// as what a person can check: how much hiding the red (hottest) and the blue (coldest)
    /// region lowered P(class) below the unmasked part's, on average over the masks that hid
    /// it — S(λ) − (1 − f(I)); a negative figure means hiding it raised P(class).
    public var caption: String {
        let contrast = "contrast " + (noise.contrast.isFinite ? String(format: "%.1f", noise.contrast) : "inf")
        let p = "P(\(className.uppercased()))"
        guard let lowering = noise.lowering else {
            let values = "map \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))"
            return isFlat ? "flat: the decision does not hinge on one region (\(values), \(contrast))" : "\(values), \(contrast)"
        }
        let coldest = lowering - (range.upperBound - range.lowerBound)
        if lowering < 0 {
            // Every masked copy looked more like the class than the part: the masking itself
            // moves the model, so the map's shape is not a region of the part. Said so.
            return "flat: hiding no region lowers \(p); hiding any raised it by ≥ \(Self.format(-lowering)) (\(contrast))"
        }
        if lowering < noise.minimumDrop {
            return "flat: hiding a region lowers \(p) by at most \(Self.format(lowering)), under \(Self.format(noise.minimumDrop)) (\(contrast))"
        }
        let drops = "hiding red lowers \(p) by \(Self.format(lowering)), blue by \(Self.format(coldest))"
        return isFlat ? "flat: the decision does not hinge on one region (\(drops), \(contrast))" : "\(drops), \(contrast)"
    }

    /// `caption` in fewer words, the figures kept: for a line of 80 columns.
    public var terseCaption: String {
        let contrast = "contrast " + (noise.contrast.isFinite ? String(format: "%.1f", noise.contrast) : "inf")
        let p = "P(\(className.uppercased()))"
        guard let lowering = noise.lowering else {
            let values = "map \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))"
            return (isFlat ? "flat: " : "") + "\(values), \(contrast)"
        }
        // "by" kept: without it the line read as the probability itself, beside a prediction
        // of OK 0.96 ("raised P(NOK) ≥ 0.948").
        if lowering < 0 { return "flat: hiding anywhere raised \(p) by ≥ \(Self.format(-lowering)) (\(contrast))" }
        if lowering < noise.minimumDrop { return "flat: hiding lowers \(p) by ≤ \(Self.format(lowering)) (\(contrast))" }
        let coldest = lowering - (range.upperBound - range.lowerBound)
        return (isFlat ? "flat: " : "") + "red lowers \(p) by \(Self.format(lowering)), blue by \(Self.format(coldest)), \(contrast)"
    }

    /// The same in a few characters, for small panels.
    public var shortCaption: String {
        let contrast = noise.contrast.isFinite ? String(format: "%.1f", noise.contrast) : "inf"
        guard isFlat else { return "contrast \(contrast)" }
        // Why flat, in a few words: a high contrast alone does not say it.
        if let lowering = noise.lowering, lowering < 0 { return "flat (hiding raises P)" }
        if let lowering = noise.lowering, lowering < noise.minimumDrop { return "flat (tiny drops)" }
        return "flat (contrast \(contrast))"
    }

    /// What the two ends of the colour bar mean for `method`.
    public func barLabels(_ method: SaliencyMethod = .invrise) -> (high: String, low: String) {
        let p = "P(\(className.uppercased()))"
        switch method {
        case .invrise: return ("hi: hiding it lowers \(p) most", "lo: hiding it lowers \(p) least")
        case .rise: return ("hi: keeping it keeps \(p)", "lo: not needed for \(p)")
        }
    }

    static func format(_ value: Float) -> String { String(format: "%.3g", value) }
}

/// The raw heatmap file: a 16-bit grey PNG of the map normalised to its own minimum and
/// maximum, with the minimum, maximum, noise and contrast in `tEXt` chunks
/// (`heatmap-min`, `heatmap-max`, `heatmap-noise`, `heatmap-contrast`), so the map's
/// values come back within (max − min) / 131070 and any PNG viewer shows its structure.
public enum HeatmapFile {
    public static func encode(_ heatmap: Image, noise: HeatmapNoise? = nil) throws(ImageFileError) -> [UInt8] {
        let low = heatmap.pixels.min() ?? 0, high = heatmap.pixels.max() ?? 0
        let span = high - low
        let normalised = Image(width: heatmap.width, height: heatmap.height, channels: 1,
                               pixels: heatmap.pixels.map { span > 0 ? ($0 - low) / span : 0 })
        var entries = [("heatmap-min", "\(low)"), ("heatmap-max", "\(high)")]
        if let noise { entries += [("heatmap-noise", "\(noise.noise)"), ("heatmap-contrast", "\(noise.contrast)")] }
        return PNGText.inserting(entries.map { (keyword: $0.0, text: $0.1) }, into: try ImageFile.encodePNG(normalised, bitDepth: 16))
    }

    public static func write(_ heatmap: Image, noise: HeatmapNoise? = nil, to path: String) throws(ImageFileError) {
        let bytes = try encode(heatmap, noise: noise)
        do { try BinaryFile.writeAtomically(bytes, to: path) } catch {
            throw ImageFileError(path: path, reason: .cannotWrite(error.systemMessage ?? error.description))
        }
    }

    /// The map in its own units; a PNG without the range chunks reads as its 0…1 samples.
    public static func read(_ path: String) throws(ImageFileError) -> Image {
        let bytes: [UInt8]
        do { bytes = try BinaryFile.read(path, limit: ImageFile.maxFileBytes) } catch {
            throw ImageFileError(path: path, reason: .cannotRead(error.systemMessage ?? error.description))
        }
        return try decode(bytes, name: path)
    }

    public static func decode(_ bytes: [UInt8], name: String) throws(ImageFileError) -> Image {
        var map = try ImageFile.decode(bytes, name: name).image.greyscale()
        let text = PNGText.entries(of: bytes)
        if let low = text["heatmap-min"].flatMap(Float.init), let high = text["heatmap-max"].flatMap(Float.init) {
            for i in map.pixels.indices { map.pixels[i] = low + map.pixels[i] * (high - low) }
        }
        return map
    }
}
