import CDNNL
import Foundation

// The one thin layer over oneDNN's C API. Every dnnl_* call of the package goes through
// this file: handles are owned by classes that destroy them, statuses become `DNNLError`.

/// A oneDNN call that failed: which call, and the library's status.
public struct DNNLError: Error, CustomStringConvertible, Sendable {
    /// `dnnl_status_t`, with what each value means for this package.
    public enum Status: Sendable, Equatable {
        /// dnnl_out_of_memory: an allocation (memory, scratchpad) failed.
        case outOfMemory
        /// dnnl_invalid_arguments: shapes or formats that do not fit together — a bug here.
        case invalidArguments
        /// dnnl_unimplemented: no implementation for this shape, format or CPU.
        case unimplemented
        /// dnnl_runtime_error: the primitive failed while running.
        case runtimeError
        /// Any other status, with its number.
        case other(Int32)

        init(_ status: dnnl_status_t) {
            switch status {
            case dnnl_out_of_memory: self = .outOfMemory
            case dnnl_invalid_arguments: self = .invalidArguments
            case dnnl_unimplemented: self = .unimplemented
            case dnnl_runtime_error: self = .runtimeError
            default: self = .other(Int32(status.rawValue))
            }
        }
    }

    public let status: Status
    public let operation: String

    public var description: String {
        let meaning: String
        switch status {
        case .outOfMemory: meaning = "out of memory"
        case .invalidArguments: meaning = "invalid arguments (shapes or memory formats that do not fit)"
        case .unimplemented: meaning = "no implementation for this shape or CPU"
        case .runtimeError: meaning = "runtime error"
        case .other(let code): meaning = "status \(code)"
        }
        return "oneDNN: \(operation) failed: \(meaning)"
    }
}

@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ operation: @autoclosure () -> String) throws(DNNLError) {
    if status != dnnl_success { throw DNNLError(status: .init(status), operation: operation()) }
}

/// The CPU engine and the threads oneDNN's calls use.
public enum DNNL {
    /// One CPU engine for the process (oneDNN engines are thread-safe).
    nonisolated(unsafe) static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success else { return nil }
        return engine
    }()

    /// Whether oneDNN works here (library loaded, CPU engine created).
    public static var isAvailable: Bool { engine != nil }

    /// The threads oneDNN uses for calls made from the current thread. Debian builds oneDNN
    /// on OpenMP, where this is a per-thread setting, so a worker thread can take fewer
    /// cores without changing the others.
    public static var threadCount: Int {
        get { Int(nc_dnnl_thread_count()) }
        set { nc_dnnl_set_thread_count(Int32(max(newValue, 1))) }
    }

    /// How long an idle OpenMP thread spins before it sleeps: libgomp's GOMP_SPINCOUNT,
    /// read once, in its library constructor, before `main` (OMP_WAIT_POLICY sets the same).
    public static let spinCountVariable = "GOMP_SPINCOUNT"
    public static let waitPolicyVariable = "OMP_WAIT_POLICY"

    /// The spin count this product runs oneDNN with: about 20 µs (libgomp counts roughly
    /// 100 000 spins per millisecond), against libgomp's default of 300 000 (≈ 3 ms).
    /// A pass is a chain of primitives microseconds apart, so short spinning keeps a team's
    /// threads awake within a pass (sleeping at once, OMP_WAIT_POLICY=PASSIVE, cost a third of
    /// the training rate: 388–396 against 582–643 images/s); but a thread that spins for
    /// milliseconds after every pass holds a core that a pass running beside it needs —
    /// several inspectors' screens on one 2-core server, a heatmap beside a retraining. Four
    /// InvRISE heatmaps at once on 2 cores: 8.9–9.4 s each with the default, 2.5–2.8 s with
    /// this, 2.4 s passive (Docs/Benchmarks.md).
    public static let preferredSpinCount = "2000"

    /// OpenMP's idle-thread setting of this process, as its environment set it.
    public static var waitPolicy: String {
        let environment = ProcessInfo.processInfo.environment
        if let policy = environment[waitPolicyVariable] { return "OMP_WAIT_POLICY=\(policy)" }
        if let spins = environment[spinCountVariable] { return "GOMP_SPINCOUNT=\(spins)" }
        return "libgomp default"
    }

    /// Whether this CPU multiplies bfloat16 natively (AVX512-BF16: oneDNN's
    /// `avx512_core_bf16` kernels or newer). Elsewhere oneDNN would emulate bfloat16 or fall
    /// back to reference code, slower than float32, so bfloat16 passes are not used there.
    public static var multipliesBFloat16Natively: Bool {
        let isa = dnnl_get_effective_cpu_isa().rawValue
        return isa & dnnl_cpu_isa_avx512_core_bf16.rawValue == dnnl_cpu_isa_avx512_core_bf16.rawValue
    }

    /// oneDNN's version, e.g. "2.6.3".
    public static var version: String {
        guard let v = dnnl_version() else { return "?" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.patch)"
    }
}

