import Explanations
import Foundation
import Imaging
import NeuralNet

/// How a workspace's loop runs; stored in its settings table so every inspector's session and
/// the operator's retraining agree.
public struct LoopSettings: Sendable, Equatable {
    public var queryStrategy: QueryStrategy = .leastConfidence
    /// Accepted regions become refutations (CAIPI).
    public var makesRefutations = true
    /// A wrong prediction queues its near hit and near miss for the supervisor (Near …).
    public var asksNeighbours = true
    /// Refutations per accepted item (the design default is 4).
    public var refutationsPerItem = 4
    /// Interactions per retraining round (the paper: 42 on casting, 27 on welding).
    public var interactionsPerRound = 42
    /// How long a query stays reserved for the inspector it was given to.
    public var leaseSeconds: Double = 600
    /// What hides a region in the InvRISE heatmaps (Docs/Explanations.md: why this default).
    public var heatmapFill: MaskFill = .standard
    /// Masks per heatmap (at most; the map stops once it is measured well enough).
    public var heatmapMasks = 1000
    /// Mask grid cells per side.
    public var heatmapGrid = RISEMasks.standardGrid

    public init() {}

    /// The loop's InvRISE explainer before its normal parts are read: these settings' fill,
    /// masks and grid, stopping once a map is measured well enough.
    public var explainerWithoutNormalParts: SaliencyExplainer {
        var explainer = SaliencyExplainer(method: .invrise, masks: RISEMasks(count: heatmapMasks, grid: heatmapGrid),
                                          fill: heatmapFill, normalParts: nil)
        explainer.convergence = SaliencyConvergence()
        return explainer
    }

    public init(strategy: LoopStrategy) {
        queryStrategy = strategy.querySelection
        makesRefutations = strategy.makesRefutations
        asksNeighbours = strategy.asksNeighbours
    }

    /// The workspace's settings, defaults for what it does not set. A stored value the engine
    /// cannot read is an error naming the setting, not a silent default.
    public static func stored(in workspace: Workspace) throws -> LoopSettings {
        let standard = LoopSettings()
        func whole(_ range: ClosedRange<Int>) -> (String) -> Int? { { Int($0).flatMap { range.contains($0) ? $0 : nil } } }
        var settings = LoopSettings()
        settings.queryStrategy = try workspace.setting(.queryStrategy, fallback: standard.queryStrategy,
                                                       expected: QueryStrategy.allCases.map(\.rawValue).joined(separator: ", "),
                                                       QueryStrategy.init(rawValue:))
        settings.makesRefutations = try workspace.setting(.refutations, fallback: standard.makesRefutations, expected: "on or off", Workspace.onOff)
        settings.asksNeighbours = try workspace.setting(.nearNeighbours, fallback: standard.asksNeighbours, expected: "on or off", Workspace.onOff)
        settings.refutationsPerItem = try workspace.setting(.refutationsPerItem, fallback: standard.refutationsPerItem,
                                                            expected: "a whole number 0-64", whole(0...64))
        settings.interactionsPerRound = try workspace.setting(.interactionsPerRound, fallback: standard.interactionsPerRound,
                                                              expected: "a whole number from 1", whole(1...Int.max))
        settings.leaseSeconds = try workspace.setting(.leaseSeconds, fallback: standard.leaseSeconds, expected: "seconds above 0") {
            Double($0).flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        }
        settings.heatmapFill = try workspace.setting(.heatmapFill, fallback: standard.heatmapFill,
                                                     expected: MaskFill.allCases.map(\.rawValue).joined(separator: ", "), MaskFill.init(rawValue:))
        settings.heatmapMasks = try workspace.setting(.heatmapMasks, fallback: standard.heatmapMasks, expected: "a whole number 10-100000",
                                                      whole(10...100_000))
        settings.heatmapGrid = try workspace.setting(.heatmapGrid, fallback: standard.heatmapGrid, expected: "a whole number 2-64", whole(2...64))
        return settings
    }

    /// Stores every loop setting in the workspace, in one transaction.
    public func store(in workspace: Workspace) throws {
        try workspace.setSettings([
            (.queryStrategy, queryStrategy.rawValue), (.refutations, makesRefutations ? "on" : "off"),
            (.nearNeighbours, asksNeighbours ? "on" : "off"), (.refutationsPerItem, String(refutationsPerItem)),
            (.interactionsPerRound, String(interactionsPerRound)), (.leaseSeconds, String(leaseSeconds)),
            (.heatmapFill, heatmapFill.rawValue), (.heatmapMasks, String(heatmapMasks)), (.heatmapGrid, String(heatmapGrid)),
        ])
    }
}

