import CBLAS

/// The one door to OpenBLAS. Every matrix product of the network goes through here, so the
/// thread policy and the calling convention (row-major, Float32) live in one place.
public enum BLAS {
    /// Whether a matrix operand is used as stored or transposed.
    public enum Transpose: Sendable {
        case none
        case transposed

        @usableFromInline var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
    }

    /// The number of threads OpenBLAS uses for one call. OpenBLAS starts with one per core;
    /// the product sets it once and never runs its own threads on the same product.
    public static var threadCount: Int {
        get { Int(nc_blas_thread_count()) }
        set { nc_blas_set_thread_count(Int32(max(newValue, 1))) }
    }

    /// The kernel family OpenBLAS picked for this CPU at run time (e.g. "SkylakeX" for AVX-512).
    public static var coreName: String { String(cString: nc_blas_core_name()) }

    /// C ← α · op(A) · op(B) + β · C, row-major, where op(A) is M × K, op(B) is K × N and C
    /// is M × N. `lda`, `ldb`, `ldc` are the row strides of the matrices as stored.
    @inlinable
    public static func sgemm(_ transA: Transpose, _ transB: Transpose,
                             m: Int, n: Int, k: Int,
                             alpha: Float, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C ← α · A · B + β · C for dense row-major arrays (A: M × K, B: K × N, C: M × N).
    public static func sgemm(m: Int, n: Int, k: Int, alpha: Float = 1, a: [Float], b: [Float],
                             beta: Float = 0, c: inout [Float]) {
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "sgemm operand too small")
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(.none, .none, m: m, n: n, k: k, alpha: alpha, a: pa.baseAddress!, lda: k,
                          b: pb.baseAddress!, ldb: n, beta: beta, c: pc.baseAddress!, ldc: n)
                }
            }
        }
    }
}