/// A memory descriptor: dimensions, data type (f32; bf16 for the activations and weights of
/// bfloat16 inference) and layout.
struct MemoryDescriptor: Equatable {
    var raw: dnnl_memory_desc_t

    /// Dimensions in oneDNN's logical order (N, C, H, W for activations; O, I, H, W for
    /// weights) with a layout tag, or `dnnl_format_tag_any` to let a primitive choose.
    init(_ dims: [Int], _ tag: dnnl_format_tag_t, _ dataType: dnnl_data_type_t = dnnl_f32) throws(DNNLError) {
        var raw = dnnl_memory_desc_t()
        let dimensions = dims.map { Int64($0) }
        let status = dimensions.withUnsafeBufferPointer {
            dnnl_memory_desc_init_by_tag(&raw, Int32(dims.count), $0.baseAddress, dataType, tag)
        }
        try dnnlCheck(status, "describing memory \(dims)")
        self.raw = raw
    }

    init(raw: dnnl_memory_desc_t) { self.raw = raw }

    var dataType: dnnl_data_type_t { raw.data_type }

    static func == (a: Self, b: Self) -> Bool {
        withUnsafePointer(to: a.raw) { pa in withUnsafePointer(to: b.raw) { pb in dnnl_memory_desc_equal(pa, pb) != 0 } }
    }

    /// Bytes the layout needs (blocked layouts pad channels up to the block).
    var byteCount: Int { withUnsafePointer(to: raw) { Int(dnnl_memory_desc_get_size($0)) } }

    /// Whether this describes nothing (a query for an argument the primitive does not have).
    var isZero: Bool { raw.ndims == 0 }

    var dims: [Int] {
        withUnsafeBytes(of: raw.dims) { Array($0.bindMemory(to: Int64.self).prefix(Int(raw.ndims))).map { Int($0) } }
    }

    /// A short name for the layout, for benchmark reports: one of the tags this package meets.
    var layoutName: String {
        let candidates: [(String, dnnl_format_tag_t)] = [("nchw", dnnl_nchw), ("nhwc", dnnl_nhwc),
                                                         ("nChw16c", dnnl_nChw16c), ("nChw8c", dnnl_nChw8c),
                                                         ("nc", dnnl_nc)]
        for (name, tag) in candidates where dims.count == (tag == dnnl_nc ? 2 : 4) {
            if let other = try? MemoryDescriptor(dims, tag), other == self { return name }
        }
        return "blocked"
    }
}

/// A buffer oneDNN reads or writes: either owned by the library (allocated with the
/// descriptor's size) or over storage the caller provides per call (`bind`).
final class Memory {
    let handle: dnnl_memory_t
    let descriptor: MemoryDescriptor

    /// Library-allocated memory of the descriptor's size.
    init(_ descriptor: MemoryDescriptor) throws(DNNLError) {
        var handle: dnnl_memory_t?
        let status = withUnsafePointer(to: descriptor.raw) {
            dnnl_memory_create(&handle, $0, DNNL.engine, UnsafeMutableRawPointer(bitPattern: -1))
        }
        try dnnlCheck(status, "allocating \(descriptor.byteCount) bytes")
        self.handle = handle!
        self.descriptor = descriptor
    }

    /// Memory without storage; `bind` points it at the caller's buffer before each use.
    init(unbound descriptor: MemoryDescriptor) throws(DNNLError) {
        var handle: dnnl_memory_t?
        let status = withUnsafePointer(to: descriptor.raw) { dnnl_memory_create(&handle, $0, DNNL.engine, nil) }
        try dnnlCheck(status, "describing user memory")
        self.handle = handle!
        self.descriptor = descriptor
    }

    deinit { dnnl_memory_destroy(handle) }

    /// Points the memory at `pointer` (valid only while the caller keeps it alive).
    func bind(_ pointer: UnsafeRawPointer) {
        dnnl_memory_set_data_handle(handle, UnsafeMutableRawPointer(mutating: pointer))
    }

    /// The storage as Float32 values, in the descriptor's layout.
    var floats: UnsafeMutablePointer<Float> {
        assert(descriptor.dataType == dnnl_f32, "reading a \(descriptor.dataType) memory as Float32")
        var pointer: UnsafeMutableRawPointer?
        dnnl_memory_get_data_handle(handle, &pointer)
        return pointer!.assumingMemoryBound(to: Float.self)
    }

    var floatCount: Int { descriptor.byteCount / MemoryLayout<Float>.stride }
}

/// Post-operations fused into a primitive's output: a sum onto what the destination holds,
/// then element-wise functions, in the order appended.
struct PostOps {
    enum Step { case sum, relu }
    var steps: [Step] = []
}

