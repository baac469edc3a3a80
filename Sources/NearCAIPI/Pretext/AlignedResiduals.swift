import Imaging
import NeuralNet

/// What is left of a part once its most alike other parts, each laid over it at its best
/// shift, are taken away — a comparison of whole parts, where `PatchDistances` compares cells.
///
/// The nearest-match distance lets every cell find its match on a different part, so a rim
/// pushed in (a dent) is matched, cell by cell, by the rims of smaller parts: every piece of
/// it is normal, only their arrangement is not. Here one part must explain the whole image.
/// On a coarse grey copy of each image (`side` × `side`, blurred a little, standardised to
/// mean 0 and standard deviation 1 so lighting does not count):
///
///     D(q, j)   = min over shifts δ, |δy|, |δx| ≤ `maximumShift`, of
///                 mean over the centre p of (q(p) − j(p + δ))²
///     r_q(p)    = box average over 5 × 5 of min over the `neighbours` bank parts j ≠ q
///                 with the smallest D(q, j) of (q(p) − j(p + δ_j))²
///     v(q)      = max over p of (r_q(p) − median_p) / (1.4826 · MAD_p)
///
/// the median and MAD per place over the bank's own residual maps (each bank part against
/// the others), so places where parts always differ (sensor noise, a texture) do not count,
/// and the pool's defective parts, being few at any one place, do not set the scale. A part
/// whose outline is moved, or that carries anything its most alike parts do not, keeps a
/// residual there. Position differences up to `maximumShift` (about 5 % of the part) are
/// aligned away; rotations and larger moves are not — on such data every part keeps a
/// residual, the bank's spread is wide, and `PatchDistances` counts v only far beyond it.
/// No label is read.
struct AlignedResiduals {
    /// The coarse copy's side: fine enough for a dent of a few pixels at 128 px, coarse
    /// enough that a part against a thousand others costs milliseconds.
    static let side = 64
    /// The largest shift tried, in coarse pixels (±3 of 64: ±6 px at 128).
    static let maximumShift = 3
    /// How many of the most alike bank parts a part is compared with, per place the nearest.
    static let neighbours = 3
    /// The side of the box a residual is averaged over: a region, not a pixel.
    static let window = 5

    private static var margin: Int { maximumShift + 1 }
    private static var centreSide: Int { side - 2 * margin }
    private static var centre: Int { centreSide * centreSide }
    /// Every shift (dy, dx) tried, row by row.
    private static let shifts: [(Int, Int)] = {
        let range = -maximumShift...maximumShift
        return range.flatMap { dy in range.map { dx in (dy, dx) } }
    }()

    /// The bank's coarse copies, one after another: [image][side · side].
    private let bank: [Float]
    private let bankCount: Int
    /// Per shift (in `shifts` order), ‖j_δ‖² of each bank part's centre moved by δ: they depend
    /// on the bank alone, so they are summed once, not for every batch of parts scored.
    private let shiftedNorms: [[Float]]
    /// Per place of the centre: median and robust standard deviation of the bank's residuals.
    private var placeStatistics: [(median: Float, scale: Float)] = []
    /// Each bank part's v against the others.
    private(set) var bankValues: [Float] = []

    /// Builds the bank from `images` (any size, [0, 1]) and scores each against the others.
    init(bank images: [Image]) {
        let copies = images.map(Self.coarse)
        bank = copies.flatMap { $0 }
        bankCount = copies.count
        var window = [Float](repeating: 0, count: Self.centre)
        shiftedNorms = Self.shifts.map { dy, dx in
            copies.map { part in
                window.withUnsafeMutableBufferPointer { w in Self.centre(of: part, dy: dy, dx: dx, into: w.baseAddress!) }
                return window.reduce(0) { $0 + $1 * $1 }
            }
        }
        let maps = residualMaps(of: copies, excluding: Array(copies.indices))
        placeStatistics = (0..<Self.centre).map { p in PatchDistances.medianAndRobustSD(maps.map { $0[p] }) }
        bankValues = maps.map(value)
    }

    /// v of each of `images` (any size, [0, 1]), none of them a bank part.
    func values(of images: [Image]) -> [Float] {
        residualMaps(of: images.map(Self.coarse), excluding: images.map { _ in nil }).map(value)
    }

    /// v of one residual map: its largest standardised place.
    private func value(_ map: [Float]) -> Float {
        var largest = -Float.infinity
        for p in map.indices { largest = max(largest, (map[p] - placeStatistics[p].median) / placeStatistics[p].scale) }
        return largest
    }

    /// The coarse copy: grey, averaged down to `side` × `side`, blurred by the binomial
    /// [1 2 1] / 4 each way (σ ≈ 0.7 px: edges a shift of one pixel apart still overlap),
    /// standardised.
    static func coarse(_ image: Image) -> [Float] {
        let small = image.greyscale().areaResized(width: side, height: side).pixels
        // The edge pixel stands in for the ones beyond it.
        func at(_ v: [Float], _ y: Int, _ x: Int) -> Float { v[min(max(y, 0), side - 1) * side + min(max(x, 0), side - 1)] }
        var across = small, blurred = small
        for y in 0..<side {
            for x in 0..<side {
                across[y * side + x] = 0.25 * at(small, y, x - 1) + 0.5 * at(small, y, x) + 0.25 * at(small, y, x + 1)
            }
        }
        for y in 0..<side {
            for x in 0..<side {
                blurred[y * side + x] = 0.25 * at(across, y - 1, x) + 0.5 * at(across, y, x) + 0.25 * at(across, y + 1, x)
            }
        }
        let (mean, sd) = PatchDistances.meanAndSD(blurred)
        return blurred.map { ($0 - mean) / sd }
    }

