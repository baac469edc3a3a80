import Imaging
import NeuralNet
import SyntheticParts
#if canImport(Glibc)
import Glibc
#endif

/// `nearcaipi bench`: the speed figures of the parts that exist, each against what bounds it.
enum BenchCommand: Command {
    static let name = "bench"
    static let summary = "measure sgemm peak and image pipeline speed on this machine (text or --json)"
    static let help = """
    Usage: nearcaipi bench [--json] [--seconds S]

    Measures, on this machine:
      - cblas_sgemm GFLOP/s for a convolution-shaped product (M=64, K=576, N=12544: a 3×3
        convolution of 64 channels over 16 images of 28×28), with 1 thread and with all cores;
        this is the peak the network's convolutions are measured against;
      - PNG decode of a 128×128 RGB image, and area-averaging resize of a 1600×1200 RGB image
        (the paper's welding camera) to 128×128.

    Options:
      --json        print one JSON object instead of the table
      --seconds S   minimum time per measurement, 0.1-10 (default 0.5)
    """
    static let options: Set<String> = ["--seconds"]
    static let flags: Set<String> = ["--json"]

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.positionals(exactly: [])
        guard let seconds = Double(arguments.string("--seconds") ?? "0.5"), (0.1...10).contains(seconds) else {
            throw UsageError("option '--seconds' must be a number between 0.1 and 10")
        }
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let allThreads = BLAS.threadCount

        let (m, k, n) = (64, 576, 12544)
        let a = (0..<(m * k)).map { Float(($0 * 7) % 13) / 13 - 0.5 }
        let b = (0..<(k * n)).map { Float(($0 * 5) % 11) / 11 - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        let flops = 2.0 * Double(m * n * k)
        BLAS.threadCount = 1
        let oneThread = flops / measure(seconds: seconds) { BLAS.sgemm(m: m, n: n, k: k, a: a, b: b, c: &c) } / 1e9
        BLAS.threadCount = allThreads
        let threaded = flops / measure(seconds: seconds) { BLAS.sgemm(m: m, n: n, k: k, a: a, b: b, c: &c) } / 1e9

        let part = PartFamily.weld.makePart(index: 0, seed: 1, size: 128)
        let png = try ImageFile.encodePNG(part.image)
        let decodeSeconds = measure(seconds: seconds) { _ = try? ImageFile.decode(png, name: "bench") }
        let camera = PartFamily.weld.makePart(index: 0, seed: 1, size: 128).image
            .resized(width: 1600, height: 1200)
        let resizeSeconds = measure(seconds: seconds) { _ = camera.areaResized(width: 128, height: 128) }

        if arguments.flag("--json") {
            print("""
            {"machine": {"cores": \(cores), "blas_core": "\(BLAS.coreName)", "blas_threads": \(allThreads)}, \
            "sgemm_gflops": \(rounded(threaded)), "sgemm_gflops_1_thread": \(rounded(oneThread)), \
            "imaging": {"png_decode_128_rgb_per_s": \(rounded(1 / decodeSeconds)), \
            "area_resize_1600x1200_to_128_ms": \(rounded(resizeSeconds * 1000))}}
            """)
        } else {
            print("machine: \(cores) cores, OpenBLAS core \(BLAS.coreName), \(allThreads) BLAS threads")
            print("sgemm 64x576 · 576x12544      1 thread  \(rounded(oneThread)) GFLOP/s")
            print("sgemm 64x576 · 576x12544    \(allThreads) threads  \(rounded(threaded)) GFLOP/s")
            print("PNG decode 128x128 RGB              \(rounded(1 / decodeSeconds)) images/s")
            print("area resize 1600x1200 RGB → 128      \(rounded(resizeSeconds * 1000)) ms")
        }
    }

    /// Seconds per call of `body`, the best of several timed batches of at least `seconds`/5.
    static func measure(seconds: Double, _ body: () -> Void) -> Double {
        body()  // warm-up: first-touch of buffers, thread start-up
        var best = Double.infinity
        let start = now()
        repeat {
            var calls = 0
            let batchStart = now()
            repeat {
                body()
                calls += 1
            } while now() - batchStart < seconds / 5
            best = min(best, (now() - batchStart) / Double(calls))
        } while now() - start < seconds
        return best
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    static func rounded(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())) : String(Double(Int(value * 100)) / 100)
    }
}
