import Explanations
import Foundation
import Imaging
import InspectorUI
import NearCAIPI
import NeuralNet
import SyntheticParts
#if canImport(Glibc)
import Glibc
#endif

/// `nearcaipi bench`: the speed figures of the parts that exist, each against what bounds it.
enum BenchCommand: Command {
    static let name = "bench"
    static let summary = "measure sgemm peak and image pipeline speed on this machine (text or --json)"
    static let discussion = """
    Measures, on this machine, with the backend chosen (--backend; oneDNN unless told), and
    names oneDNN's implementation of every convolution shape (e.g. brgconv:avx512_core):
      - cblas_sgemm GFLOP/s for a convolution-shaped product (M=64, K=576, N=12544: a 3×3
        convolution of 64 channels over 16 images of 28×28), with 1 thread and with all cores;
        this is the peak the network's convolutions are measured against;
      - PNG decode of a 128×128 RGB image, and area-averaging resize of a 1600×1200 RGB image
        (the paper's welding camera) to 128×128;
      - for the default model resnet18-w4 at 128×128 and the paper's resnet18 at 224×224 (RGB,
        2 classes): training images/s (batch 16, SGD with momentum, forward + backward + step),
        inference images/s (batch 32), and the GFLOP/s those rates mean (a training step counts
        three forward passes of work); the time of one 1000-mask InvRISE heatmap as the screens
        make it (default fill, batches of 32 masked images, no early stop); the peak resident memory after training resnet18-w4 at batch 32;
      - the sixel encoder on a 256×256 heatmap overlay: time, bytes and PSNR (decoded by
        libsixel's sixel2png), beside libsixel's img2sixel on the same PNG (a whole process);
      - with --workspace: the labelling screens on a copy of that workspace, on a
        pseudo-terminal of 160×48 cells, in each graphics mode: key press to redraw (median and
        95th percentile, with the heatmaps ready, while they compute, and while a round
        retrains as the heatmaps compute again — the two workers sharing the cores) and Enter on an
        answered query to the next query drawn with its precomputed heatmap.
    """

    static let modelChoices: [String: (String, ResNetConfiguration)] = [
        "resnet18-w4": ("resnet18-w4@128", .resnet18w4()),
        "resnet18": ("resnet18@224", .resnet18()),
    ]

    static let json = Flag(name: "--json", help: "print one JSON object instead of the table")
    static let seconds = Option<Double>(name: "--seconds", placeholder: "S", help: "minimum time per measurement",
                                        format: .number(.between(0.1, 10)), default: 0.5)
    static let models = Option<[String]>(
        name: "--models", placeholder: "LIST", help: "comma-separated models to measure: resnet18-w4, resnet18, or none",
        format: ValueFormat(describe: { $0.joined(separator: ",") }) { (text) throws(Refusal) in
            let names = text.split(separator: ",").map(String.init)
            for name in names where name != "none" && modelChoices[name] == nil {
                throw Refusal("takes resnet18-w4, resnet18 or none; got '\(name)'")
            }
            return names
        },
        default: ["resnet18-w4", "resnet18"])
    static let workspace = Option<String?>(name: "--workspace", placeholder: "PATH",
                                           help: "a trained workspace to time the labelling screens on (left unchanged)",
                                           format: .text)
    static let parameters: [any Parameter] = [json, seconds, models, workspace]

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.positionals([])
        let seconds = try arguments[Self.seconds]
        let modelNames = try arguments[Self.models]
        let chosen = modelNames.compactMap { modelChoices[$0] }
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

        // Memory first, on a fresh heap: train resnet18-w4 at batch 32.
        var peakMegabytes: Double? = nil
        if modelNames.contains("resnet18-w4") {
            _ = measureTraining(.resnet18w4(), batch: 32, seconds: 0)
            peakMegabytes = peakResidentMegabytes()
        }
        let sixel = try InterfaceMeasurements.sixel(seconds: seconds)
        let screens = try arguments[workspace].map { try InterfaceMeasurements.screens(workspacePath: $0) } ?? []
        func milliseconds(_ value: Double?) -> String { value.map { rounded($0 * 1000) } ?? "null" }
        func optional(_ value: Double?) -> String { value.map(rounded) ?? "null" }

