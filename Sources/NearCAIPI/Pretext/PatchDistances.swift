import Imaging
import NeuralNet

/// How far each part of an image lies from the same place on the workspace's other parts:
/// a nearest-neighbour distance per feature cell, in the features of round 0's early stages.
///
/// For a cell at (y, x) of an image's features f after stage s, the distance is
///
///     d_s(y, x) = min over bank images j ≠ the image itself, over |y' − y| ≤ 1, |x' − x| ≤ 1,
///                 of ‖f(y, x) − g_j(y', x')‖₂
///
/// — the cell's nearest match at the same place, give or take one cell (parts sit a little
/// differently), on any other bank image. A defect is a region no other part shares, so its
/// cells are far from every match; a normal region has a near one somewhere. Because each
/// defect is unique, defective parts in the bank (the pool is not clean) cost little: a
/// defect would need a like defect at the same place on another part to be matched.
///
/// Each stage's distances are standardised by the bank's own (each bank image scored against
/// the others): the map is Σ_s (d_s − μ_s) / σ_s over the cells' distances, enlarged to the
/// input size; the image score Σ_s (max d_s − μ'_s) / σ'_s over the images' largest cell
/// distances.
///
/// That finds what a part has and no other part has; it cannot find what a part *lacks* — a
/// weld without its bead is plain plate, which every part shows somewhere, and the other
/// parts without a bead match it exactly: such parts score *lowest* of all. So the score also
/// asks the other way round, how much of a typical other part is missing from this one
/// (`absences`), at two scales:
///
///     a(q, r) = the 0.9-quantile over the cells u of reference r of min over all cells v of q
///               of ‖g_r(u) − f_q(v)‖₂
///     a(q)    = median over the references r ≠ q of a(q, r)
///
/// — "a tenth of a typical part has no match anywhere on this one" — once on layer2's cells
/// as they are (a bead's width, a shape) and once on layer1's less their mean over the part's
/// own cells, channel by channel (a texture, a bead's ripples; the centring keeps light that
/// moves every cell of a part alike from counting as something lacking). Matching at any
/// place keeps the parts' different positions from counting; the quantile and the median
/// keep the references' own defects (the pool is not clean) from counting. The quantile is
/// estimated on a grid of at most 256 of a reference's cells; every cell of the part is
/// searched. Each is counted only where it is far beyond the bank's own: as a modified
/// z-score z = (a − median) / (1.4826 · MAD) over the bank, the image score gains
/// max(0, z − 3.5) per scale — the usual outlier cut for modified z-scores (Iglewicz and
/// Hoaglin), so parts that lack nothing keep the score they had.
///
/// Both compare cells, each free to find its match on a different part; a rim pushed in (a
/// dent) is a new arrangement of normal pieces, and each piece is matched. So the score also
/// lays the part's most alike other parts over it, whole, and counts what is left
/// (`AlignedResiduals`: the largest residual, standardised per place by the bank's), in the
/// same way: its modified z-score over the bank, beyond 3.5. No label is read.
public struct PatchDistances {
    /// The stages compared: layer1 and layer2 (a cell per 4 and 8 input pixels) — where small
    /// defects still own cells of their own (Docs/Pretraining.md measures them against layer3).
    public static let stages = [0, 1]
    /// At most this many bank images (spread evenly over the given ones): the cost grows with
    /// the bank times the images scored.
    public static let bankLimit = 1_000
    /// Where `absences` looks for what a part lacks: a stage (an index into `stages`), and
    /// whether each part's cells are first taken less their mean over the part.
    struct AbsenceScale: Equatable {
        let stage: Int
        let centred: Bool
    }
    /// layer2's cells as they are, which see a bead's width; and layer1's, centred, which see
    /// a texture — a bead's ripples on a part that is all plate — and tell it from plate more
    /// steadily from one pretext run to the next than layer2's (Docs/Pretraining.md measures
    /// each alone and both). Uncentred, layer1's cells counted a part lit differently as
    /// lacking the others' light.
    static let absenceScales = [AbsenceScale(stage: 1, centred: false), AbsenceScale(stage: 0, centred: true)]
    /// At most this many cells of each reference are matched (a grid, every k-th cell each
    /// way): enough to estimate a quantile, and the cost stays that of a layer2 comparison
    /// while the part's cells are all searched.
    static let absenceReferenceCellLimit = 256
    /// At most this many bank images (spread evenly) are the references a part is compared
    /// with for what it lacks: the median over them is steady long before the bank's size.
    static let absenceReferenceLimit = 64
    /// The share of a reference's cells allowed to have no match on the part (its own defect,
    /// a feature only some parts carry) before the part counts as lacking something.
    static let absenceQuantile: Float = 0.9
    /// How many robust standard deviations beyond the bank's median an absence or an aligned
    /// residual must lie to add to the score.
    public static let outlierThreshold: Float = 3.5