/// What happened when an answer was submitted.
public struct SubmitOutcome: Sendable, Equatable {
    public var feedbackID: Int64
    /// Paths (relative to the workspace) of the refutations made from this answer.
    public var refutations: [String]
    /// Pool items queued for the supervisor (near hit first, then near miss).
    public var queuedReviews: [String]
    /// Interactions not yet trained on, and whether they reach the round size.
    public var pending: Int
    public var retrainDue: Bool
    /// What went wrong after the answer was stored (refutations or reviews not made, e.g. the
    /// disk filled up): the answer itself is in, so it must not be given again.
    public var followUpProblem: String?
    /// The part went to the validation split (`answers_for_validation`), not to training: no
    /// refutations are made from it, or training would see it after all.
    public var heldForValidation = false
    /// Seconds from the call until the answer was committed (what "stored" acknowledges);
    /// the refutations and reviews that follow come after.
    public var secondsToCommit = 0.0
}

/// What the active model says about one item.
public struct ItemView: Sendable {
    public var path: String
    /// At the model's input size and channels, values in [0, 1]: what the model and its
    /// heatmaps see (square, whatever the photo's shape).
    public var image: Image
    /// The photo as its file holds it — its own aspect, its colours — reduced only when its
    /// longer side exceeds `photoLimit`: what a person looks at and paints on.
    public var photo: Image
    /// The file's own size in pixels (the photo's, unless it was reduced): painted masks are
    /// stored at this size, so they line up with the file in an export.
    public var fileWidth: Int, fileHeight: Int
    public var probabilities: [Float]
    public var embedding: [Float]
    /// The label the engine knows (training data, expert feedback); nil in the pool.
    public var knownLabel: ClassLabel?
    /// Why `init` set the image aside as odd (tiny, blank, noise, far from the typical size
    /// or shape), so the screens can say so beside it; nil for an ordinary part.
    public var oddity: String? = nil
    public var predictedLabel: ClassLabel { ClassLabel(predictedFrom: probabilities) }
    public var confidence: Float { probabilities.max() ?? 0 }

    /// The longest photo side kept for the screens. A terminal panel is at most a few
    /// thousand screen pixels wide, and zooming into a reduced 2 048-px photo still shows
    /// more detail than the model's input; a 10 000 × 8 000 frame would take ~1 GB as floats.
    public static let photoLimit = 2048

    public init(path: String, image: Image, photo: Image? = nil, fileWidth: Int? = nil, fileHeight: Int? = nil,
                probabilities: [Float], embedding: [Float], knownLabel: ClassLabel?) {
        self.path = path
        self.image = image
        self.photo = photo ?? image
        self.fileWidth = fileWidth ?? self.photo.width
        self.fileHeight = fileHeight ?? self.photo.height
        self.probabilities = probabilities
        self.embedding = embedding
        self.knownLabel = knownLabel
    }

    /// A photo reduced (area-averaged, aspect kept) so its longer side is at most `photoLimit`.
    public static func displayPhoto(_ file: Image) -> Image {
        let longer = max(file.width, file.height)
        guard longer > photoLimit else { return file }
        let scale = Double(photoLimit) / Double(longer)
        return file.areaResized(width: max(1, Int((Double(file.width) * scale).rounded())),
                                height: max(1, Int((Double(file.height) * scale).rounded())))
    }
}

/// The one session API of the NearCAIPI loop (Algorithm 1): the TUI, the CLI and the
/// simulated expert all work through it. One session belongs to one user and is used from one
/// thread; several sessions (processes) can share a workspace — leases and IMMEDIATE
/// transactions keep them apart.
public final class LoopSession {
    public let workspace: Workspace
    public let user: String
    public var settings: LoopSettings
    /// The active round's predictions over the pool ("codebook" of embeddings), refreshed after
    /// every retraining or rollback.
    public private(set) var pool: PoolModel

    public init(workspace: Workspace, user: String, settings: LoopSettings? = nil) throws {
        self.workspace = workspace
        self.user = user
        self.settings = try settings ?? LoopSettings.stored(in: workspace)
        pool = try PoolModel(workspace: workspace)
    }

    public var classifier: ImageClassifier { pool.classifier }

    // MARK: Queries