        let models = chosen.map { (name: String, configuration: ResNetConfiguration) in
                (name, measureTraining(configuration, batch: 16, seconds: seconds),
                 measureInference(configuration, batch: 32, seconds: seconds),
                 (heatmaps: measureInvRISE(configuration, precision: .heatmaps),
                  float32: InferencePrecision.heatmaps.effective(on: .default) == .float32
                      ? nil : measureInvRISE(configuration, precision: .float32)))
            }

        let backend = Backend.default
        let implementations = chosen.map { name, configuration in
            (name, convolutionImplementations(configuration))
        }
        if arguments[json] {
            let report = BenchReport(
                backend: backend.rawValue, onednn_version: DNNL.version,
                machine: .init(cores: cores, blas_core: BLAS.coreName, blas_threads: allThreads, openmp_idle_threads: DNNL.waitPolicy),
                sgemm_gflops: number(threaded), sgemm_gflops_1_thread: number(oneThread),
                imaging: .init(png_decode_128_rgb_per_s: number(1 / decodeSeconds), area_resize_1600x1200_to_128_ms: number(resizeSeconds * 1000)),
                sixel_256_overlay: sixel,
                screens: screens.map(BenchReport.Screen.init),
                models: Dictionary(uniqueKeysWithValues: zip(models, implementations).map { model, chosenKernels in
                    let (name, train, infer, invrise) = model
                    return (name, BenchReport.Model(train_img_s: number(train.imagesPerSecond), train_gflops: number(train.gflops),
                                                     infer_img_s: number(infer.imagesPerSecond), infer_gflops: number(infer.gflops),
                                                     invrise_1000_s: number(invrise.heatmaps),
                                                     invrise_1000_float32_s: invrise.float32.map(number),
                                                     heatmap_precision: InferencePrecision.heatmaps.effective(on: backend).rawValue,
                                                     onednn_convolutions: Dictionary(chosenKernels.1, uniquingKeysWith: { first, _ in first })))
                }),
                peakResidentMegabytes: peakMegabytes.map(number))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            // One line: the comparison script reads the last line of the output.
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("machine: \(cores) cores, OpenBLAS core \(BLAS.coreName), \(allThreads) BLAS threads")
            print("backend: \(backend.rawValue)" + (backend == .oneDNN ? " (oneDNN \(DNNL.version), OpenMP \(DNNL.waitPolicy))" : ""))
            for (name, kernels) in implementations where !kernels.isEmpty {
                // Counted per implementation: which kernels ran how many convolution shapes.
                for (mode, title) in [("infer", "inference"), ("heatmap", "heatmaps "), ("train", "training ")] {
                    var counts: [String: Int] = [:]
                    for (shape, kernel) in kernels where shape.hasPrefix(mode + " ") { counts[kernel, default: 0] += 1 }
                    if counts.isEmpty { continue }
                    print("\(name)  oneDNN \(title) convolutions: "
                          + counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
                }
            }
            print("sgemm 64x576 · 576x12544      1 thread  \(rounded(oneThread)) GFLOP/s")
            print("sgemm 64x576 · 576x12544    \(allThreads) threads  \(rounded(threaded)) GFLOP/s")
            print("PNG decode 128x128 RGB              \(rounded(1 / decodeSeconds)) images/s")
            print("area resize 1600x1200 RGB → 128      \(rounded(resizeSeconds * 1000)) ms")
            for (name, train, infer, invrise) in models {
                print("\(name)  train (batch 16)  \(rounded(train.imagesPerSecond)) images/s  \(rounded(train.gflops)) GFLOP/s"
                      + " (\(Int(train.gflops / threaded * 100)) % of sgemm peak)")
                print("\(name)  infer (batch 32)  \(rounded(infer.imagesPerSecond)) images/s  \(rounded(infer.gflops)) GFLOP/s"
                      + " (\(Int(infer.gflops / threaded * 100)) % of sgemm peak)")
                print("\(name)  InvRISE, 1000 masks, one image  \(rounded(invrise.heatmaps)) s"
                      + " (\(InferencePrecision.heatmaps.effective(on: backend).rawValue))"
                      + (invrise.float32.map { "; in float32 \(rounded($0)) s" } ?? ""))
            }
            if let peakMegabytes { print("peak resident memory, training resnet18-w4 at batch 32: \(rounded(peakMegabytes)) MB") }
            print("sixel, 256x256 overlay        encode \(rounded(sixel.encodeMilliseconds)) ms  \(sixel.bytes) bytes  PSNR "
                  + (sixel.psnr.map { rounded($0) + " dB" } ?? "? (no sixel2png)"))
            if let time = sixel.img2sixelMilliseconds {
                print("img2sixel, same PNG (process)        \(rounded(time)) ms  \(sixel.img2sixelBytes ?? 0) bytes  PSNR "
                      + (sixel.img2sixelPSNR.map { rounded($0) + " dB" } ?? "?"))
            } else {
                print("img2sixel: not installed (Debian libsixel-bin), no comparison")
            }
            for timing in screens {
                let mode = timing.graphics.rawValue + (timing.truecolor ? " 24-bit" : "")
                print("screens \(timing.columns)x\(timing.rows) \(mode): key → redraw median \(milliseconds(InterfaceMeasurements.percentile(timing.keyToRedraw, 0.5))) ms"
                      + ", p95 \(milliseconds(InterfaceMeasurements.percentile(timing.keyToRedraw, 0.95))) ms"
                      + " (while heatmaps compute: median \(milliseconds(InterfaceMeasurements.percentile(timing.keyToRedrawWhileComputing, 0.5))) ms;"
                      + " while a round retrains and heatmaps compute: median \(milliseconds(InterfaceMeasurements.percentile(timing.keyToRedrawWhileTraining, 0.5))) ms,"
                      + " p95 \(milliseconds(InterfaceMeasurements.percentile(timing.keyToRedrawWhileTraining, 0.95))) ms)"
                      + "; next query \(milliseconds(timing.nextQuery.max())) ms at most; \(timing.bytesPerRedraw) bytes per redraw")
            }
        }
    }