    let model: ResNet
    /// The network's input: what `distances` expects its images prepared for.
    public let info: CheckpointInfo
    /// Per stage: the bank's features.
    private let banks: [StageFeatures]
    /// Per stage: mean and standard deviation of the bank's cell distances and image scores.
    private var cellStatistics: [(mean: Float, sd: Float)] = []
    private var imageStatistics: [(mean: Float, sd: Float)] = []
    /// Each bank image's own result, against the others: computed once at init (it sets the
    /// standardisation) and given back when that image is scored.
    private var bankResults: [Result] = []
    /// Per scale of `absenceScales`, the references for `absences`: their bank positions and
    /// their sampled cells.
    private let absenceReferences: [AbsenceReferences]
    /// Per scale, median and robust standard deviation (1.4826 · MAD) of the bank's absences.
    private var absenceStatistics: [(median: Float, scale: Float)] = []
    /// The bank laid over each part, whole (`AlignedResiduals`), and the median and robust
    /// standard deviation of the bank's own residuals.
    private let aligned: AlignedResiduals
    private var residualStatistics: (median: Float, scale: Float) = (0, 1)
    /// The bank image index of each given bank image (nil where it was left out by the limit).
    private let bankIndex: [Int?]
    /// The bank position of each bank image by its pixels' hash, so an image that is one of
    /// them is recognised whatever file it was read from (`bankPosition(of:)`).
    private let positionByPixels: [Int: Int]

    /// One image's distances: per stage, the cell map (h × w); how much of a typical other
    /// part it lacks and what is left of it under its most alike parts, each as a modified
    /// z-score over the bank's; and the image score.
    public struct Result {
        public var score: Float
        public var stageMaps: [Image]
        /// Per scale of `absenceScales`, (a − median) / (1.4826 · MAD) of the bank's: beyond
        /// `outlierThreshold`, the part lacks what the others have.
        public var absences: [Float]
        /// (v − median) / (1.4826 · MAD) of the bank's (`AlignedResiduals`): beyond
        /// `outlierThreshold`, no other part laid over this one explains all of it.
        public var residual: Float
    }

    /// Builds the bank from `bankImages` (model input size, [0, 1]) and scores each bank image
    /// against the others to learn the standardisation.
    public init(bankImages: [Image], model: ResNet, info: CheckpointInfo) {
        self.model = model
        self.info = info
        let limit = Self.bankLimit
        let chosen: [Int] = bankImages.count <= limit
            ? Array(bankImages.indices)
            : (0..<limit).map { $0 * bankImages.count / limit }
        var index = [Int?](repeating: nil, count: bankImages.count)
        for (position, original) in chosen.enumerated() { index[original] = position }
        bankIndex = index
        var byPixels: [Int: Int] = [:]
        for original in bankImages.indices { byPixels[bankImages[original].pixels.hashValue] = original }
        positionByPixels = byPixels
        let chosenImages = chosen.map { bankImages[$0] }
        banks = Self.features(of: chosenImages, model: model, info: info)
        aligned = AlignedResiduals(bank: chosenImages)
        residualStatistics = Self.medianAndRobustSD(aligned.bankValues)
        let referencePositions = chosen.count <= Self.absenceReferenceLimit
            ? Array(chosen.indices)
            : (0..<Self.absenceReferenceLimit).map { $0 * chosen.count / Self.absenceReferenceLimit }
        let bankFeatures = banks
        absenceReferences = Self.absenceScales.map { scale in
            AbsenceReferences(of: bankFeatures[scale.stage], scale: scale, positions: referencePositions,
                              cellLimit: Self.absenceReferenceCellLimit)
        }
        // The standardisation: every bank image against the others.
        let raw = rawDistances(of: banks, excluding: Array(0..<chosen.count))
        for s in Self.stages.indices {
            cellStatistics.append(Self.meanAndSD(raw.flatMap { $0[s].pixels }))
            imageStatistics.append(Self.meanAndSD(raw.map { $0[s].pixels.max() ?? 0 }))
        }
        let absences = rawAbsences(of: banks, excluding: Array(0..<chosen.count))
        absenceStatistics = absenceReferences.indices.map { k in Self.medianAndRobustSD(absences.map { $0[k] }) }
        bankResults = raw.indices.map { result(raw[$0], absence: absences[$0], residual: aligned.bankValues[$0]) }
    }

