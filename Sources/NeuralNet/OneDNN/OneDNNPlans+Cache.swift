import Foundation

/// A model's oneDNN plans, a few per kind: shapes change rarely (the last, shorter batch of
/// an epoch; the explainer's batch), and each plan holds its activations.
struct OneDNNPlans {
    struct Shape: Hashable {
        var batch: Int, height: Int, width: Int
        /// Inference plans only; training is float32.
        var precision: InferencePrecision = .float32
    }

    /// The plans of one kind for the shapes used last; the least recently used goes first.
    struct Recent<Plan> {
        static var capacity: Int { 3 }
        private var entries: [(shape: Shape, plan: Plan)] = []

        mutating func plan(for shape: Shape, make: (Shape) throws(DNNLError) -> Plan) throws(DNNLError) -> Plan {
            if let index = entries.firstIndex(where: { $0.shape == shape }) {
                let entry = entries.remove(at: index)
                entries.append(entry)
                return entry.plan
            }
            let plan = try make(shape)
            if entries.count == Self.capacity { entries.removeFirst() }
            entries.append((shape, plan))
            return plan
        }
    }

    private var inferencePlans = Recent<OneDNNInferencePlan>()
    private var trainingPlans = Recent<OneDNNTrainingPlan>()
    /// The plan whose training forward ran last, for the backward that follows it.
    var trainedOn: OneDNNTrainingPlan?

    mutating func inference(for shape: Shape, of model: ResNet) throws(DNNLError) -> OneDNNInferencePlan {
        try inferencePlans.plan(for: shape) { (shape) throws(DNNLError) in
            try OneDNNInferencePlan(model, batch: shape.batch, height: shape.height, width: shape.width,
                                    precision: shape.precision)
        }
    }

    mutating func training(for shape: Shape, of model: ResNet) throws(DNNLError) -> OneDNNTrainingPlan {
        try trainingPlans.plan(for: shape) { (shape) throws(DNNLError) in
            try OneDNNTrainingPlan(model, batch: shape.batch, height: shape.height, width: shape.width)
        }
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
