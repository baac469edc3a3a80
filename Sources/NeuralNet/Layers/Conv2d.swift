import SeededRandom

/// 2-D convolution, square kernel, as im2col + one GEMM over the whole batch.
///
///     y[o, n, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] · x[c, n, s·i − p + u, s·j − p + v]
///
/// with x zero outside the image. Packing: cols[(c·k + u)·k + v, (n·H' + i)·W' + j] holds the
/// input sample that weight (c, u, v) meets at output (n, i, j), so Y = W · cols with
/// W viewed as [C_out, C_in·k·k] (PyTorch's weight layout, unchanged). Backward:
/// ∂W = ∂Y · colsᵀ, ∂cols = Wᵀ · ∂Y, then ∂x is ∂cols scattered back (col2im).
public final class Conv2d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let weight: Parameter
    public let bias: Parameter?
    public var isTraining = false
    public var localParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    private var input: FeatureMap?
    private var columns: [Float] = []
    /// The inference path's output storage, handed out again once the caller released it.
    private var inferenceOutput: [Float] = []
    private var trainingOutput: [Float] = []
    private var inputGradient: [Float] = []
    private var columnGradient: [Float] = []

    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = false, random: inout SplitMix64) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        // Kaiming normal, fan-out, for ReLU networks (torchvision's ResNet initialisation).
        let std = (2 / Float(outChannels * kernel * kernel)).squareRoot()
        weight = Parameter(shape: [outChannels, inChannels, kernel, kernel],
                           value: (0..<(outChannels * inChannels * kernel * kernel)).map { _ in random.normal() * std })
        self.bias = bias ? Parameter(shape: [outChannels], filledWith: 0) : nil
    }

    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
    }

    /// Whether the input already is the column matrix (1×1, stride 1, no padding).
    private var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }

    /// Y[C_out, N·H'·W'] = W · cols into `y`: packs the input (im2col) unless it already is
    /// the column matrix. Both the training and the inference forward use it.
    private func multiply(_ x: FeatureMap, outHeight oh: Int, outWidth ow: Int, into y: UnsafeMutablePointer<Float>) {
        let columnsWide = x.batch * oh * ow
        let depth = inChannels * kernel * kernel
        if !isPointwise { pack(x, outHeight: oh, outWidth: ow) }
        weight.value.withUnsafeBufferPointer { w in
            (isPointwise ? x.data : columns).withUnsafeBufferPointer { cols in
                BLAS.sgemm(.none, .none, m: outChannels, n: columnsWide, k: depth, alpha: 1,
                           a: w.baseAddress!, lda: depth, b: cols.baseAddress!, ldb: columnsWide,
                           beta: 0, c: y, ldc: columnsWide)
            }
        }
    }

    public func callAsFunction(_ x: FeatureMap) -> FeatureMap { forward(x) }

    /// The convolution; in training mode the input is kept for `backward`.
    public func forward(_ x: FeatureMap) -> FeatureMap {
        precondition(x.channels == inChannels, "conv expects \(inChannels) channels, got \(x.channels)")
        let (oh, ow) = outputSize(height: x.height, width: x.width)
        let columnsWide = x.batch * oh * ow
        var y = FeatureMap(channels: outChannels, batch: x.batch, height: oh, width: ow,
                           data: takeBuffer(&trainingOutput, count: outChannels * columnsWide))
        y.data.withUnsafeMutableBufferPointer { out in
            multiply(x, outHeight: oh, outWidth: ow, into: out.baseAddress!)
            if let bias {
                for o in 0..<outChannels {
                    let b = bias.value[o]
                    for i in 0..<columnsWide { out[o * columnsWide + i] += b }
                }
            }
        }
        input = isTraining ? x : nil
        trainingOutput = y.data
        return y
    }

    /// Inference with a fused epilogue, one pass over the GEMM output per channel o:
    ///     y = W ∗ x;   y ← y · a[o] + c[o]  (batch norm folded: a = γ/√(σ²+ε), c = β − μ·a);
    ///     y ← y + residual;   y ← max(y, 0)
    /// Each step is optional. The output buffer is reused across calls.
    public func inferenceForward(_ x: FeatureMap, batchNorm: BatchNorm2d?, residual: FeatureMap? = nil,
                                 relu: Bool) -> FeatureMap {
        precondition(x.channels == inChannels, "conv expects \(inChannels) channels, got \(x.channels)")
        let (oh, ow) = outputSize(height: x.height, width: x.width)
        let columnsWide = x.batch * oh * ow
        var out = inferenceOutput
        inferenceOutput = []
        if out.count != outChannels * columnsWide {
            out = [Float](unsafeUninitializedCapacity: outChannels * columnsWide) { _, count in count = outChannels * columnsWide }
        }
        let folded = batchNorm?.inferenceScaleShift()
        do {
            out.withUnsafeMutableBufferPointer { target in
                multiply(x, outHeight: oh, outWidth: ow, into: target.baseAddress!)
                let y = target.baseAddress!
                for o in 0..<outChannels {
                    var a: Float = 1, c: Float = bias?.value[o] ?? 0
                    if let folded {
                        a = folded.scale[o]
                        c = c * a + folded.shift[o]
                    }
                    let row = y + o * columnsWide
                    if let residual {
                        residual.data.withUnsafeBufferPointer { r in
                            let add = r.baseAddress! + o * columnsWide
                            if relu {
                                for i in 0..<columnsWide { row[i] = max(row[i] * a + c + add[i], 0) }
                            } else {
                                for i in 0..<columnsWide { row[i] = row[i] * a + c + add[i] }
                            }
                        }
                    } else if relu {
                        for i in 0..<columnsWide { row[i] = max(row[i] * a + c, 0) }
                    } else if a != 1 || c != 0 {
                        for i in 0..<columnsWide { row[i] = row[i] * a + c }
                    }
                }
            }
        }
        let result = FeatureMap(channels: outChannels, batch: x.batch, height: oh, width: ow, data: out)
        inferenceOutput = out
        return result
    }

    /// Accumulates ∂W (and ∂b) and returns ∂x, plus `adding` when given (a residual branch's
    /// gradient joins here without a separate pass). Releases the cached input.
    public func backward(_ dy: FeatureMap, adding other: FeatureMap? = nil) -> FeatureMap {
        guard let x = input else { preconditionFailure("conv backward without a training forward") }
        input = nil
        let (oh, ow) = (dy.height, dy.width)
        let columnsWide = x.batch * oh * ow
        let depth = inChannels * kernel * kernel
        if let bias {
            dy.data.withUnsafeBufferPointer { g in
                for o in 0..<outChannels {
                    var sum: Float = 0
                    for i in 0..<columnsWide { sum += g[o * columnsWide + i] }
                    bias.gradient[o] += sum
                }
            }
        }
        var dx = FeatureMap(channels: inChannels, batch: x.batch, height: x.height, width: x.width,
                            data: takeBuffer(&inputGradient, count: x.data.count))
        dx.data.withUnsafeMutableBufferPointer { d in
            if let other {
                other.data.withUnsafeBufferPointer { o in d.baseAddress!.update(from: o.baseAddress!, count: d.count) }
            } else if !isPointwise {
                d.update(repeating: 0)
            }
        }
        if !isPointwise { pack(x, outHeight: oh, outWidth: ow) }
        var dColumns = isPointwise ? [] : takeBuffer(&columnGradient, count: depth * columnsWide)
        dy.data.withUnsafeBufferPointer { g in
            weight.gradient.withUnsafeMutableBufferPointer { dw in
                let source = isPointwise ? x.data : columns
                source.withUnsafeBufferPointer { cols in
                    // ∂W[C_out, K] += ∂Y[C_out, NHW] · cols[K, NHW]ᵀ
                    BLAS.sgemm(.none, .transposed, m: outChannels, n: depth, k: columnsWide, alpha: 1,
                               a: g.baseAddress!, lda: columnsWide, b: cols.baseAddress!, ldb: columnsWide,
                               beta: 1, c: dw.baseAddress!, ldc: depth)
                }
            }
            weight.value.withUnsafeBufferPointer { w in
                // ∂cols[K, NHW] = W[C_out, K]ᵀ · ∂Y[C_out, NHW]; pointwise: straight into ∂x.
                if isPointwise {
                    dx.data.withUnsafeMutableBufferPointer { d in
                        BLAS.sgemm(.transposed, .none, m: depth, n: columnsWide, k: outChannels, alpha: 1,
                                   a: w.baseAddress!, lda: depth, b: g.baseAddress!, ldb: columnsWide,
                                   beta: other == nil ? 0 : 1, c: d.baseAddress!, ldc: columnsWide)
                    }
                } else {
                    dColumns.withUnsafeMutableBufferPointer { d in
                        BLAS.sgemm(.transposed, .none, m: depth, n: columnsWide, k: outChannels, alpha: 1,
                                   a: w.baseAddress!, lda: depth, b: g.baseAddress!, ldb: columnsWide,
                                   beta: 0, c: d.baseAddress!, ldc: columnsWide)
                    }
                }
            }
        }
        if !isPointwise {
            scatter(dColumns, into: &dx, outHeight: oh, outWidth: ow)
            columnGradient = dColumns
        }
        inputGradient = dx.data
        return dx
    }

    /// For output column j reading input column j·s − p + v: the outputs whose input column
    /// lies inside the image, j ∈ [first, last).
    @inline(__always)
    private func validOutputs(count: Int, inputSize: Int, offset v: Int) -> (first: Int, last: Int) {
        let s = stride, p = padding
        // j·s − p + v ≥ 0  ⇔  j ≥ ⌈(p − v) / s⌉;   j·s − p + v < size  ⇔  j < ⌈(size + p − v) / s⌉
        let first = max(0, (p - v + s - 1) / s)
        let last = min(count, max(0, (inputSize + p - v + s - 1) / s))
        return (min(first, last), last)
    }

    /// im2col into `columns` (reused between calls). The valid column range of each output
    /// row is computed once, so the inner loops are plain copies (contiguous at stride 1).
    private func pack(_ x: FeatureMap, outHeight oh: Int, outWidth ow: Int) {
        let wide = x.batch * oh * ow
        let needed = inChannels * kernel * kernel * wide
        if columns.count < needed { columns = [Float](repeating: 0, count: needed) }
        let (h, w, k, s, p, n) = (x.height, x.width, kernel, stride, padding, x.batch)
        x.data.withUnsafeBufferPointer { sourceBuffer in
            columns.withUnsafeMutableBufferPointer { columnBuffer in
                let source = sourceBuffer.baseAddress!, cols = columnBuffer.baseAddress!
                for c in 0..<inChannels {
                    for u in 0..<k {
                        let rows = validOutputs(count: oh, inputSize: h, offset: u)
                        for v in 0..<k {
                            let (first, last) = validOutputs(count: ow, inputSize: w, offset: v)
                            var target = cols + ((c * k + u) * k + v) * wide
                            for image in 0..<n {
                                let plane = source + (c * n + image) * h * w
                                for i in 0..<oh {
                                    if i < rows.first || i >= rows.last {
                                        target.update(repeating: 0, count: ow)
                                    } else {
                                        let row = plane + (i * s - p + u) * w - p + v
                                        if first > 0 { target.update(repeating: 0, count: first) }
                                        if s == 1 {
                                            (target + first).update(from: row + first, count: last - first)
                                        } else {
                                            for j in first..<last { target[j] = row[j * s] }
                                        }
                                        if last < ow { (target + last).update(repeating: 0, count: ow - last) }
                                    }
                                    target += ow
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// col2im: adds each column entry back onto the input sample it came from.
    private func scatter(_ dColumns: [Float], into dx: inout FeatureMap, outHeight oh: Int, outWidth ow: Int) {
        let wide = dx.batch * oh * ow
        let (h, w, k, s, p, n) = (dx.height, dx.width, kernel, stride, padding, dx.batch)
        dColumns.withUnsafeBufferPointer { columnBuffer in
            dx.data.withUnsafeMutableBufferPointer { targetBuffer in
                let cols = columnBuffer.baseAddress!, target = targetBuffer.baseAddress!
                for c in 0..<inChannels {
                    for u in 0..<k {
                        let rows = validOutputs(count: oh, inputSize: h, offset: u)
                        for v in 0..<k {
                            let (first, last) = validOutputs(count: ow, inputSize: w, offset: v)
                            var source = cols + ((c * k + u) * k + v) * wide
                            for image in 0..<n {
                                let plane = target + (c * n + image) * h * w
                                for i in 0..<oh {
                                    if i >= rows.first && i < rows.last {
                                        let row = plane + (i * s - p + u) * w - p + v
                                        for j in first..<last { row[j * s] += source[j] }
                                    }
                                    source += ow
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
