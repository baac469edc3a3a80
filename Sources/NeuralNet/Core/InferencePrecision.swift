import Foundation

/// The number format of an inference pass's weights and activations.
///
/// InvRISE averages a thousand masked passes, each a probability; a pass in bfloat16 moves a
/// probability by about 10⁻³ (8 significant bits in each product, float32 sums), far below
/// what the masks themselves move it, and on a CPU with bfloat16 multiplies it runs the
/// convolutions at twice the float32 rate. Predictions, embeddings and metrics stay float32.
public enum InferencePrecision: String, Sendable, CaseIterable {
    /// IEEE binary32 throughout.
    case float32
    /// bfloat16 weights and activations with float32 accumulation inside each convolution;
    /// batch norm folded into the weights in float32 before rounding, biases float32, the
    /// embedding returned as float32. Only on the oneDNN backend and where the CPU multiplies
    /// bfloat16 natively (`DNNL.multipliesBFloat16Natively`); elsewhere a float32 pass.
    case bfloat16

    /// The environment variable that sets the heatmaps' precision (`float32` or `bfloat16`).
    public static let heatmapEnvironmentVariable = "NEARCAIPI_HEATMAP_PRECISION"

    /// The precision InvRISE's masked passes ask for: `NEARCAIPI_HEATMAP_PRECISION`, else
    /// bfloat16 (which is float32 where bfloat16 is not native).
    public static var heatmaps: InferencePrecision {
        ProcessInfo.processInfo.environment[heatmapEnvironmentVariable].flatMap(InferencePrecision.init(rawValue:))
            ?? .bfloat16
    }

    /// What a pass asked for in this precision runs in on `backend` on this CPU.
    public func effective(on backend: Backend) -> InferencePrecision {
        self == .bfloat16 && backend == .oneDNN && DNNL.isAvailable && DNNL.multipliesBFloat16Natively ? .bfloat16 : .float32
    }
}
