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
    /// Unit-length embeddings of `parts` (the classifier's penultimate layer), when known:
    /// the nearest part is then the most similar by cosine, as near misses are chosen.
    public let embeddings: [[Float]]?
    /// The per-pixel median of the parts.
    public let median: Image

    /// `parts` must share one shape; `embeddings`, if given, one per part.
    public init?(parts allParts: [Image], embeddings allEmbeddings: [[Float]]? = nil) {
        guard let first = allParts.first else { return nil }
        precondition(allParts.allSatisfy { $0.width == first.width && $0.height == first.height && $0.channels == first.channels },
                     "normal parts differ in shape")
        precondition(allEmbeddings == nil || allEmbeddings!.count == allParts.count, "one embedding per part")
        let step = max(1, (allParts.count + Self.maximumParts - 1) / Self.maximumParts)
        let kept = Array(stride(from: 0, to: allParts.count, by: step))
        parts = kept.map { allParts[$0] }
        embeddings = allEmbeddings.map { all in kept.map { Self.unit(all[$0]) } }
        median = Self.pixelMedian(parts)
    }

    /// The part most similar to `image`: by embedding cosine when both embeddings are known,
    /// else by mean squared pixel difference. A part identical to the query (the query is one
    /// of the normal parts) is skipped: filling with the image itself would hide nothing.
    public func nearest(to image: Image, embedding: [Float]? = nil) -> Image {
        var best: Int? = nil, bestScore = -Float.infinity
        let query = embedding.map(Self.unit)
        for (index, part) in parts.enumerated() where part.width == image.width && part.channels == image.channels {
            let score: Float
            if let query, let embeddings { score = zip(query, embeddings[index]).reduce(0) { $0 + $1.0 * $1.1 } }
            else { score = -Self.meanSquaredDifference(part, image) }
            guard score > bestScore, Self.meanSquaredDifference(part, image) > 1e-8 else { continue }
            best = index
            bestScore = score
        }
        return best.map { parts[$0] } ?? median
    }

    static func unit(_ vector: [Float]) -> [Float] {
        let length = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return length > 0 ? vector.map { $0 / length } : vector
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
