import Foundation
import Explanations
import Imaging
import NeuralNet
import SeededRandom

/// Predictions of the active model over the workspace's pool, and what the loop asks of them.
public final class PoolModel {
    public let workspace: Workspace
    public let classifier: ImageClassifier
    public private(set) var predictions: [PoolPrediction] = []
    private var rankings: [String: [PoolPrediction]] = [:]
    private let rankingLock = NSLock()

    /// Runs the active round over every usable pool item (batches of 32) — or reads what an
    /// earlier session of the same checkpoint stored (`PoolCache`) and runs only the items
    /// it lacks. With 9 500 pool items the full run takes about 30 s on 2 cores; reading the
    /// cache takes milliseconds, so the screens open at once after the first time.
    public init(workspace: Workspace) throws {
        self.workspace = workspace
        let (model, info, round) = try workspace.activeModel()
        classifier = ImageClassifier(model: model, info: info)
        let items = try workspace.store.items(in: .pool, labelledOnly: false).map { ($0.id, $0.path) }
        let cache = PoolCache(workspace: workspace, round: round)
        let known = cache.read()
        var missing: [(Int64, String)] = []
        for (id, path) in items {
            if let stored = known[id] {
                predictions.append(PoolPrediction(itemID: id, path: path, probabilities: stored.probabilities, embedding: stored.embedding))
            } else {
                missing.append((id, path))
            }
        }
        let size = classifier.inputSize, channels = classifier.channels
        var start = 0
        while start < missing.count {
            let part = missing[start..<min(start + 32, missing.count)]
            var pixels: [Float] = []
            for (_, path) in part { pixels += try workspace.image(path, size: size, channels: channels).pixels }
            let (probabilities, embedding) = classifier.outputs(pixels, batch: part.count)
            let width = embedding.shape[1]
            for (offset, (id, path)) in part.enumerated() {
                predictions.append(PoolPrediction(
                    itemID: id, path: path, probabilities: Array(probabilities.data[(offset * 2)..<(offset * 2 + 2)]),
                    embedding: Array(embedding.data[(offset * width)..<((offset + 1) * width)])))
            }
            start += 32
        }
        predictions.sort { $0.itemID < $1.itemID }
        if !missing.isEmpty { cache.write(predictions) }
    }

    /// The workspace's normal parts for this round's model (`Workspace.normalParts`), read
    /// on first use.
    public var normalParts: NormalParts? {
        get throws {
            normalPartsLock.lock()
            defer { normalPartsLock.unlock() }
            if let loadedNormalParts { return loadedNormalParts }
            let parts = try workspace.normalParts(for: classifier)
            loadedNormalParts = .some(parts)
            return parts
        }
    }
    private var loadedNormalParts: NormalParts?? = nil
    private let normalPartsLock = NSLock()

    /// Leases the most informative pool item that nobody else holds (expired leases are
    /// free again), that has no standing feedback and does not wait for the supervisor as a
    /// near hit or miss (`itemIDsNotToAsk`), to `user` for `leaseSeconds`. The
    /// check and the lease are one IMMEDIATE transaction, so two inspectors never get the
    /// same item. nil when the pool has nothing left to ask. (A part someone is answering as
    /// a review on the supervisor screen waits in the review queue, so it is not offered.)
    public func nextQuery(for user: String, strategy: QueryStrategy = .leastConfidence, leaseSeconds: Double = 600,
                          seed: UInt64 = 1, now: Double = Date().timeIntervalSince1970) throws -> Query? {
        // Ranked once and cached; the exclusions are checked in the search, not by copying it.
        let order = try ranked(by: strategy, seed: seed)
        let store = workspace.store
        let expires = now + leaseSeconds
        // The states are read without a lock, so they may be old by the time an item is
        // claimed: a claim refused (someone took the part meanwhile, or answered it) moves on
        // down the ranking, as `SKIP LOCKED` would; the states are read again every 16 refusals.
        var refused: Set<Int64> = []
        while true {
            let (answered, heldByOthers, heldByUser) = try itemStates(for: user, now: now)
            func open(_ item: PoolPrediction) -> Bool {
                !answered.contains(item.itemID) && !refused.contains(item.itemID)
            }
            let fresh = order.lazy.filter { open($0) && !heldByOthers.contains($0.itemID) && !heldByUser.contains($0.itemID) }
            // Nothing new left: the user's own leased items, which a claim renews.
            let candidates = fresh.isEmpty ? Array(order.lazy.filter { heldByUser.contains($0.itemID) && open($0) }.prefix(16))
                                           : Array(fresh.prefix(16))
            guard !candidates.isEmpty else { return nil }
            for pick in candidates {
                if try store.claimLease(pick.itemID, to: user, until: expires, now: now) {
                    return Query(itemID: pick.itemID, path: pick.path, predictedLabel: pick.predictedLabel,
                                 confidence: pick.confidence, expires: expires)
                }
                refused.insert(pick.itemID)
            }
        }
    }

