import FileAccess

/// What a checkpoint says about the model besides its weights.
public struct CheckpointInfo: Equatable, Sendable {
    public var configuration: ResNetConfiguration
    public var classNames: [String]
    /// Per-channel input normalisation: x' = (x − mean) / std.
    public var mean: [Float]
    public var std: [Float]

    public init(configuration: ResNetConfiguration, classNames: [String], mean: [Float], std: [Float]) {
        self.configuration = configuration
        self.classNames = classNames
        self.mean = mean
        self.std = std
    }

    /// Normalises `batch` NCHW images in place: x' = (x − mean[c]) / std[c]. A channel without
    /// statistics (or with std 0) is left as it is.
    public func normalise(_ pixels: inout [Float], batch: Int) {
        let channels = configuration.inputChannels
        let plane = pixels.count / max(batch * channels, 1)
        pixels.withUnsafeMutableBufferPointer { values in
            for b in 0..<batch {
                for c in 0..<channels {
                    let m = c < mean.count ? mean[c] : 0
                    let s = c < std.count && std[c] != 0 ? std[c] : 1
                    let base = (b * channels + c) * plane
                    for i in base..<(base + plane) { values[i] = (values[i] - m) / s }
                }
            }
        }
    }
}

/// Model checkpoints as safetensors files with torchvision's ResNet state-dict names, so a
/// checkpoint opens in PyTorch (`load_state_dict(strict=True)`) and a converted torchvision
/// ResNet loads here. Metadata: `format`, `architecture`, `input_size`, `input_channels`,
/// `class_names` and `mean` / `std` (comma-separated), `data_crc32` (hex).
public enum Checkpoint {
    public static let format = "nearcaipi-resnet-1"

    /// Writes atomically: a reader never sees a half-written checkpoint.
    public static func save(_ model: any Network, info: CheckpointInfo, to path: String) throws(CheckpointError) {
        try write(tensors(of: model), metadata: metadataFields(info), to: path)
    }

    /// A model's parameters and batch-norm counters under their state-dict names.
    static func tensors(of model: any Network) -> [(String, StoredTensor)] {
        var tensors: [(String, StoredTensor)] = model.namedParameters.map { name, parameter in
            (name, StoredTensor(dtype: .float32, shape: parameter.shape, values: parameter.value))
        }
        tensors += model.layers(of: BatchNorm2d.self).map { name, bn in
            ("\(name).num_batches_tracked", StoredTensor(dtype: .int64, shape: [], values: [Float(bn.batchesTracked)]))
        }
        return tensors
    }

    /// Writes `tensors` with `metadata` and the data's CRC-32, atomically.
    static func write(_ tensors: [(String, StoredTensor)], metadata: [String: String], to path: String) throws(CheckpointError) {
        var metadata = metadata
        // The CRC covers the data section, which does not depend on the header.
        let (entries, data) = SafeTensors.encodeData(tensors)
        metadata["data_crc32"] = String(SafeTensors.crc32(data[...]), radix: 16)
        do {
            try BinaryFile.writeAtomically(SafeTensors.assemble(entries: entries, data: data, metadata: metadata), to: path)
        } catch {
            throw CheckpointError(path: path, message: error.description)
        }
    }

    /// Opens a checkpoint and builds the model it describes.
    public static func load(_ path: String) throws(CheckpointError) -> (model: ResNet, info: CheckpointInfo) {
        let (bytes, tensors, metadata) = try read(path)
        guard metadata["format"] == format else {
            throw CheckpointError(path: path, message: "not a NearCAIPI checkpoint (metadata format is '\(metadata["format"] ?? "missing")'); import foreign weights with a configuration instead")
        }
        try verifyChecksum(bytes, metadata: metadata, path: path)
        let info = try parseInfo(metadata, path: path)
        let model = ResNet(info.configuration, seed: 0)
        try assign(tensors, to: model, path: path, replaceHeadIfClassesDiffer: false)
        return (model, info)
    }

    /// Loads weights into an existing model of the requested architecture — for example a
    /// torchvision ResNet-18 converted to safetensors as a pretrained backbone. With
    /// `replaceHeadIfClassesDiffer`, an `fc` of another class count is skipped (the model keeps
    /// its freshly initialised head).
    public static func loadWeights(into model: any Network, from path: String, replaceHeadIfClassesDiffer: Bool) throws(CheckpointError) {
        let (bytes, tensors, metadata) = try read(path)
        if metadata["data_crc32"] != nil { try verifyChecksum(bytes, metadata: metadata, path: path) }
        try assign(tensors, to: model, path: path, replaceHeadIfClassesDiffer: replaceHeadIfClassesDiffer)
    }

    static func read(_ path: String) throws(CheckpointError) -> ([UInt8], [String: StoredTensor], [String: String]) {
        let bytes: [UInt8]
        do { bytes = try BinaryFile.read(path) } catch { throw CheckpointError(path: path, message: error.description) }
        let (tensors, metadata) = try SafeTensors.decode(bytes, path: path)
        return (bytes, tensors, metadata)
    }

