import Foundation

/// Which implementation runs the network's passes. The layers and their parameters are the
/// same either way; a backend is only how a forward and a backward are computed.
public enum Backend: String, Sendable, CaseIterable {
    /// oneDNN primitives (direct convolutions in blocked layouts, fused batch norm, ReLU and
    /// residual sums): the fast path, and the default when the library works here.
    case oneDNN = "onednn"
    /// im2col + OpenBLAS GEMM and plain loops: the reference the oneDNN path is checked against.
    case openBLAS = "openblas"

    /// The environment variable that picks the backend for a whole process.
    public static let environmentVariable = "NEARCAIPI_BACKEND"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var chosen: Backend?

    /// The backend new models use: set by the command line's `--backend`, else
    /// `NEARCAIPI_BACKEND`, else oneDNN when it is available, else OpenBLAS.
    public static var `default`: Backend {
        get {
            lock.lock()
            defer { lock.unlock() }
            if let chosen { return chosen }
            let fromEnvironment = ProcessInfo.processInfo.environment[environmentVariable].flatMap(Backend.init(rawValue:))
            let backend = fromEnvironment ?? (DNNL.isAvailable ? .oneDNN : .openBLAS)
            chosen = backend
            return backend
        }
        set {
            lock.lock()
            chosen = newValue
            lock.unlock()
        }
    }

    /// The value of `NEARCAIPI_BACKEND` when it names no backend (for a clear message).
    public static var unrecognisedEnvironmentValue: String? {
        guard let value = ProcessInfo.processInfo.environment[environmentVariable], !value.isEmpty else { return nil }
        return Backend(rawValue: value) == nil ? value : nil
    }
}
