import Imaging

/// What a normal (OK) part looks like, for the in-distribution fills `.normal` and `.median`.
///
/// A defect classifier explained with a zero fill sees black blobs, which look like defects:
/// every masked copy stays NOK and the map carries no signal. Filling the hidden region with
/// the *same region of a normal part* asks the inspector's own question instead: "how much
/// does making this region look normal lower P(NOK)?". A fixed camera photographs parts in
/// register, so the same pixels of another OK part are a plausible normal appearance.
///
/// The parts are prepared images (the model's input size and channels, values in [0, 1]).
public struct NormalParts: Sendable {
    /// At most this many parts are kept (evenly chosen): the median and the nearest-part
    /// search stay cheap, and more parts add little to either.
    public static let maximumParts = 256

    public let parts: [Image]
    /// The per-pixel median of the parts.
    public let median: Image

    /// `parts` must share one shape.
    public init?(parts allParts: [Image]) {
        guard let first = allParts.first else { return nil }
        precondition(allParts.allSatisfy { $0.width == first.width && $0.height == first.height && $0.channels == first.channels },
                     "normal parts differ in shape")
        parts = Self.kept(of: allParts.count).map { allParts[$0] }
        median = Self.pixelMedian(parts)
    }

    /// The indices of `count` candidate parts that are kept: at most `maximumParts`, evenly
    /// spaced (a caller reading parts from files reads only these).
    public static func kept(of count: Int) -> StrideTo<Int> {
        stride(from: 0, to: count, by: max(1, (count + maximumParts - 1) / maximumParts))
    }

    /// The part nearest to `image` in pixels (mean squared difference): the best *aligned*
    /// normal part, whose swapped-in regions leave the fewest seams and edges of their own.
    /// (Measured against the most similar part by embedding cosine, as near misses are
    /// chosen: on held-out weld seams the aligned part doubled the maps' median contrast,
    /// 2.4 → 5.0, and raised pixel AUROC 0.933 → 0.956; Docs/Explanations.md.) A part
    /// identical to the query (the query is one of the normal parts) is skipped: filling with
    /// the image itself would hide nothing.
    public func nearest(to image: Image) -> Image {
        var best: Int? = nil, bestDistance = Float.infinity
        for (index, part) in parts.enumerated() where part.width == image.width && part.channels == image.channels {
            let distance = Self.meanSquaredDifference(part, image)
            guard distance < bestDistance, distance > 1e-8 else { continue }
            best = index
            bestDistance = distance
        }
        return best.map { parts[$0] } ?? median
    }

    static func meanSquaredDifference(_ a: Image, _ b: Image) -> Float {
        var sum: Float = 0
        a.pixels.withUnsafeBufferPointer { p in
            b.pixels.withUnsafeBufferPointer { q in
                for i in 0..<p.count { let d = p[i] - q[i]; sum += d * d }
            }
        }
        return sum / Float(max(a.pixels.count, 1))
    }

    static func pixelMedian(_ images: [Image]) -> Image {
        let first = images[0]
        var out = [Float](repeating: 0, count: first.pixels.count)
        var column = [Float](repeating: 0, count: images.count)
        for i in 0..<out.count {
            for (k, image) in images.enumerated() { column[k] = image.pixels[i] }
            column.sort()
            let middle = column.count / 2
            out[i] = column.count % 2 == 1 ? column[middle] : (column[middle - 1] + column[middle]) / 2
        }
        return Image(width: first.width, height: first.height, channels: first.channels, pixels: out)
    }
}