    /// `bench --json`: every figure of the text report, under the names Docs/Benchmarks.md and
    /// the comparison script use.
    struct BenchReport: Encodable {
        struct Machine: Encodable {
            var cores: Int
            var blas_core: String
            var blas_threads: Int
            var openmp_idle_threads: String
        }
        struct Imaging: Encodable {
            var png_decode_128_rgb_per_s: Double
            var area_resize_1600x1200_to_128_ms: Double
        }
        /// One screen timing, in milliseconds.
        struct Screen: Encodable {
            var graphics: String
            var key_to_redraw_ms_median: Double?
            var key_to_redraw_ms_p95: Double?
            var key_to_redraw_while_computing_ms_median: Double?
            var key_to_redraw_while_training_ms_median: Double?
            var key_to_redraw_while_training_ms_p95: Double?
            var next_query_ms_max: Double?
            var bytes_per_redraw: Int

            init(_ timing: InterfaceBenchmark.Timings) {
                func milliseconds(_ value: Double?) -> Double? { value.map { number($0 * 1000) } }
                func percentile(_ values: [Double], _ share: Double) -> Double? { milliseconds(InterfaceMeasurements.percentile(values, share)) }
                graphics = timing.graphics.rawValue + (timing.truecolor ? "-24bit" : "")
                key_to_redraw_ms_median = percentile(timing.keyToRedraw, 0.5)
                key_to_redraw_ms_p95 = percentile(timing.keyToRedraw, 0.95)
                key_to_redraw_while_computing_ms_median = percentile(timing.keyToRedrawWhileComputing, 0.5)
                key_to_redraw_while_training_ms_median = percentile(timing.keyToRedrawWhileTraining, 0.5)
                key_to_redraw_while_training_ms_p95 = percentile(timing.keyToRedrawWhileTraining, 0.95)
                next_query_ms_max = milliseconds(timing.nextQuery.max())
                bytes_per_redraw = timing.bytesPerRedraw
            }
        }
        struct Model: Encodable {
            var train_img_s, train_gflops, infer_img_s, infer_gflops, invrise_1000_s: Double
            /// The same heatmap in float32, when the heatmaps' own precision is bfloat16.
            var invrise_1000_float32_s: Double?
            var heatmap_precision: String
            var onednn_convolutions: [String: String]
        }
        var backend: String
        var onednn_version: String
        var machine: Machine
        var sgemm_gflops: Double
        var sgemm_gflops_1_thread: Double
        var imaging: Imaging
        var sixel_256_overlay: InterfaceMeasurements.SixelFigures
        var screens: [Screen]
        var models: [String: Model]
        var peakResidentMegabytes: Double?