    /// What `nextQuery` will most likely offer `user` after `current`: the same ranking
    /// without the items answered or leased to anyone (the UI computes their heatmaps ahead).
    public func upcoming(after current: Query?, for user: String, strategy: QueryStrategy, count: Int, seed: UInt64 = 1,
                         now: Double = Date().timeIntervalSince1970) throws -> [PoolPrediction] {
        let (answered, heldByOthers, heldByUser) = try itemStates(for: user, now: now)
        return Array(try ranked(by: strategy, seed: seed).lazy.filter {
            $0.itemID != current?.itemID && !answered.contains($0.itemID)
                && !heldByOthers.contains($0.itemID) && !heldByUser.contains($0.itemID)
        }.prefix(count))
    }

    /// Items with a standing answer, and items leased (unexpired) to others and to `user`.
    private func itemStates(for user: String, now: Double) throws -> (answered: Set<Int64>, heldByOthers: Set<Int64>, heldByUser: Set<Int64>) {
        let answered = try workspace.store.itemIDsNotToAsk(user)
        var heldByOthers: Set<Int64> = []
        var heldByUser: Set<Int64> = []
        for lease in try workspace.store.leases(unexpiredAt: now) {
            if lease.user == user { heldByUser.insert(lease.itemID) } else { heldByOthers.insert(lease.itemID) }
        }
        return (answered, heldByOthers, heldByUser)
    }