    static func metadataFields(_ info: CheckpointInfo) -> [String: String] {
        let c = info.configuration
        return ["format": format, "architecture": c.architecture,
                "widths": c.widths.map(String.init).joined(separator: ","),
                "blocks": c.blocks.map(String.init).joined(separator: ","),
                "input_size": String(c.inputSize), "input_channels": String(c.inputChannels),
                "class_names": info.classNames.joined(separator: ","),
                "mean": info.mean.map { String($0) }.joined(separator: ","),
                "std": info.std.map { String($0) }.joined(separator: ",")]
            .merging(c.hasDefectHead ? ["defect_head": "layer\(ResNetConfiguration.defectHeadStage + 1)"] : [:]) { a, _ in a }
    }

    static func parseInfo(_ metadata: [String: String], path: String) throws(CheckpointError) -> CheckpointInfo {
        func field(_ key: String) throws(CheckpointError) -> String {
            guard let value = metadata[key] else { throw CheckpointError(path: path, message: "metadata lacks '\(key)'") }
            return value
        }
        func integers(_ key: String) throws(CheckpointError) -> [Int] {
            let values = try field(key).split(separator: ",").compactMap { Int($0) }
            guard !values.isEmpty, values.allSatisfy({ $0 > 0 }) else { throw CheckpointError(path: path, message: "metadata '\(key)' is not a list of positive integers") }
            return values
        }
        func floats(_ key: String) throws(CheckpointError) -> [Float] { try field(key).split(separator: ",").compactMap { Float($0) } }
        let classNames = try field("class_names").split(separator: ",").map(String.init)
        let sizes = try integers("input_size"), channels = try integers("input_channels")
        var configuration = ResNetConfiguration(architecture: try field("architecture"), widths: try integers("widths"),
                                                blocks: try integers("blocks"), inputChannels: channels[0],
                                                inputSize: sizes[0], classCount: classNames.count)
        if let head = metadata["defect_head"] {
            guard head == "layer\(ResNetConfiguration.defectHeadStage + 1)" else {
                throw CheckpointError(path: path, message: "metadata 'defect_head' reads '\(head)'; this version reads a head on "
                                      + "layer\(ResNetConfiguration.defectHeadStage + 1)")
            }
            configuration.hasDefectHead = true
        }
        guard configuration.widths.count == 4, configuration.blocks.count == 4, classNames.count >= 2 else {
            throw CheckpointError(path: path, message: "metadata describes no usable ResNet (4 stages, at least 2 classes)")
        }
        return CheckpointInfo(configuration: configuration, classNames: classNames, mean: try floats("mean"), std: try floats("std"))
    }

    static func verifyChecksum(_ bytes: [UInt8], metadata: [String: String], path: String) throws(CheckpointError) {
        guard let stored = metadata["data_crc32"], let expected = UInt32(stored, radix: 16) else {
            throw CheckpointError(path: path, message: "metadata lacks a valid data_crc32")
        }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        let actual = SafeTensors.crc32(bytes[(8 + Int(length))...])
        guard actual == expected else {
            throw CheckpointError(path: path, message: "checksum mismatch: data CRC-32 is \(String(actual, radix: 16)), metadata says \(stored) (damaged file)")
        }
    }

    /// Copies stored tensors into the model; refuses at the first missing, extra or
    /// mis-shaped tensor, naming it.
    static func assign(_ tensors: [String: StoredTensor], to model: any Network, path: String,
                       replaceHeadIfClassesDiffer: Bool) throws(CheckpointError) {
        let expected = model.namedParameters
        let head = model.headPrefix
        let architecture = model.architectureName
        let headDiffers = expected.contains { name, parameter in
            name.hasPrefix(head) && tensors[name].map { $0.shape != parameter.shape } == true
        }
        let skipHead = replaceHeadIfClassesDiffer && headDiffers
        var used: Set<String> = []
        for (name, parameter) in expected {
            if skipHead && name.hasPrefix(head) { used.insert(name); continue }
            guard let stored = tensors[name] else {
                throw CheckpointError(path: path, message: "tensor '\(name)' of \(architecture) is missing")
            }
            guard stored.shape == parameter.shape, stored.dtype == .float32 else {
                throw CheckpointError(path: path, message: "tensor '\(name)' has shape \(stored.shape) \(stored.dtype.rawValue), \(architecture) needs \(parameter.shape) F32")
            }
            used.insert(name)
        }
        for name in tensors.keys.sorted() where !used.contains(name) && !name.hasSuffix(".num_batches_tracked") {
            throw CheckpointError(path: path, message: "tensor '\(name)' does not belong to \(architecture)")
        }
        for (name, parameter) in expected where !(skipHead && name.hasPrefix(head)) {
            parameter.value = tensors[name]!.values
        }
        for (name, bn) in model.layers(of: BatchNorm2d.self) {
            if let count = tensors["\(name).num_batches_tracked"]?.values.first { bn.batchesTracked = Int64(count) }
        }
    }
}