    /// The next query for this user, leased to them (nil when the pool is exhausted); never
    /// a part waiting for review (`PoolModel.nextQuery`).
    public func nextQuery(seed: UInt64 = 1) throws -> Query? {
        try pool.nextQuery(for: user, strategy: settings.queryStrategy, leaseSeconds: settings.leaseSeconds, seed: seed)
    }

    /// The `count` items most likely to follow `current` (same ranking, nothing answered or
    /// leased), so their heatmaps can be computed before they are asked.
    public func upcoming(after current: Query?, count: Int, seed: UInt64 = 1) throws -> [PoolPrediction] {
        try pool.upcoming(after: current, for: user, strategy: settings.queryStrategy, count: count, seed: seed)
    }

    /// Gives the query back unanswered.
    public func release(_ query: Query) throws { try pool.release(query, for: user) }

    /// Keeps the query leased to this user while they work on it: once less than half the
    /// lease time is left, it is extended to a whole one again (nil: the part was taken or
    /// answered by someone else since the lease ran out; the query otherwise, renewed or not).
    public func keepLeased(_ query: Query, now: Double = Date().timeIntervalSince1970) throws -> Query? {
        guard query.expires - now < settings.leaseSeconds / 2 else { return query }
        return try pool.renew(query, for: user, until: now + settings.leaseSeconds, now: now)
    }

    /// The active model's prediction and embedding for any item of the workspace (pool items
    /// from the codebook, others computed).
    public func view(of path: String) throws -> ItemView {
        let item = try indexed(path)
        let (image, photo, fileWidth, fileHeight) = try pictures(of: item)
        let known = item.label
        var view: ItemView
        if let cached = pool.predictions.first(where: { $0.path == path }) {
            view = ItemView(path: path, image: image, photo: photo, fileWidth: fileWidth, fileHeight: fileHeight,
                            probabilities: cached.probabilities, embedding: cached.embedding, knownLabel: known)
        } else {
            let (probabilities, embedding) = classifier.outputs(image.pixels, batch: 1)
            view = ItemView(path: path, image: image, photo: photo, fileWidth: fileWidth, fileHeight: fileHeight,
                            probabilities: probabilities.data, embedding: embedding.data, knownLabel: known)
        }
        view.oddity = item.oddity
        return view
    }

    /// An item's model input and photo, read once from its file (both from the same pixels),
    /// and kept for the last few items: the screens read the next queries ahead, and a
    /// 1 600 × 1 200 PNG takes tens of milliseconds to decode. The files are the data set's,
    /// which the workspace only reads; the model's outputs are never kept here.
    private func pictures(of item: ItemRecord) throws -> (image: Image, photo: Image, fileWidth: Int, fileHeight: Int) {
        let key = "\(item.path)|\(classifier.channels)|\(classifier.inputSize)"
        if let kept = recentPictures.first(where: { $0.key == key }) { return kept.pictures }
        let file = try ImageFile.read(try workspace.file(of: item)).image.removingAlpha()
        let pictures = (file.modelInput(channels: classifier.channels, size: classifier.inputSize), ItemView.displayPhoto(file),
                        file.width, file.height)
        recentPictures.append((key, pictures))
        if recentPictures.count > 8 { recentPictures.removeFirst() }
        return pictures
    }

    private var recentPictures: [(key: String, pictures: (image: Image, photo: Image, fileWidth: Int, fileHeight: Int))] = []

    /// The loop's InvRISE explainer: the workspace's fill, masks and grid, the OK training
    /// parts as normal parts, stopping once a map is measured well enough.
    public func explainer() throws -> SaliencyExplainer {
        var explainer = explainerWithoutNormalParts()
        if explainer.fill.needsNormalParts { explainer.normalParts = try pool.normalParts }
        return explainer
    }

    /// The session's explainer before its normal parts are read: for a caller that reads them
    /// elsewhere (`Workspace.normalParts(for:)`), since reading and resizing up to 256
    /// photos takes seconds. Complete when its fill needs none.
    public func explainerWithoutNormalParts() -> SaliencyExplainer { settings.explainerWithoutNormalParts }

    /// The class the loop's heatmaps explain: NOK, whatever the prediction. InvRISE with a
    /// normal fill then answers the inspector's question for every part — which region, made
    /// normal, lowers P(NOK) most — so a part predicted OK at 0.51 still shows the region that
    /// nearly made it NOK; for the OK class the same masks would only ask whether a normal
    /// region stays normal, and its map is flat by construction.
    public static let explainedClass = ClassLabel.nok