    /// The centre of a coarse copy moved by (dy, dx): centreSide² values.
    private static func centre(of coarse: UnsafeBufferPointer<Float>, dy: Int, dx: Int, into out: UnsafeMutablePointer<Float>) {
        for y in 0..<centreSide {
            let from = (y + margin + dy) * side + margin + dx
            for x in 0..<centreSide { out[y * centreSide + x] = coarse[from + x] }
        }
    }

    private static func centre(of coarse: [Float], dy: Int, dx: Int, into out: UnsafeMutablePointer<Float>) {
        coarse.withUnsafeBufferPointer { centre(of: $0, dy: dy, dx: dx, into: out) }
    }

    /// Per part, its residual map r_q over the centre (not standardised). `excluding[i]`: the
    /// bank part that part i is, or nil.
    private func residualMaps(of parts: [[Float]], excluding: [Int?]) -> [[Float]] {
        let (n, count, size, full) = (bankCount, parts.count, Self.centre, Self.side * Self.side)
        guard n > 0, count > 0 else { return parts.map { _ in [Float](repeating: 0, count: size) } }
        var centres = [Float](repeating: 0, count: count * size)
        centres.withUnsafeMutableBufferPointer { c in
            for (i, part) in parts.enumerated() { Self.centre(of: part, dy: 0, dx: 0, into: c.baseAddress! + i * size) }
        }
        let centreNorms = (0..<count).map { i in centres[(i * size)..<((i + 1) * size)].reduce(0) { $0 + $1 * $1 } }
        // D(q, j) and its shift, every shift in turn: ‖q − j_δ‖² = ‖q‖² + ‖j_δ‖² − 2 q · j_δ,
        // the products one matrix product per shift. q · j_δ = Σ over p in the centre of
        // q(p) j(p + δ) is the whole of j against q's centre laid at δ on an empty canvas, so
        // the parts move and the bank — the larger side — is read as it is.
        var best = [Float](repeating: .infinity, count: count * n)
        var bestShift = [(Int, Int)](repeating: (0, 0), count: count * n)
        var canvases = [Float](repeating: 0, count: count * full)
        var products = [Float](repeating: 0, count: count * n)
        for (shift, (dy, dx)) in Self.shifts.enumerated() {
            canvases.withUnsafeMutableBufferPointer { c in
                for i in 0..<count {
                    let canvas = c.baseAddress! + i * full
                    canvas.update(repeating: 0, count: full)
                    for y in 0..<Self.centreSide {
                        let to = (y + Self.margin + dy) * Self.side + Self.margin + dx
                        for x in 0..<Self.centreSide { canvas[to + x] = centres[(i * Self.centreSide + y) * Self.centreSide + x] }
                    }
                }
            }
            canvases.withUnsafeBufferPointer { q in
                bank.withUnsafeBufferPointer { b in
                    products.withUnsafeMutableBufferPointer { p in
                        BLAS.sgemm(.none, .transposed, m: count, n: n, k: full, alpha: 1,
                                   a: q.baseAddress!, lda: full, b: b.baseAddress!, ldb: full,
                                   beta: 0, c: p.baseAddress!, ldc: n)
                    }
                }
            }
            let norms = shiftedNorms[shift]
            for i in 0..<count {
                for j in 0..<n {
                    let d = centreNorms[i] + norms[j] - 2 * products[i * n + j]
                    if d < best[i * n + j] { best[i * n + j] = d; bestShift[i * n + j] = (dy, dx) }
                }
            }
        }
        // Per part: the residual against its most alike bank parts, each at its shift,
        // computed directly (the expansion above rounds away what two alike parts share).
        var maps: [[Float]] = []
        var other = [Float](repeating: 0, count: size)
        for i in 0..<count {
            let candidates = (0..<n).filter { $0 != excluding[i] }
                .sorted { best[i * n + $0] < best[i * n + $1] }
                .prefix(Self.neighbours)
            var residual = [Float](repeating: .infinity, count: size)
            for j in candidates {
                let (dy, dx) = bestShift[i * n + j]
                bank.withUnsafeBufferPointer { b in
                    other.withUnsafeMutableBufferPointer { o in
                        Self.centre(of: UnsafeBufferPointer(rebasing: b[(j * full)..<((j + 1) * full)]), dy: dy, dx: dx, into: o.baseAddress!)
                    }
                }
                for p in 0..<size {
                    let d = centres[i * size + p] - other[p]
                    residual[p] = min(residual[p], d * d)
                }
            }
            if candidates.isEmpty { residual = [Float](repeating: 0, count: size) }
            maps.append(Self.boxAveraged(residual))
        }
        return maps
    }

    /// The mean over the `window` × `window` box around each place (the part of the box
    /// inside the centre).
    private static func boxAveraged(_ map: [Float]) -> [Float] {
        let (side, half) = (centreSide, window / 2)
        var out = [Float](repeating: 0, count: map.count)
        for y in 0..<side {
            for x in 0..<side {
                var sum: Float = 0, taken = 0
                for y2 in max(0, y - half)...min(side - 1, y + half) {
                    for x2 in max(0, x - half)...min(side - 1, x + half) { sum += map[y2 * side + x2]; taken += 1 }
                }
                out[y * side + x] = sum / Float(taken)
            }
        }
        return out
    }
}