        enum CodingKeys: String, CodingKey {
            case backend, onednn_version, machine, sgemm_gflops, sgemm_gflops_1_thread, imaging, sixel_256_overlay, screens, models
            case peakResidentMegabytes = "train_resnet18-w4_batch32_peak_rss_mb"
        }
    }

    /// oneDNN's implementation per distinct convolution shape of the model's inference plan
    /// (batch 32), heatmap plan (batch 32, when heatmaps run in bfloat16) and training plan
    /// (batch 16), e.g. "train 16→32 3×3/2": "brgconv:avx512_core"; empty on the OpenBLAS
    /// backend.
    static func convolutionImplementations(_ configuration: ResNetConfiguration) -> [(shape: String, kernel: String)] {
        let model = ResNet(configuration, seed: 1)
        // The plans name a shortcut's convolution "….downsample"; torchvision, "….downsample.0".
        let convolutions = Dictionary(uniqueKeysWithValues: model.layers(of: Conv2d.self).map { name, conv in
            (name.hasSuffix(".downsample.0") ? String(name.dropLast(2)) : name, conv)
        })
        var result: [(shape: String, kernel: String)] = []
        var seen = Set<String>()
        let heatmaps = InferencePrecision.heatmaps.effective(on: model.backend)
        let modes: [(String, Bool, Int, InferencePrecision)] = [("infer", false, 32, .float32)]
            + (heatmaps == .float32 ? [] : [("heatmap", false, 32, heatmaps)]) + [("train", true, 16, .float32)]
        for (mode, training, batch, precision) in modes {
            for (layer, kernel) in model.oneDNNImplementations(batch: batch, training: training, precision: precision) ?? [] {
                let name = layer.split(separator: " ").first.map(String.init) ?? layer
                guard let conv = convolutions[name] else { continue }
                let pass = layer.hasSuffix("∂W") ? " ∂W" : layer.hasSuffix("∂x") ? " ∂x" : ""
                let shape = "\(mode) \(conv.inChannels)→\(conv.outChannels) \(conv.kernel)×\(conv.kernel)/\(conv.stride)\(pass)"
                if seen.insert(shape).inserted { result.append((shape, kernel)) }
            }
        }
        return result
    }

    struct Rate {
        let imagesPerSecond: Double
        let gflops: Double
    }

    /// A deterministic batch of inputs in [0, 1].
    static func inputs(_ configuration: ResNetConfiguration, batch: Int) -> Tensor {
        let size = configuration.inputSize, channels = configuration.inputChannels
        let count = batch * channels * size * size
        return Tensor(shape: [batch, channels, size, size], data: (0..<count).map { Float(($0 * 2_654_435_761) % 1000) / 1000 })
    }