    /// The distances of `images` (model input size, [0, 1]); `bankPositions[i]` is the index
    /// among the bank images given at init of an image that is one of them (its own cells are
    /// then not matched, and its result is the one init computed), or nil.
    public func distances(of images: [Image], bankPositions: [Int?]? = nil) -> [Result] {
        var results = [Result?](repeating: nil, count: images.count)
        var toCompute: [Int] = []
        for i in images.indices {
            if let position = bankPositions?[i], let bank = bankIndex[position] { results[i] = bankResults[bank] } else { toCompute.append(i) }
        }
        // All at once: each call lays every bank part over the parts at every shift.
        let residuals = aligned.values(of: toCompute.map { images[$0] })
        var start = 0
        while start < toCompute.count {
            let chunk = Array(toCompute[start..<min(start + 32, toCompute.count)])
            let features = Self.features(of: chunk.map { images[$0] }, model: model, info: info)
            let unmatched = chunk.map { _ in Int?.none }
            let absences = rawAbsences(of: features, excluding: unmatched)
            for (k, maps) in rawDistances(of: features, excluding: unmatched).enumerated() {
                results[chunk[k]] = result(maps, absence: absences[k], residual: residuals[start + k])
            }
            start += chunk.count
        }
        return results.map { $0! }
    }

    /// A result from its stage maps, raw absences and raw aligned residual: the score is Σ over
    /// stages of the largest cell distance, standardised, plus each absence's and the residual's
    /// modified z-scores beyond the threshold.
    private func result(_ maps: [Image], absence: [Float], residual: Float) -> Result {
        var score: Float = 0
        for s in Self.stages.indices { score += ((maps[s].pixels.max() ?? 0) - imageStatistics[s].mean) / imageStatistics[s].sd }
        let absenceZ = zip(absence, absenceStatistics).map { ($0 - $1.median) / $1.scale }
        let residualZ = (residual - residualStatistics.median) / residualStatistics.scale
        for z in absenceZ + [residualZ] { score += max(0, z - Self.outlierThreshold) }
        return Result(score: score, stageMaps: maps, absences: absenceZ, residual: residualZ)
    }

    /// The position among the bank images given at init of an image with exactly these
    /// pixels (at the model's input size), or nil: a part scored against a bank it belongs to
    /// must not be matched with itself.
    public func bankPosition(of image: Image) -> Int? { positionByPixels[image.pixels.hashValue] }

    /// One map per image at `size` × `size`: Σ over the stages of the standardised cell
    /// distances, each stage's map enlarged bilinearly.
    public func map(of result: Result, size: Int) -> Image {
        var sum = Image(width: size, height: size, channels: 1)
        for (s, stageMap) in result.stageMaps.enumerated() {
            let (mean, sd) = cellStatistics[s]
            let enlarged = stageMap.resized(width: size, height: size)
            for i in sum.pixels.indices { sum.pixels[i] += (enlarged.pixels[i] - mean) / sd }
        }
        return sum
    }

    // MARK: - Computing

    /// One stage's features of a set of images, laid out for one product per cell.
    private struct StageFeatures {
        var images: Int, channels: Int, height: Int, width: Int
        /// [cell][image][channel]
        var data: [Float]
        /// Squared norms, [cell][image].
        var norms: [Float]
        var cells: Int { height * width }

        init(images: Int, channels: Int, height: Int, width: Int, data: [Float]) {
            (self.images, self.channels, self.height, self.width, self.data) = (images, channels, height, width, data)
            norms = (0..<(height * width * images)).map { i in
                var sum: Float = 0
                for c in 0..<channels { let v = data[i * channels + c]; sum += v * v }
                return sum
            }
        }
    }

