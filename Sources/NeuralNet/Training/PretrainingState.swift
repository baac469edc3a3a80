#if canImport(Glibc)
import Glibc
#endif
import SeededRandom

/// The file a pretraining run writes after every epoch, whatever its method: the network (as
/// a checkpoint), the method's own extra tensors (projection head, predictor), Adam's moments,
/// the epochs done and their losses, the options it ran with and the caller's notes. One
/// file, written atomically, so a crash leaves the last finished epoch whole.
///
/// Metadata keys: `pretraining_epochs_done`, `pretraining_epochs`, `pretraining_adam_steps`,
/// `pretraining_losses` (comma-separated), `pretraining_options` (the options as text: a run
/// resumes only with the same), `note_KEY` (the caller's facts). Tensors: the network under
/// its state-dict names, extras under their prefixes, `adam.m.I` / `adam.v.I` per parameter.
enum PretrainingState {
    static let epochKey = "pretraining_epochs_done"

    static func save(model: ResNet, extra: [(String, Parameter)], optimizer: Adam, epochsDone: Int, losses: [Float],
                     epochs: Int, description: String, info: CheckpointInfo, notes: [String: String],
                     to path: String) throws(CheckpointError) {
        var tensors = Checkpoint.tensors(of: model)
        tensors += extra.map { ($0.0, StoredTensor(dtype: .float32, shape: $0.1.shape, values: $0.1.value)) }
        let (first, second, steps) = optimizer.moments
        for (index, (m, v)) in zip(first, second).enumerated() {
            tensors.append(("adam.m.\(index)", StoredTensor(dtype: .float32, shape: [m.count], values: m)))
            tensors.append(("adam.v.\(index)", StoredTensor(dtype: .float32, shape: [v.count], values: v)))
        }
        var metadata = Checkpoint.metadataFields(info)
        metadata[epochKey] = String(epochsDone)
        metadata["pretraining_adam_steps"] = String(steps)
        metadata["pretraining_losses"] = losses.map { String($0) }.joined(separator: ",")
        metadata["pretraining_options"] = description
        metadata["pretraining_epochs"] = String(epochs)
        for (key, value) in notes { metadata["note_\(key)"] = value }
        try Checkpoint.write(tensors, metadata: metadata, to: path)
    }

    /// How far the run saved at `path` got, without building it.
    static func savedProgress(at path: String) throws(CheckpointError)
        -> (epochsDone: Int, epochs: Int, losses: [Float], notes: [String: String]) {
        let (_, _, metadata) = try Checkpoint.read(path)
        guard let done = metadata[epochKey].flatMap(Int.init), let epochs = metadata["pretraining_epochs"].flatMap(Int.init) else {
            throw CheckpointError(path: path, message: "not a pretraining state (no epoch count)")
        }
        return (done, epochs, losses(metadata), notes(metadata))
    }

    static func losses(_ metadata: [String: String]) -> [Float] {
        (metadata["pretraining_losses"] ?? "").split(separator: ",").compactMap { Float($0) }
    }

    static func notes(_ metadata: [String: String]) -> [String: String] {
        var notes: [String: String] = [:]
        for (key, value) in metadata where key.hasPrefix("note_") { notes[String(key.dropFirst(5))] = value }
        return notes
    }

    /// A saved run read back: the network built, the rest kept to be restored into the run.
    struct Saved {
        var model: ResNet
        var info: CheckpointInfo
        var epochsDone: Int
        var losses: [Float]
        var notes: [String: String]
        var path: String
        var tensors: [String: StoredTensor]
        var adamSteps: Int

        /// Copies the extra tensors and Adam's moments (one pair per parameter, in order) back.
        func restore(extra: [(String, Parameter)], optimizer: Adam, parameters: [Parameter]) throws(CheckpointError) {
            for (name, parameter) in extra {
                guard let stored = tensors[name], stored.values.count == parameter.count else {
                    throw CheckpointError(path: path, message: "head tensor '\(name)' is missing or mis-shaped")
                }
                parameter.value = stored.values
            }
            var first: [[Float]] = [], second: [[Float]] = []
            for (index, parameter) in parameters.enumerated() {
                guard let m = tensors["adam.m.\(index)"], let v = tensors["adam.v.\(index)"],
                      m.values.count == parameter.count, v.values.count == parameter.count else {
                    throw CheckpointError(path: path, message: "optimizer state \(index) is missing or mis-shaped")
                }
                first.append(m.values)
                second.append(v.values)
            }
            optimizer.moments = (first, second, adamSteps)
        }
    }

    /// Reads a run saved with the options `description` (refused otherwise: a resumed run
    /// with other options would not be the run it continues). Tensors under `extraPrefixes`
    /// and `adam.` are not the network's.
    static func read(from path: String, description: String, extraPrefixes: [String]) throws(CheckpointError) -> Saved {
        let (bytes, tensors, metadata) = try Checkpoint.read(path)
        try Checkpoint.verifyChecksum(bytes, metadata: metadata, path: path)
        let info = try Checkpoint.parseInfo(metadata, path: path)
        guard metadata["pretraining_options"] == description else {
            throw CheckpointError(path: path, message: "saved with other pretraining options (\(metadata["pretraining_options"] ?? "none")); "
                                  + "these are \(description)")
        }
        guard let done = metadata[epochKey].flatMap(Int.init), let steps = metadata["pretraining_adam_steps"].flatMap(Int.init) else {
            throw CheckpointError(path: path, message: "not a pretraining state (no epoch count)")
        }
        let model = ResNet(info.configuration, seed: 0)
        let prefixes = extraPrefixes + ["adam."]
        var own: [String: StoredTensor] = [:]
        for (name, tensor) in tensors where !prefixes.contains(where: name.hasPrefix) { own[name] = tensor }
        try Checkpoint.assign(own, to: model, path: path, replaceHeadIfClassesDiffer: false)
        return Saved(model: model, info: info, epochsDone: done, losses: losses(metadata), notes: notes(metadata), path: path,
                     tensors: tensors, adamSteps: steps)
    }
}

extension PretrainingState {
    /// Epoch `epoch` of either method: its generator (from the seed and the epoch's number
    /// alone, so a resumed run draws what the uninterrupted one would), the learning rate of
    /// the cosine schedule set on `optimizer`, the shuffled order of `count` images cut into
    /// whole batches (a lone last image would have no negatives), and after each batch —
    /// `step` runs it, returning its loss — the progress report. The epoch's mean loss, or nil
    /// when `progress` asked to stop (the epoch then does not count).
    static func runEpoch(_ epoch: Int, count: Int, options: PretrainingOptions, optimizer: Adam,
                         progress: (PretrainingProgress) -> Bool,
                         step: (_ indices: [Int], _ random: inout SplitMix64) -> Float) -> Float? {
        var random = SplitMix64(seed: SplitMix64.mix(options.seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
        optimizer.learningRate = options.learningRate * 0.5 * (1 + cosf(Float.pi * Float(epoch - 1) / Float(max(options.epochs, 1))))
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, random.integer(0, i)) }
        let batchSize = min(options.batchSize, count)
        let batches = count / batchSize
        var lossSum: Float = 0
        for batch in 0..<batches {
            lossSum += step(Array(order[(batch * batchSize)..<((batch + 1) * batchSize)]), &random)
            optimizer.step()
            if !progress(PretrainingProgress(epoch: epoch, epochs: options.epochs, batch: batch + 1, batchesPerEpoch: batches,
                                             loss: lossSum / Float(batch + 1))) {
                return nil
            }
        }
        return lossSum / Float(max(batches, 1))
    }
}
