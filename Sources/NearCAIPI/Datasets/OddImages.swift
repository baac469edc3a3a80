import Imaging

/// What `init` and `scan` measure of every decoded image to find the ones that do not belong
/// with the rest: a 1 × 1 pixel, a frame of pure noise, a blank frame, a photo from another
/// camera. Measured once, at most 256 pixels on the longer side (area-averaged).
public struct ImageTraits: Sendable, Equatable {
    public var width: Int, height: Int
    /// Standard deviation of the grey values, 0–1.
    public var spread: Float
    /// Correlation of horizontally and vertically neighbouring grey values (the reduced image):
    /// about 0.8–1 for photographs of parts, about 0 for noise.
    public var neighbourCorrelation: Float

    public init(width: Int, height: Int, spread: Float, neighbourCorrelation: Float) {
        (self.width, self.height, self.spread, self.neighbourCorrelation) = (width, height, spread, neighbourCorrelation)
    }

    public init(of image: Image) {
        width = image.width
        height = image.height
        let longer = max(image.width, image.height)
        var grey = image.greyscale()
        if longer > 256 {
            let scale = 256 / Double(longer)
            grey = grey.areaResized(width: max(1, Int(Double(image.width) * scale)), height: max(1, Int(Double(image.height) * scale)))
        }
        let values = grey.pixels, count = Float(values.count)
        let mean = values.reduce(0, +) / count
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / count
        spread = variance.squareRoot()
        // Σ (a − m)(b − m) over neighbouring pairs, against the variance.
        var products: Float = 0, pairs: Float = 0
        for y in 0..<grey.height {
            for x in 0..<grey.width {
                let here = grey[0, y, x] - mean
                if x + 1 < grey.width { products += here * (grey[0, y, x + 1] - mean); pairs += 1 }
                if y + 1 < grey.height { products += here * (grey[0, y + 1, x] - mean); pairs += 1 }
            }
        }
        neighbourCorrelation = pairs > 0 && variance > 0 ? products / pairs / variance : 1
    }

    public var aspect: Double { Double(width) / Double(height) }
}

/// The images of a data set that `init` sets aside — indexed into the pool, never into a
/// training, validation or test split, so no label of theirs is learnt until a person has
/// looked at the part and answered — and `scan` lists, with the reason in words. Every
/// threshold is relative to the data set itself where it can be, so nothing here is tuned
/// to one kind of part:
/// - **tiny**: the shorter side below `tinySide` pixels and below a quarter of the data set's
///   median shorter side (a part cannot be seen in it; a data set of small images is left be);
/// - **blank**: grey values spread less than `blankSpread` (one colour, a lens cap) where the
///   data set's median image spreads ten times more;
/// - **noise**: neighbouring pixels correlate below `noiseCorrelation` where the data set's
///   median image correlates at least twice that (a photograph's neighbours correlate;
///   noise's do not; a data set of grainy surfaces is left be);
/// - **size**: more than `sizeFactor` times more, or less, pixels than the median image;
/// - **aspect**: more than `aspectFactor` times wider or narrower than the median shape.
public enum OddImages {
    public static let tinySide = 16
    public static let blankSpread: Float = 1.0 / 255
    public static let noiseCorrelation: Float = 0.2
    public static let sizeFactor = 16.0
    public static let aspectFactor = 2.0

    /// The reason each odd image is set aside, by key (path). Size and aspect are judged
    /// against the median of all given images, so they need a few to compare with.
    public static func reasons<Key: Hashable>(_ traits: [Key: ImageTraits]) -> [Key: String] {
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        }
        let comparable = traits.count >= 5
        let byArea = traits.values.sorted { $0.width * $0.height < $1.width * $1.height }
        let typical = byArea.isEmpty ? nil : byArea[byArea.count / 2]
        let medianArea = Double(typical.map { $0.width * $0.height } ?? 0)
        let medianAspect = median(traits.values.map(\.aspect))
        let medianCorrelation = Float(median(traits.values.map { Double($0.neighbourCorrelation) }))
        let medianSpread = Float(median(traits.values.map { Double($0.spread) }))
        let medianShorter = median(traits.values.map { Double(min($0.width, $0.height)) })
        var found: [Key: String] = [:]
        for (key, image) in traits {
            let size = "\(image.width)×\(image.height) px"
            let shorter = min(image.width, image.height)
            if shorter < tinySide, Double(shorter) < medianShorter / 4 {
                found[key] = "tiny: \(size), a side under \(tinySide) px"
            } else if image.spread < blankSpread, medianSpread >= 10 * blankSpread {
                found[key] = "blank: one grey level (spread \(percent(image.spread)) of the range)"
            } else if image.neighbourCorrelation < noiseCorrelation, medianCorrelation >= 2 * noiseCorrelation {
                found[key] = String(format: "noise: neighbouring pixels correlate %.2f (the data set's median %.2f)",
                                    image.neighbourCorrelation, medianCorrelation)
            } else if comparable, medianArea > 0, max(Double(image.width * image.height) / medianArea,
                                                          medianArea / Double(image.width * image.height)) > sizeFactor {
                found[key] = "size: \(size), far from the data set's typical \(typical!.width)×\(typical!.height) px"
            } else if comparable, max(image.aspect / medianAspect, medianAspect / image.aspect) > aspectFactor {
                found[key] = String(format: "shape: %@, width/height %.2f against the data set's typical %.2f", size, image.aspect, medianAspect)
            }
        }
        return found
    }

    static func percent(_ value: Float) -> String {
        value < 0.001 ? "under 0.1 %" : String(format: "%.1f %%", value * 100)
    }
}