    private static func features(of images: [Image], model: ResNet, info: CheckpointInfo) -> [StageFeatures] {
        var out: [StageFeatures] = []
        var start = 0
        var perStage: [[FeatureMap]] = stages.map { _ in [] }
        while start < images.count {
            let slice = Array(images[start..<min(start + 32, images.count)])
            let batch = SupervisedTraining.batch(slice, labels: [Int](repeating: 0, count: slice.count), info: info)
            for (s, map) in model.features(batch.images, afterStages: stages).enumerated() { perStage[s].append(map) }
            start += 32
        }
        for maps in perStage {
            guard let first = maps.first else { continue }
            let (c, h, w) = (first.channels, first.height, first.width), cells = h * w
            var data = [Float](repeating: 0, count: cells * images.count * c)
            var imageOffset = 0
            for map in maps {
                // CNHW → [cell][image][channel]
                map.data.withUnsafeBufferPointer { source in
                    data.withUnsafeMutableBufferPointer { target in
                        for channel in 0..<c {
                            for n in 0..<map.batch {
                                let from = channel * map.channelStride + n * cells
                                for cell in 0..<cells {
                                    target[(cell * images.count + imageOffset + n) * c + channel] = source[from + cell]
                                }
                            }
                        }
                    }
                }
                imageOffset += map.batch
            }
            out.append(StageFeatures(images: images.count, channels: c, height: h, width: w, data: data))
        }
        return out
    }

    /// Per image, per stage, the cell map of nearest-neighbour distances (not standardised).
    /// `excluding[i]`: the bank image that image i is, or nil.
    private func rawDistances(of features: [StageFeatures], excluding: [Int?]) -> [[Image]] {
        let count = excluding.count
        var maps = [[Image]](repeating: [], count: count)
        for (s, query) in features.enumerated() {
            let bank = banks[s]
            precondition(query.channels == bank.channels && query.height == bank.height && query.width == bank.width,
                         "images of another size than the bank's")
            let (n, c, h, w) = (bank.images, bank.channels, bank.height, bank.width)
            var cellDistances = [[Float]](repeating: [Float](repeating: 0, count: h * w), count: count)
            var products = [Float](repeating: 0, count: count * n)
            var best = [Float](repeating: 0, count: count * n)
            // The neighbouring bank cell each minimum came from, so the winner's distance can
            // be computed exactly below.
            var bestCell = [Int](repeating: 0, count: count * n)
            for y in 0..<h {
                for x in 0..<w {
                    let cell = y * w + x
                    for i in best.indices { best[i] = .infinity }
                    for y2 in max(0, y - 1)...min(h - 1, y + 1) {
                        for x2 in max(0, x - 1)...min(w - 1, x + 1) {
                            let other = y2 * w + x2
                            query.data.withUnsafeBufferPointer { q in
                                bank.data.withUnsafeBufferPointer { b in
                                    products.withUnsafeMutableBufferPointer { p in
                                        BLAS.sgemm(.none, .transposed, m: count, n: n, k: c, alpha: 1,
                                                   a: q.baseAddress! + cell * count * c, lda: c,
                                                   b: b.baseAddress! + other * n * c, ldb: c,
                                                   beta: 0, c: p.baseAddress!, ldc: n)
                                    }
                                }
                            }
                            // ‖q − b‖² = ‖q‖² + ‖b‖² − 2 q·b, the query's norm added after the minimum.
                            for j in 0..<count {
                                for i in 0..<n {
                                    let d = bank.norms[other * n + i] - 2 * products[j * n + i]
                                    if d < best[j * n + i] {
                                        best[j * n + i] = d
                                        bestCell[j * n + i] = other
                                    }
                                }
                            }
                        }
                    }
                    for j in 0..<count {
                        var nearest = -1
                        for i in 0..<n where i != excluding[j] && (nearest < 0 || best[j * n + i] < best[j * n + nearest]) { nearest = i }
                        guard nearest >= 0, best[j * n + nearest].isFinite else { continue }
                        // The expansion above loses to rounding what the two norms share —
                        // about ‖q‖ · 3·10⁻⁴ after the square root, however alike the two cells
                        // are; the winner's distance is taken from its difference instead.
                        let from = bestCell[j * n + nearest]
                        var squared: Float = 0
                        query.data.withUnsafeBufferPointer { q in
                            bank.data.withUnsafeBufferPointer { b in
                                let qBase = (cell * count + j) * c, bBase = (from * n + nearest) * c
                                for k in 0..<c {
                                    let d = q[qBase + k] - b[bBase + k]
                                    squared += d * d
                                }
                            }
                        }
                        cellDistances[j][cell] = squared.squareRoot()
                    }
                }
            }
            for j in 0..<count { maps[j].append(Image(width: w, height: h, channels: 1, pixels: cellDistances[j])) }
        }
        return maps
    }

