import NeuralNet
import Testing

@Suite struct BLASTests {
    /// The straightforward triple loop, the reference for sgemm.
    func naive(m: Int, n: Int, k: Int, _ a: [Float], _ b: [Float]) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { c[i * n + j] += a[i * k + p] * b[p * n + j] } } }
        return c
    }

    @Test func sgemmMatchesTheDefinition() {
        let (m, n, k) = (5, 7, 3)
        let a = (0..<(m * k)).map { Float($0 % 5) - 2 }
        let b = (0..<(k * n)).map { Float($0 % 7) * 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        BLAS.sgemm(m: m, n: n, k: k, a: a, b: b, c: &c)
        #expect(c == naive(m: m, n: n, k: k, a, b))
    }

    @Test func transposesAlphaAndBeta() {
        // C = 2·Aᵀ·B + 1·C with A stored K × M.
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // K=2, M=3 → Aᵀ is 3 × 2
        let b: [Float] = [1, 0, 0, 1]          // 2 × 2 identity
        var c: [Float] = [1, 1, 1, 1, 1, 1]
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(.transposed, .none, m: 3, n: 2, k: 2, alpha: 2, a: pa.baseAddress!, lda: 3,
                               b: pb.baseAddress!, ldb: 2, beta: 1, c: pc.baseAddress!, ldc: 2)
                }
            }
        }
        #expect(c == [3, 9, 5, 11, 7, 13])
    }

    @Test func threadCountCanBeSet() {
        let before = BLAS.threadCount
        BLAS.threadCount = 1
        #expect(BLAS.threadCount == 1)
        BLAS.threadCount = before
        #expect(BLAS.threadCount == before)
        #expect(!BLAS.coreName.isEmpty)
    }
}
