import Foundation

/// A model's oneDNN plans, a few per kind: shapes change rarely (the last, shorter batch of
/// an epoch; the explainer's batch), and each plan holds its activations.
struct OneDNNPlans {
    struct Shape: Hashable {
        var batch: Int, height: Int, width: Int
    }

    /// Plans kept per kind; the least recently used goes first.
    static let capacity = 3

    private var inferencePlans: [(Shape, OneDNNInferencePlan)] = []
    private var trainingPlans: [(Shape, OneDNNTrainingPlan)] = []
    /// The plan whose training forward ran last, for the backward that follows it.
    var trainedOn: OneDNNTrainingPlan?

    mutating func inference(for shape: Shape, of model: ResNet) throws(DNNLError) -> OneDNNInferencePlan {
        if let index = inferencePlans.firstIndex(where: { $0.0 == shape }) {
            let entry = inferencePlans.remove(at: index)
            inferencePlans.append(entry)
            return entry.1
        }
        let plan = try OneDNNInferencePlan(model, batch: shape.batch, height: shape.height, width: shape.width)
        if inferencePlans.count == Self.capacity { inferencePlans.removeFirst() }
        inferencePlans.append((shape, plan))
        return plan
    }

    mutating func training(for shape: Shape, of model: ResNet) throws(DNNLError) -> OneDNNTrainingPlan {
        if let index = trainingPlans.firstIndex(where: { $0.0 == shape }) {
            let entry = trainingPlans.remove(at: index)
            trainingPlans.append(entry)
            return entry.1
        }
        let plan = try OneDNNTrainingPlan(model, batch: shape.batch, height: shape.height, width: shape.width)
        if trainingPlans.count == Self.capacity { trainingPlans.removeFirst() }
        trainingPlans.append((shape, plan))
        return plan
    }

    private static let warningLock = NSLock()
    nonisolated(unsafe) private static var warned = false

    static func warnOnce(_ message: String) {
        warningLock.lock()
        defer { warningLock.unlock() }
        guard !warned else { return }
        warned = true
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}