    /// The cells one scale of `absences` matches, gathered once: per reference, its sampled
    /// cells' features ([reference][cell][channel], centred if the scale says so) and squared
    /// norms.
    private struct AbsenceReferences {
        let scale: AbsenceScale
        let positions: [Int]
        let cells: Int, channels: Int
        let data: [Float]
        let norms: [Float]
        /// The cells of the stage's map, every one of which is searched on a part.
        let partCells: Int

        init(of bank: StageFeatures, scale: AbsenceScale, positions: [Int], cellLimit: Int) {
            let sampled = PatchDistances.grid(height: bank.height, width: bank.width, limit: cellLimit)
            let c = bank.channels
            var data = [Float](), norms = [Float]()
            data.reserveCapacity(positions.count * sampled.count * c)
            for r in positions {
                let (cells, cellNorms) = PatchDistances.cells(bank.data, cells: bank.cells, images: bank.images,
                                                              channels: c, image: r, centred: scale.centred)
                for cell in sampled {
                    data += cells[(cell * c)..<((cell + 1) * c)]
                    norms.append(cellNorms[cell])
                }
            }
            (self.positions, self.cells, self.channels, self.data, self.norms) = (positions, sampled.count, c, data, norms)
            (self.scale, self.partCells) = (scale, bank.cells)
        }
    }

    /// The cells (y · width + x) of a grid every k-th cell each way, k the smallest step that
    /// leaves at most `limit`, centred on the map.
    static func grid(height: Int, width: Int, limit: Int) -> [Int] {
        var step = 1
        while ((height + step - 1) / step) * ((width + step - 1) / step) > limit { step += 1 }
        let (rows, columns) = ((height + step - 1) / step, (width + step - 1) / step)
        let (top, left) = ((height - 1 - (rows - 1) * step) / 2, (width - 1 - (columns - 1) * step) / 2)
        return (0..<rows).flatMap { y in (0..<columns).map { x in (top + y * step) * width + left + x * step } }
    }

    /// One image's cells ([cell][channel]) and their squared norms; `centred`: less their mean
    /// over the image's cells, per channel — what a part lacks is then what finds no match
    /// among its cells *as they differ from the part's own usual*: a part lit brighter moves
    /// every cell alike, and lacks nothing by that. (Dividing by the part's spread as well took
    /// the missing seams with it: a part of plain plate has little spread, and scaled up its
    /// plate's grain covers the bead's place; Docs/Pretraining.md.)
    /// `data` is laid out [cell][image][channel], as `StageFeatures` holds it.
    static func cells(_ data: [Float], cells count: Int, images n: Int, channels c: Int,
                      image j: Int, centred: Bool) -> (cells: [Float], norms: [Float]) {
        var out = [Float](repeating: 0, count: count * c)
        data.withUnsafeBufferPointer { f in
            for k in 0..<c {
                var mean: Float = 0
                if centred {
                    for cell in 0..<count { mean += f[(cell * n + j) * c + k] }
                    mean /= Float(count)
                }
                for cell in 0..<count { out[cell * c + k] = f[(cell * n + j) * c + k] - mean }
            }
        }
        let norms = (0..<count).map { cell in out[(cell * c)..<((cell + 1) * c)].reduce(0) { $0 + $1 * $1 } }
        return (out, norms)
    }