    /// InvRISE heatmap of the item for the NOK class with the active model.
    public func explain(_ view: ItemView, progress: (SaliencyProgress) -> Bool = { _ in true }) throws -> SaliencyResult {
        try explainer().explain(view.image, target: Self.explainedClass.classIndex, classCount: ClassLabel.allCases.count,
                                probabilities: classifier.probabilityFunction(), progress: progress)
    }

    // MARK: Answers

    /// Records the expert's answer (durably, first), then:
    /// - an established label moves the item from the pool into training;
    /// - with refutations on, refutations are made from the relevant region — the painted mask
    ///   if there is one, else the heatmap's top 10 % when the explanation was confirmed;
    /// - with near neighbours on, a wrong prediction queues the item's near hit and near miss
    ///   for the supervisor.
    ///
    /// With `firstAnswerOnly` (the screens), an answer that labels a part which left the pool
    /// meanwhile — someone answered it first, as a query on another station or as a near hit
    /// or miss on the supervisor's screen — is refused with `PartAnsweredMeanwhile` and
    /// nothing is recorded: the first answer stands, and the part is not answered twice.
    public func submit(_ event: FeedbackEvent, heatmap: Image? = nil, seed: UInt64 = 1,
                       firstAnswerOnly: Bool = false) throws -> SubmitOutcome {
        try answer(event, heatmap: heatmap, seed: seed, closingReview: nil, firstAnswerOnly: firstAnswerOnly)
    }

    /// The supervisor's answer on a near hit or near miss: feedback, training data and
    /// refutations as for a query, and the review closed in the same transaction.
    /// Throws `ReviewAlreadyAnswered` (and records nothing) when someone else answered the
    /// review first, and `PartAnsweredMeanwhile` when the part was answered otherwise (as a
    /// query) first.
    public func answerReview(_ review: Review, _ event: FeedbackEvent, heatmap: Image? = nil, seed: UInt64 = 1) throws -> SubmitOutcome {
        guard event.itemPath == review.path else {
            throw WorkspaceError(workspace.path, "the answer is about '\(event.itemPath)', the review about '\(review.path)'")
        }
        return try answer(event, heatmap: heatmap, seed: seed, closingReview: review.id, firstAnswerOnly: true)
    }

    private func answer(_ event: FeedbackEvent, heatmap: Image?, seed: UInt64, closingReview: Int64?,
                        firstAnswerOnly: Bool) throws -> SubmitOutcome {
        let started = DispatchTime.now().uptimeNanoseconds
        var event = event
        // An answer says in which part it was given: a review is the supervisor's work.
        event.role = event.role ?? (closingReview == nil ? .inspector : .supervisor)
        let refusesLateAnswers = firstAnswerOnly && event.establishedLabel != nil
        let (id, movedTo) = try workspace.recordFeedback(event, acceptIntoTraining: true, checking: { store, item in
            // The review answered first says so as such; a part answered otherwise, as that.
            if let closingReview, try !store.reviewIsOpen(closingReview) { throw ReviewAlreadyAnswered(path: event.itemPath) }
            if refusesLateAnswers, item.split != .pool { throw PartAnsweredMeanwhile(path: event.itemPath) }
        }) { store in
            // Two supervisors may answer the same review at once: the first closes it, the
            // second's answer is rolled back with its transaction.
            if let closingReview, try !store.closeReview(closingReview) { throw ReviewAlreadyAnswered(path: event.itemPath) }
        }
        var outcome = SubmitOutcome(feedbackID: id, refutations: [], queuedReviews: [], pending: 0, retrainDue: false)
        outcome.heldForValidation = movedTo == .validation
        outcome.secondsToCommit = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        // The answer is stored: from here on a failure is reported with it, never thrown,
        // or the caller would give the same answer twice.
        do {
            try followUp(event, id: id, heatmap: heatmap, seed: seed, closingReview: closingReview, into: &outcome)
        } catch {
            outcome.followUpProblem = "\(error)"
        }
        outcome.pending = (try? workspace.pendingFeedbackCount()) ?? outcome.pending
        outcome.retrainDue = outcome.pending >= settings.interactionsPerRound
        return outcome
    }

