#if canImport(Glibc)
import Glibc
#endif

/// Maps a scalar in [0, 1] to a colour, for heatmaps and colour bars.
public enum ColorMap: String, CaseIterable, Sendable {
    /// Blue → cyan → yellow → red; the map most saliency papers print.
    case jet
    /// Black → purple → orange → pale yellow; perceptually uniform and readable in grey.
    case inferno
    /// Black → white.
    case grey

    /// The colour (r, g, b) of `t`, clamped into [0, 1].
    public func color(at t: Float) -> (r: Float, g: Float, b: Float) {
        let t = t.isNaN ? 0 : min(max(t, 0), 1)
        switch self {
        case .jet:
            // Each channel is a trapezoid of slope 4 centred at ¾ (r), ½ (g) and ¼ (b).
            func ramp(_ v: Float) -> Float { min(max(v, 0), 1) }
            return (ramp(1.5 - abs(4 * t - 3)), ramp(1.5 - abs(4 * t - 2)), ramp(1.5 - abs(4 * t - 1)))
        case .grey:
            return (t, t, t)
        case .inferno:
            let position = t * Float(Self.infernoStops.count - 1)
            let i = min(Int(position), Self.infernoStops.count - 2)
            let w = position - Float(i)
            let a = Self.infernoStops[i], b = Self.infernoStops[i + 1]
            return (a.0 + (b.0 - a.0) * w, a.1 + (b.1 - a.1) * w, a.2 + (b.2 - a.2) * w)
        }
    }

    /// Inferno sampled at 17 evenly spaced points (the published colour map's values),
    /// interpolated linearly in between.
    static let infernoStops: [(Float, Float, Float)] = [
        (0.001462, 0.000466, 0.013866), (0.042253, 0.028139, 0.141141),
        (0.129285, 0.047293, 0.290788), (0.238273, 0.036621, 0.396353),
        (0.341500, 0.062325, 0.429425), (0.441207, 0.099338, 0.431594),
        (0.540920, 0.134729, 0.415123), (0.640135, 0.171438, 0.381065),
        (0.735683, 0.215906, 0.330245), (0.822386, 0.275197, 0.266085),
        (0.894305, 0.353399, 0.193584), (0.946965, 0.449191, 0.115272),
        (0.978422, 0.557937, 0.034931), (0.987874, 0.675267, 0.065257),
        (0.974638, 0.797692, 0.206332), (0.947594, 0.917399, 0.410665),
        (0.988362, 0.998364, 0.644924),
    ]

    /// A single-channel image mapped to RGB, values scaled from `range` to [0, 1].
    public func apply(to values: Image, range: ClosedRange<Float>) -> Image {
        precondition(values.channels == 1, "colour maps apply to one-channel images")
        let n = values.planeSize
        let span = range.upperBound - range.lowerBound
        let scale: Float = span > 0 ? 1 / span : 0
        var out = [Float](repeating: 0, count: 3 * n)
        for i in 0..<n {
            let (r, g, b) = color(at: (values.pixels[i] - range.lowerBound) * scale)
            out[i] = r; out[n + i] = g; out[2 * n + i] = b
        }
        return Image(width: values.width, height: values.height, channels: 3, pixels: out)
    }

    /// A vertical colour bar `width` × `height`, the top row showing 1 and the bottom 0.
    public func bar(width: Int, height: Int) -> Image {
        let ramp = Image(width: width, height: height, channels: 1,
                         pixels: (0..<(width * height)).map { i in
                             height > 1 ? 1 - Float(i / width) / Float(height - 1) : 1
                         })
        return apply(to: ramp, range: 0...1)
    }
}

extension Image {
    /// This image (grey or colour) with `heatmap` laid over it: every pixel becomes
    /// (1 − α) · image + α · colourMap(normalised heat), with the heat normalised from `range`.
    /// The range is the caller's explicit choice — a per-image min–max would make a normal
    /// image's flat map look as alarming as a defect's.
    public func overlaid(with heatmap: Image, colorMap: ColorMap = .jet, range: ClosedRange<Float>,
                         opacity: Float = 0.5) -> Image {
        precondition(heatmap.width == width && heatmap.height == height, "heatmap size differs from image")
        let base = rgb()
        let colours = colorMap.apply(to: heatmap.channels == 1 ? heatmap : heatmap.greyscale(), range: range)
        var out = base
        let alpha = min(max(opacity, 0), 1)
        for i in out.pixels.indices { out.pixels[i] = base.pixels[i] * (1 - alpha) + colours.pixels[i] * alpha }
        return out
    }
}

extension Image {
    /// Peak signal-to-noise ratio of `other` against this image, in dB, over every sample
    /// of their RGB forms (values in [0, 1], so the peak is 1): 10 · log10(1 / MSE).
    /// Identical images give a large finite value (the MSE is floored at 10⁻¹²).
    public func peakSignalToNoiseRatio(of other: Image) -> Double {
        precondition(other.width == width && other.height == height, "images of different sizes")
        let a = rgb(), b = other.rgb()
        var squared = 0.0
        for i in a.pixels.indices {
            let d = Double(a.pixels[i] - b.pixels[i])
            squared += d * d
        }
        return 10 * log10(1 / max(squared / Double(a.pixels.count), 1e-12))
    }
}