/// A primitive with its descriptor: made once per shape, run many times.
final class Primitive {
    let descriptor: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t

    /// From an operation descriptor (`dnnl_convolution_desc_t` and the like) with optional
    /// post-ops and the forward primitive a backward one is a hint from.
    convenience init<OperationDescriptor>(_ operation: OperationDescriptor, postOps: PostOps = PostOps(),
                                          hint: Primitive? = nil, what: @autoclosure () -> String) throws(DNNLError) {
        var attributes: dnnl_primitive_attr_t?
        try dnnlCheck(dnnl_primitive_attr_create(&attributes), "creating attributes")
        defer { dnnl_primitive_attr_destroy(attributes) }
        // The scratchpad is passed in by the caller, so primitives share none behind its back.
        try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "scratchpad mode")
        if !postOps.steps.isEmpty {
            var ops: dnnl_post_ops_t?
            try dnnlCheck(dnnl_post_ops_create(&ops), "creating post-ops")
            defer { dnnl_post_ops_destroy(ops) }
            for step in postOps.steps {
                switch step {
                case .sum: try dnnlCheck(dnnl_post_ops_append_sum(ops, 1), "appending a sum post-op")
                case .relu: try dnnlCheck(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, 0, 0),
                                          "appending a ReLU post-op")
                }
            }
            try dnnlCheck(dnnl_primitive_attr_set_post_ops(attributes, ops), "setting post-ops")
        }
        var descriptor: dnnl_primitive_desc_t?
        var operation = operation
        let status = withUnsafePointer(to: &operation) {
            dnnl_primitive_desc_create(&descriptor, UnsafeRawPointer($0), attributes, DNNL.engine, hint?.descriptor)
        }
        try dnnlCheck(status, what())
        try self.init(descriptor: descriptor!, what: what())
    }

    /// A reorder from one layout to another.
    convenience init(reorderFrom source: MemoryDescriptor, to target: MemoryDescriptor) throws(DNNLError) {
        var descriptor: dnnl_primitive_desc_t?
        let status = withUnsafePointer(to: source.raw) { s in
            withUnsafePointer(to: target.raw) { t in
                dnnl_reorder_primitive_desc_create(&descriptor, s, DNNL.engine, t, DNNL.engine, nil)
            }
        }
        try dnnlCheck(status, "reorder \(source.layoutName) → \(target.layoutName)")
        try self.init(descriptor: descriptor!, what: "reorder")
    }

    private init(descriptor: dnnl_primitive_desc_t, what: @autoclosure () -> String) throws(DNNLError) {
        var primitive: dnnl_primitive_t?
        let status = dnnl_primitive_create(&primitive, descriptor)
        if status != dnnl_success {
            dnnl_primitive_desc_destroy(descriptor)
            throw DNNLError(status: .init(status), operation: "creating \(what())")
        }
        self.descriptor = descriptor
        self.primitive = primitive!
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// The layout the primitive chose for one of its arguments (`dnnl_query_src_md`, ...).
    func memory(_ query: dnnl_query_t, _ index: Int32 = 0) -> MemoryDescriptor {
        MemoryDescriptor(raw: nc_dnnl_query_md(descriptor, query, index))
    }

    /// oneDNN's implementation name, e.g. "brgconv:avx512_core".
    var implementation: String { String(cString: nc_dnnl_implementation(descriptor)) }

    /// Scratchpad bytes the primitive needs while it runs.
    var scratchpadBytes: Int { memory(dnnl_query_scratchpad_md).byteCount }

    /// Runs the primitive on `stream` with its arguments (`DNNL_ARG_SRC` → memory, ...).
    func execute(_ stream: DNNLStream, _ arguments: [(Int32, Memory)], scratchpad: Memory? = nil) {
        var list = arguments.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.handle) }
        if let scratchpad { list.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpad.handle)) }
        let status = list.withUnsafeBufferPointer {
            dnnl_primitive_execute(primitive, stream.handle, Int32($0.count), $0.baseAddress)
        }
        // Every shape and format was accepted when the primitive was made; a failure here is a
        // broken invariant of this package, not bad input.
        precondition(status == dnnl_success, "oneDNN: running \(implementation) failed with status \(status.rawValue)")
    }
}

/// An in-order stream on the CPU engine; a CPU primitive has finished when `execute` returns.
final class DNNLStream {
    let handle: dnnl_stream_t

    init() throws(DNNLError) {
        var stream: dnnl_stream_t?
        try dnnlCheck(dnnl_stream_create(&stream, DNNL.engine, dnnl_stream_default_flags.rawValue), "creating a stream")
        handle = stream!
    }

    deinit { dnnl_stream_destroy(handle) }
}