    /// Refutations and near-neighbour reviews of a stored answer.
    private func followUp(_ event: FeedbackEvent, id: Int64, heatmap: Image?, seed: UInt64, closingReview: Int64?,
                          into outcome: inout SubmitOutcome) throws {
        // Refutations train: only a part in the training split makes them — not one held
        // for validation now or before (copies of a part the rounds are judged on would leak
        // it into training), nor a test part.
        if settings.makesRefutations, !outcome.heldForValidation, let label = event.establishedLabel,
           try indexed(event.itemPath).split == .train {
            let size = classifier.inputSize, channels = classifier.channels
            var region: BinaryMask? = nil
            if let png = event.correctedMask {
                region = BinaryMask(thresholding: try ImageFile.decode(png, name: "corrected mask").image).resized(width: size, height: size)
            } else if event.explanation == .right, let heatmap {
                region = SaliencyMetrics.topFraction(heatmap.resizedForInput(width: size, height: size))
            }
            if let region, !region.isEmpty {
                // The part was just shown: its model input is usually kept from then.
                let image = try pictures(of: try indexed(event.itemPath)).image
                let hosts = label == .nok ? try okHosts(size: size, channels: channels, limit: 8) : []
                let made = RefutationMaker.make(image: image, region: region, isDefect: label == .nok, count: settings.refutationsPerItem,
                                                seed: seed ^ UInt64(bitPattern: id), hosts: hosts)
                outcome.refutations = try workspace.addRefutations(of: event.itemPath, label: label, made)
            }
        }
        if settings.asksNeighbours, event.prediction == .wrong, closingReview == nil,
           pool.predictions.contains(where: { $0.path == event.itemPath }) {
            outcome.queuedReviews = try queueNeighbours(of: event.itemPath)
        }
    }

    private func queueNeighbours(of path: String) throws -> [String] {
        let neighbours = try self.neighbours(of: path)
        let found = [(ReviewReason.nearHit, neighbours.nearHit), (.nearMiss, neighbours.nearMiss)].compactMap { reason, neighbour in
            neighbour.map { (reason, $0.path) }
        }
        let now = Date()
        try workspace.store.transaction {
            for (reason, neighbour) in found { try workspace.store.queueReview(of: neighbour, reason: reason, forQuery: path, at: now) }
        }
        return found.map(\.1)
    }

    /// Near hit, near miss and farthest item among the items still in the pool.
    /// The query need not be in the pool any more: a query answered before the pool's
    /// predictions were last made (a restart, a new round) is run through the model again.
    public func neighbours(of path: String) throws -> Neighbours {
        let inPool = Set(try workspace.store.items(in: .pool, labelledOnly: false).map(\.id))
        var query: PoolPrediction?
        if !pool.predictions.contains(where: { $0.path == path }) {
            let view = try view(of: path)
            query = PoolPrediction(itemID: try indexed(path).id, path: path, probabilities: view.probabilities, embedding: view.embedding)
        }
        return try pool.neighbours(of: path, among: inPool, query: query)
    }

    /// The supervisor's open reviews, oldest first. A review whose item has meanwhile been
    /// answered by someone else is not listed, nor — until it is answered or let go — one
    /// whose item an inspector has open as a query (leased): one part, one answer, and the
    /// inspector who holds it answers it.
    public func reviewQueue() throws -> [Review] {
        let open = try workspace.store.reviews(openOnly: true)
        guard !open.isEmpty else { return open }
        let held = Set(try workspace.store.leases(unexpiredAt: Date().timeIntervalSince1970).map(\.path))
        return open.filter { !held.contains($0.path) }
    }

    /// The refutations made from an item: (path relative to the workspace, transform).
    public func refutations(of path: String) throws -> [(path: String, transform: String)] {
        try workspace.store.refutations(of: path).map { ($0.path, $0.transform ?? "") }
    }

    // MARK: Rounds

    public func pendingFeedback() throws -> Int { try workspace.pendingFeedbackCount() }

    public var retrainDue: Bool { get throws { try pendingFeedback() >= settings.interactionsPerRound } }

    /// Trains the next round (fine-tuning the active weights unless `fromScratch`) and, when
    /// it becomes active (the promotion rule, `promotion` or the workspace's), refreshes the
    /// pool's predictions. `progress` returning false cancels: no round is recorded and the
    /// active model stays.
    @discardableResult
    public func retrain(options: TrainingOptions, fromScratch: Bool = false, promotion: RoundPromotion? = nil,
                        progress: (TrainingProgress) -> Bool = { _ in true }) throws -> (Round, RoundMetrics) {
        let result = try workspace.trainRound(options: options, fromScratch: fromScratch, promotion: promotion, progress: progress)
        if result.0.status == .active {
            try refresh()
            // Ranked here, in the retraining's background, where a rule costs seconds (its
            // result is cached beside the round), not at the next session's first query.
            if settings.queryStrategy == .disagreementFirst { _ = try pool.ranked(by: .disagreementFirst) }
        }
        return result
    }