    static func measureTraining(_ configuration: ResNetConfiguration, batch: Int, seconds: Double) -> Rate {
        let model = ResNet(configuration, seed: 1)
        let optimizer = SGD(parameters: model.trainableParameters, learningRate: 0.001, momentum: 0.9)
        let images = inputs(configuration, batch: batch)
        let labels = (0..<batch).map { $0 % configuration.classCount }
        let step = {
            model.zeroGradients()
            let (logits, _) = model.forward(images, training: true)
            model.backward(softmaxCrossEntropy(logits: logits, labels: labels).gradient)
            optimizer.step()
        }
        let perStep = measure(seconds: seconds, step)
        let rate = Double(batch) / perStep
        return Rate(imagesPerSecond: rate, gflops: 3 * model.forwardFlopsPerImage * rate / 1e9)
    }

    static func measureInference(_ configuration: ResNetConfiguration, batch: Int, seconds: Double) -> Rate {
        let model = ResNet(configuration, seed: 1)
        let images = inputs(configuration, batch: batch)
        let perCall = measure(seconds: seconds) { _ = model(images) }
        let rate = Double(batch) / perCall
        return Rate(imagesPerSecond: rate, gflops: model.forwardFlopsPerImage * rate / 1e9)
    }

    /// Seconds for one 1000-mask InvRISE heatmap of one image, as the screens compute it: the
    /// product's default fill (the best aligned of 64 OK parts), batches of 32 masks, every
    /// mask (no early stop). Best of three, after a 100-mask warm-up.
    static func measureInvRISE(_ configuration: ResNetConfiguration, precision: InferencePrecision) -> Double {
        let classifier = ImageClassifier(model: ResNet(configuration, seed: 1),
                                         info: CheckpointInfo(configuration: configuration, classNames: ["ok", "nok"],
                                                              mean: [0, 0, 0], std: [1, 1, 1]))
        let size = configuration.inputSize, channels = configuration.inputChannels
        func part(_ index: Int) -> Image {
            let image = PartFamily.weld.makePart(index: index, seed: 2, size: size).image
            return image.channels == channels ? image : image.modelInput(channels: channels, size: size)
        }
        let normal = NormalParts(parts: (0..<64).map(part))
        var explainer = SaliencyExplainer(method: .invrise, masks: RISEMasks(count: 100), fill: .standard, normalParts: normal)
        explainer.batchSize = 32
        let image = part(500)
        _ = explainer.explain(image, target: 1, classCount: 2, probabilities: classifier.probabilityFunction(precision: precision))
        explainer.masks.count = 1000
        var best = Double.infinity
        for _ in 0..<3 {
            let start = monotonicSeconds()
            _ = explainer.explain(image, target: 1, classCount: 2, probabilities: classifier.probabilityFunction(precision: precision))
            best = min(best, monotonicSeconds() - start)
        }
        return best
    }

    /// VmHWM of /proc/self/status: the most memory this process has held resident.
    static func peakResidentMegabytes() -> Double {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, 256, file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("VmHWM:") {
                let kilobytes = Double(text.split(separator: " ").compactMap { Double($0) }.first ?? 0)
                return kilobytes / 1024
            }
        }
        return 0
    }

    /// Seconds per call of `body`, the best of several timed batches of at least `seconds`/5.
    static func measure(seconds: Double, _ body: () -> Void) -> Double {
        body()  // warm-up: first-touch of buffers, thread start-up
        var best = Double.infinity
        let start = monotonicSeconds()
        repeat {
            var calls = 0
            let batchStart = monotonicSeconds()
            repeat {
                body()
                calls += 1
            } while monotonicSeconds() - batchStart < seconds / 5
            best = min(best, (monotonicSeconds() - batchStart) / Double(calls))
        } while monotonicSeconds() - start < seconds
        return best
    }


    static func rounded(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())) : String(number(value))
    }

    /// A measurement as reported: whole above 100, else to two decimals (cut, not rounded up).
    static func number(_ value: Double) -> Double {
        guard value.isFinite else { return 0 }
        return value >= 100 ? value.rounded() : Double(Int(value * 100)) / 100
    }
}
