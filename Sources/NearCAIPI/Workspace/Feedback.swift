import Foundation
import Imaging

/// One thing an expert said about an item. (Codable: an answer the store refused waits in a
/// file as it was given, `UnstoredAnswer`.)
public struct FeedbackEvent: Sendable, Equatable, Codable {
    public var itemPath: String
    public var user: String
    /// The part the person played when answering (the screen they answered on); nil where
    /// nobody said (imports).
    public var role: Role?
    public var predictedLabel: ClassLabel?
    public var predictedConfidence: Double?
    public var prediction: Verdict?
    public var explanation: Verdict?
    /// The expert's label when they gave one.
    public var correctedLabel: ClassLabel?
    /// The painted defect region, as PNG.
    public var correctedMask: [UInt8]?

    public init(itemPath: String, user: String, role: Role? = nil, predictedLabel: ClassLabel? = nil, predictedConfidence: Double? = nil,
                prediction: Verdict? = nil, explanation: Verdict? = nil, correctedLabel: ClassLabel? = nil, correctedMask: [UInt8]? = nil) {
        self.itemPath = itemPath
        self.user = user
        self.role = role
        self.predictedLabel = predictedLabel
        self.predictedConfidence = predictedConfidence
        self.prediction = prediction
        self.explanation = explanation
        self.correctedLabel = correctedLabel
        self.correctedMask = correctedMask
    }

    /// The label this feedback establishes: the expert's correction, else the prediction
    /// they confirmed; nil for a skip.
    public var establishedLabel: ClassLabel? {
        if let correctedLabel { return correctedLabel }
        if prediction == .right, let predictedLabel { return predictedLabel }
        if prediction == .wrong, let predictedLabel { return predictedLabel.other }
        return nil
    }
}

extension Workspace {
    /// Records `event` and the label it establishes, in one IMMEDIATE transaction that is
    /// committed (WAL, synchronous FULL: on disk) before this returns. Waits for another
    /// writer's lock up to the busy timeout, then retries a few times, so concurrent
    /// inspectors do not lose writes.
    /// With `acceptIntoTraining`, an item whose label the feedback establishes leaves the pool
    /// for the training split in the same transaction (Algorithm 1: what the expert accepted
    /// becomes training data) — or, for the share `answersForValidation` of each class, for the
    /// validation split, so the figures rounds are judged by grow with the work.
    /// `alongside` runs inside the same transaction (closing a review with its answer).
    @discardableResult
    public func recordFeedback(_ event: FeedbackEvent, at time: Date = Date(), acceptIntoTraining: Bool = false) throws -> Int64 {
        try recordFeedback(event, at: time, acceptIntoTraining: acceptIntoTraining, alongside: { _ in }).id
    }

    /// The same, returning also the split the item left the pool for (nil: it did not leave it).
    /// `checking` sees the item as the transaction read it, before anything is written, and
    /// may refuse the answer by throwing.
    func recordFeedback(_ event: FeedbackEvent, at time: Date = Date(), acceptIntoTraining: Bool = false,
                        checking: (WorkspaceStore, ItemRecord) throws -> Void = { _, _ in },
                        alongside: (WorkspaceStore) throws -> Void) throws -> (id: Int64, movedTo: Split?) {
        try store.writeRetryingWhenBusy {
            // Read inside the write transaction: another inspector may have moved it meanwhile.
            guard let item = try store.item(at: event.itemPath), item.isUsable else {
                throw WorkspaceError(name, "no usable item '\(event.itemPath)' in this workspace")
            }
            try checking(store, item)
            let movesFromPool = acceptIntoTraining && event.establishedLabel != nil && item.split == .pool
            let id = try store.insertFeedback(event, itemID: item.id, time: time, movedFromPool: movesFromPool)
            var movedTo: Split? = nil
            if let label = event.establishedLabel {
                movedTo = try store.establish(label, itemID: item.id, intoTraining: acceptIntoTraining,
                                              holdingOut: acceptIntoTraining ? try answersForValidation : 0)
            }

            try alongside(store)
            // A part that left the pool is answered: reviews still open on it are done (the
            // review queue lists pool parts only, so they would stay open, unseen, for ever).
            // After `alongside`, which closes the review this answer is given on.
            if movedTo != nil { try store.closeReviews(ofItem: item.id) }
            return (id, movedTo)
        }
    }

    /// The defect region someone painted on the item at `path` (the latest standing answer
    /// with a mask), at the size it was painted; nil when nobody painted one.
    public func paintedMask(of path: String) throws -> BinaryMask? {
        try store.paintedMask(of: path).map { try Self.decodedPaintedMask($0, of: path) }
    }

    /// A painted mask as the store keeps it (PNG) made a mask again.
    static func decodedPaintedMask(_ png: [UInt8], of path: String) throws -> BinaryMask {
        BinaryMask(thresholding: try ImageFile.decode(png, name: "painted mask of \(path)").image)
    }

    /// Answered parts now in the validation split (held out by `answers_for_validation`).
    public func answersHeldForValidation() throws -> Int {
        let answered = try store.answeredItemIDs()
        return try items(in: .validation).filter { answered.contains($0.id) }.count
    }

    /// Every feedback event, oldest first.
    public func feedbackLog() throws -> [FeedbackRecord] { try store.feedbackLog() }

    /// The latest answer `user` gave on the item at `path` (its feedback id), nil when none. A
    /// station whose connection went while it committed an answer asks this once it is back:
    /// a part leaves the pool with its first answer, so an answer found is the one it sent.
    public func latestAnswer(by user: String, on path: String) throws -> Int64? {
        try store.latestAnswer(by: user, on: path)
    }
}