    /// The pool in the order `strategy` asks it: most informative first, or a seeded shuffle
    /// for `random`. `nextQuery` and `upcoming` both take this order.
    public func ranked(by strategy: QueryStrategy, seed: UInt64 = 1) throws -> [PoolPrediction] {
        // The predictions never change after init: each order is computed once (sorting
        // 9 500 items by informativeness is most of a query's time otherwise).
        let key = "\(strategy.rawValue)/\(strategy == .random ? seed : 0)"
        rankingLock.lock()
        defer { rankingLock.unlock() }
        if let known = rankings[key] { return known }
        var order = predictions
        if strategy == .random {
            var random = SplitMix64(seed: seed)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, random.integer(0, i)) }
        } else {
            let anomaly = strategy.usesAnomalyScores ? try anomalyScores() : [:]
            let cuts = strategy == .reviewFirst ? try workspace.activeRound()?.metrics?.operatingPoint : nil
            let disagreeing = strategy == .disagreementFirst ? try itemsWhoseMapsDisagree() : []
            let scores = Dictionary(uniqueKeysWithValues: order.map {
                ($0.itemID, strategy.informativeness($0.probabilities, anomaly: anomaly[$0.itemID], cuts: cuts,
                                                     mapsDisagree: disagreeing.contains($0.itemID)))
            })
            order.sort { scores[$0.itemID]! > scores[$1.itemID]! }
        }
        if rankings.count > 8 { rankings.removeAll() }
        rankings[key] = order
        return order
    }

    /// How many of the least confident open parts the disagreement-first rule compares maps
    /// of, once per round: each costs an InvRISE map (0.2–0.6 s at 128 px on two cores, the
    /// convergence stop included), so ranking the whole pool this way is out of reach.
    public static let mapsCompared = 24

    /// Of the `mapsCompared` least confident pool parts without a standing answer, those whose
    /// own defect map and InvRISE map (the workspace's heatmap settings, NOK explained) point
    /// at different places; none when the active round did not train its own map.
    /// Read from the round's cache where the process that trained it computed them (`PoolCache`).
    private func itemsWhoseMapsDisagree() throws -> Set<Int64> {
        guard let round = try workspace.activeRound(), round.trainedItsDefectMap else { return [] }
        let stored = try LoopSettings.stored(in: workspace)
        let cache = PoolCache(workspace: workspace, round: round)
        let key = "\(stored.heatmapFill.rawValue) \(stored.heatmapMasks) \(stored.heatmapGrid) \(Self.mapsCompared)"
        if let known = cache.readDisagreement(settings: key) { return known }
        var explainer = stored.explainerWithoutNormalParts
        if explainer.fill.needsNormalParts { explainer.normalParts = try normalParts }
        let answered = try workspace.store.answeredItemIDs()
        // Least confident first, as `ranked(by: .leastConfidence)` orders them (its lock is held here).
        let candidates = predictions.filter { !answered.contains($0.itemID) }
            .sorted { $0.confidence < $1.confidence }.prefix(Self.mapsCompared)
        // A part whose file cannot be read now is ranked by its confidence alone; asking it
        // says why (the screens' reader names the file).
        let readable = candidates.compactMap { candidate in
            (try? workspace.image(candidate.path, size: classifier.inputSize, channels: classifier.channels)).map { (candidate.itemID, $0) }
        }
        // The own maps in one batch: one pass per flip for all of them.
        guard let ownMaps = Workspace.defectMaps(of: readable.map(\.1), model: classifier.model, info: classifier.info) else { return [] }
        var disagreeing: Set<Int64> = []
        for ((itemID, image), ownMap) in zip(readable, ownMaps) {
            let explained = explainer.explain(image, target: LoopSession.explainedClass.classIndex, classCount: ClassLabel.allCases.count,
                                              probabilities: classifier.probabilityFunction())
            if OwnMapReading(ownMap: ownMap, explanation: explained.noise.isFlat ? nil : explained.heatmap).disagrees {
                disagreeing.insert(itemID)
            }
        }
        cache.writeDisagreement(disagreeing, settings: key)
        return disagreeing
    }

    /// Round 0's anomaly score by item, in [0, 1] as the rules mix it with uncertainty: a
    /// P(defect) as it is, a patch distance as the share of the scored parts below it (none
    /// when round 0 is not the defect pretext's: the rule then falls back to least confidence,
    /// item by item). A scores file that cannot be read is an error naming it.
    private func anomalyScores() throws -> [Int64: Float] {
        let scores = try workspace.anomalyScores()
        guard let scale = scores.first?.scale else { return [:] }
        // Highest first: the last of n is 0, the first (n − 1)/n.
        let unit: [Float] = scale == .probability
            ? scores.map(\.score)
            : scores.indices.map { Float(scores.count - 1 - $0) / Float(scores.count) }
        return Dictionary(zip(scores.map(\.itemID), unit).map { $0 }, uniquingKeysWith: { a, _ in a })
    }

    /// Extends `user`'s lease on the query to `until`, while nobody else holds the part and
    /// it is still in the pool: someone working on a part keeps it past the lease time.
    /// Returns the query with its new expiry, or nil when the part was taken or answered.
    /// The same one-statement claim as `nextQuery`'s, so renewing reads no other part's state.
    public func renew(_ query: Query, for user: String, until: Double, now: Double = Date().timeIntervalSince1970) throws -> Query? {
        guard try workspace.store.claimLease(query.itemID, to: user, until: until, now: now) else { return nil }
        var renewed = query
        renewed.expires = until
        return renewed
    }

    /// Gives a leased item back (the expert moved on without answering).
    public func release(_ query: Query, for user: String) throws {
        try workspace.store.releaseLease(query.itemID, of: user)
    }

    /// Cosine similarity of embeddings (eq. 3) between the item at `path` and every other pool
    /// item: near hit = most similar of the same class, near miss = most similar of the other
    /// class, farthest = least similar. An item's class is its known label where the workspace
    /// has one (expert feedback), else the model's prediction. `among` limits the candidates
    /// (the items still in the pool); nil compares with every item predicted.
    /// `query`: the prediction of an item that is no longer in the pool (answered since the
    /// predictions were made — the supervisor reviews answered queries).
    public func neighbours(of path: String, among candidates: Set<Int64>? = nil, query given: PoolPrediction? = nil) throws -> Neighbours {
        guard let query = given ?? predictions.first(where: { $0.path == path }) else {
            throw WorkspaceError(workspace.path, "'\(path)' is not in the pool")
        }
        // Any split: a query the expert just answered has left the pool, and its class is the
        // expert's label, not the (wrong) prediction.
        let known = try workspace.store.knownOriginalLabels()
        let among = predictions.filter { candidates?.contains($0.itemID) ?? true }
        return Neighbours.search(for: query, among: among) { known[$0.itemID] ?? $0.predictedLabel }
    }
}