    /// Makes the candidate round `number` active and refreshes the pool's predictions.
    public func promote(round number: Int) throws {
        try workspace.promote(round: number)
        try refresh()
    }

    public func rounds() throws -> [Round] { try workspace.rounds() }

    /// How a round is trained from within the loop (the screens' retrain, `nearcaipi
    /// expert`): fine-tuning with Adam at 5·10⁻⁴, `epochs` epochs (without early stopping
    /// below 25), class weights by inverse frequency — refutations come only from defect
    /// regions, so without them the training set drifts to NOK (`Docs/Loop.md`) — seeded by
    /// the round's number.
    /// From scratch, the round is trained with the first round's recipe
    /// (`TrainingOptions.firstRound`, its epochs and patience) instead: fine-tuning's few
    /// epochs from random weights give a model near chance.
    public func roundTraining(epochs: Int, fromScratch: Bool = false) throws -> TrainingOptions {
        var options = TrainingOptions.firstRound
        if !fromScratch {
            options.epochs = epochs
            options.patience = max(25, epochs)
        }
        options.classWeighting = .balanced
        options.seed = UInt64(try rounds().count + 1)
        return options
    }

    /// Makes round `number` active again and refreshes the pool's predictions.
    public func rollback(to number: Int) throws {
        try workspace.rollback(to: number)
        try refresh()
    }

    /// Discards the candidate round `number`; the round in use, and so the pool, stay.
    public func discard(round number: Int) throws {
        try workspace.discard(round: number)
    }

    /// Reverts the answers `selection` picks and refreshes the pool: their items are asked
    /// again. Returns the answers reverted.
    public func revert(_ selection: AnswerSelection) throws -> [FeedbackRecord] {
        let reverted = try workspace.revert(selection)
        try refresh()
        return reverted
    }

    /// Re-reads the active model and the pool (after another process trained a round).
    public func refresh() throws { pool = try PoolModel(workspace: workspace) }

    // MARK: Helpers

    /// The indexed item at `path`, or an error naming it.
    func indexed(_ path: String) throws -> ItemRecord {
        guard let item = try workspace.item(at: path) else { throw WorkspaceError(workspace.path, "no item '\(path)'") }
        return item
    }

    /// An item's image at the model's input: originals from the data root, refutations from the workspace.
    public func itemImage(_ path: String) throws -> Image { try itemImage(indexed(path)) }

    func itemImage(_ item: ItemRecord) throws -> Image { try pictures(of: item).image }

    /// OK training originals to paste defects into (the training split's first `limit`), each
    /// read when a paste first draws it and kept: mostly the same parts for every answer.
    func okHosts(size: Int, channels: Int, limit: Int) throws -> [RefutationMaker.Host] {
        let items = try workspace.labelledItems(in: .train).filter { $0.label == .ok && !$0.origin.isGenerated }.prefix(limit)
        return try items.map { item in
            let key = "\(item.path)|\(size)|\(channels)", file = try workspace.file(of: item)
            return RefutationMaker.Host(name: item.path) { [self] in
                if let kept = keptHosts[key] { return kept }
                guard let image = try? ImageFile.read(file).image.modelInput(channels: channels, size: size) else { return nil }
                if keptHosts.count >= 4 * limit { keptHosts.removeAll() }
                keptHosts[key] = image
                return image
            }
        }
    }

    private var keptHosts: [String: Image] = [:]
}

/// Someone else answered this near hit / near miss review first; their answer stands.
/// The part an answer labels left the pool after it was shown: someone answered it first
/// (a query on another station, or a near hit / miss on the supervisor's screen). The first
/// answer stands; this one was not recorded.
public struct PartAnsweredMeanwhile: Error, CustomStringConvertible, Sendable {
    public let path: String
    public init(path: String) { self.path = path }
    public var description: String { "'\(path)' was answered meanwhile by someone else (or on another screen); that answer stands" }
}

public struct ReviewAlreadyAnswered: Error, CustomStringConvertible, Sendable {
    public let path: String
    public init(path: String) { self.path = path }
    public var description: String { "the review of '\(path)' was answered by someone else meanwhile; that answer stands" }
}