    /// Per image, per scale of `absenceScales`, the raw absence a(q) (see the type's comment)
    /// against the references; `features` per stage; `excluding[i]`: the bank image that image
    /// i is, or nil.
    private func rawAbsences(of features: [StageFeatures], excluding: [Int?]) -> [[Float]] {
        var absences = [[Float]](repeating: [], count: excluding.count)
        for references in absenceReferences {
            let query = features[references.scale.stage]
            precondition(query.channels == references.channels && query.cells == references.partCells,
                         "images of another size than the bank's")
            let (referenceCells, partCells, c) = (references.cells, query.cells, references.channels)
            var products = [Float](repeating: 0, count: referenceCells * partCells)
            var nearest = [Float](repeating: 0, count: referenceCells)
            for j in excluding.indices {
                // The part's cells and squared norms, contiguous: the inner minimum reads the
                // norms for every reference cell of every reference.
                let (part, partNorms) = Self.cells(query.data, cells: partCells, images: query.images, channels: c,
                                                   image: j, centred: references.scale.centred)
                var perReference: [Float] = []
                for (k, r) in references.positions.enumerated() where r != excluding[j] {
                    // products[u][v] = g_r(u) · f_q(v): every sampled reference cell against every part cell.
                    part.withUnsafeBufferPointer { q in
                        references.data.withUnsafeBufferPointer { g in
                            products.withUnsafeMutableBufferPointer { p in
                                BLAS.sgemm(.none, .transposed, m: referenceCells, n: partCells, k: c, alpha: 1,
                                           a: g.baseAddress! + k * referenceCells * c, lda: c,
                                           b: q.baseAddress!, ldb: c,
                                           beta: 0, c: p.baseAddress!, ldc: partCells)
                            }
                        }
                    }
                    products.withUnsafeBufferPointer { p in
                        partNorms.withUnsafeBufferPointer { f in
                            for u in 0..<referenceCells {
                                // ‖g − f‖² = ‖g‖² + ‖f‖² − 2 g·f; rounding may take a near-zero below zero.
                                let row = UnsafeBufferPointer(rebasing: p[(u * partCells)...].prefix(partCells))
                                nearest[u] = max(0, Self.minimum(of: f, minusTwice: row) + references.norms[k * referenceCells + u]).squareRoot()
                            }
                        }
                    }
                    perReference.append(Self.quantile(nearest, Self.absenceQuantile))
                }
                absences[j].append(perReference.isEmpty ? 0 : Self.quantile(perReference, 0.5))
            }
        }
        return absences
    }

    /// min over i of a[i] − 2 · b[i], eight lanes at a time: the compiler leaves a scalar
    /// minimum unvectorised (reordering it would change which NaN wins), and the absence runs
    /// it over every reference cell against every part cell.
    static func minimum(of a: UnsafeBufferPointer<Float>, minusTwice b: UnsafeBufferPointer<Float>) -> Float {
        let count = min(a.count, b.count), lanes = count / 8 * 8
        var best8 = SIMD8<Float>(repeating: .infinity)
        var i = 0
        while i < lanes {
            let a8 = SIMD8<Float>(a[i..<(i + 8)]), b8 = SIMD8<Float>(b[i..<(i + 8)])
            best8 = pointwiseMin(best8, a8 - 2 * b8)
            i += 8
        }
        var best = best8.min()
        while i < count { best = min(best, a[i] - 2 * b[i]); i += 1 }
        return best
    }

    /// The q-quantile of `values`, interpolated linearly between the two nearest order statistics.
    static func quantile(_ values: [Float], _ q: Float) -> Float {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let position = q * Float(sorted.count - 1)
        let below = Int(position.rounded(.down)), above = min(below + 1, sorted.count - 1)
        return sorted[below] + (sorted[above] - sorted[below]) * (position - Float(below))
    }

    /// The median and 1.4826 · the median absolute deviation (the standard deviation, were the
    /// values normal) — unlike the mean and SD, not moved by the pool's defective parts. A scale
    /// of zero (every value alike) becomes a thousandth of the median, so a tiny bank does not
    /// make every difference infinite.
    static func medianAndRobustSD(_ values: [Float]) -> (median: Float, scale: Float) {
        guard !values.isEmpty else { return (0, 1) }
        let median = quantile(values, 0.5)
        let deviation = quantile(values.map { abs($0 - median) }, 0.5)
        return (median, max(1.4826 * deviation, 1e-3 * abs(median), 1e-6))
    }

    static func meanAndSD(_ values: [Float]) -> (mean: Float, sd: Float) {
        guard !values.isEmpty else { return (0, 1) }
        let mean = values.reduce(0, +) / Float(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count)
        return (mean, max(variance.squareRoot(), 1e-6))
    }
}
