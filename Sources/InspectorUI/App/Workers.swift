import Explanations
import Foundation
import Imaging
import NearCAIPI
import NeuralNet

/// Computes InvRISE heatmaps on a background thread with its own copy of the model (the UI's
/// model is not shared across threads), most urgent first: the item on screen, then the next
/// queries, so moving on is instant. Partial maps are published while a map is computed, so
/// the screen can draw it progressively.
final class HeatmapWorker: @unchecked Sendable {
    struct Result {
        var heatmap: Image
        var masksDone: Int
        var complete: Bool
        var noise: HeatmapNoise
        /// The network's own defect map of the part, P(defect) per pixel at the model's input
        /// size (from the round's defect head, averaged over the four flips), when the round
        /// trained one; computed before the explanation, so it is there from the first partial map.
        var ownMap: Image?
        /// What the own map says beside the finished explanation (`OwnMapReading`): its
        /// highest P(defect) and whether the two point at the same place. Decided once, here,
        /// not at every redraw: it sorts both maps.
        var ownMapReading: OwnMapReading?
        var display: HeatmapDisplay { HeatmapDisplay(heatmap: heatmap, noise: noise) }

        init(heatmap: Image, masksDone: Int, complete: Bool, noise: HeatmapNoise, ownMap: Image? = nil) {
            (self.heatmap, self.masksDone, self.complete, self.noise, self.ownMap) = (heatmap, masksDone, complete, noise, ownMap)
            ownMapReading = ownMap.map { OwnMapReading(ownMap: $0, explanation: complete && !noise.isFlat ? heatmap : nil) }
        }
    }
    struct Item {
        var path: String
        var image: Image
        var target: Int
    }

    private let lock = NSCondition()
    private var queue: [Item] = []
    private var results: [String: Result] = [:]
    private var classifier: ImageClassifier
    /// Whether the round's network has a defect map of its own worth showing (`Round.trainedItsDefectMap`).
    private var ownMaps: Bool
    private var explainer: SaliencyExplainer
    private var stopped = false
    private var generation = 0
    var masks: Int {
        lock.lock()
        defer { lock.unlock() }
        return explainer.masks.count
    }
    /// Incremented whenever a result changes; the UI redraws when it sees a new value.
    private var version = 0

    /// Reads the normal parts an explainer's fill draws from, prepared for the given model
    /// (`Workspace.normalParts(for:)`). Called on the worker's thread: it reads and resizes up
    /// to 256 photos, seconds for large ones, which on the UI thread froze the screens each
    /// time a round went live.
    typealias NormalPartsReader = @Sendable (ImageClassifier) throws -> NormalParts?
    private let readNormalParts: NormalPartsReader?
    /// The explainer's fill needs normal parts not read yet for this model.
    private var normalPartsMissing: Bool

    /// `explainer` is the session's (`LoopSession.explainerWithoutNormalParts()`, or a complete
    /// `explainer()`), for the same round as `checkpoint`; `readNormalParts` supplies its
    /// normal parts when its fill needs them and it has none.
    init(checkpoint: String, ownMaps: Bool = false, explainer: SaliencyExplainer, readNormalParts: NormalPartsReader? = nil) throws {
        classifier = try ImageClassifier(checkpoint: checkpoint)
        self.ownMaps = ownMaps
        self.explainer = explainer
        self.readNormalParts = readNormalParts
        normalPartsMissing = explainer.fill.needsNormalParts && explainer.normalParts == nil && readNormalParts != nil
        let thread = Thread { [weak self] in self?.loop() }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Replaces the waiting list (the first is computed first). Items already done are skipped.
    func request(_ items: [Item]) {
        lock.lock()
        queue = items.filter { results[$0.path]?.complete != true }
        lock.signal()
        lock.unlock()
    }

    func result(for path: String) -> Result? {
        lock.lock()
        defer { lock.unlock() }
        return results[path]
    }

    var currentVersion: Int {
        lock.lock()
        defer { lock.unlock() }
        return version
    }

    /// A new round is active: forget every map, load its model.
    func reload(checkpoint: String, ownMaps: Bool = false, explainer: SaliencyExplainer) throws {
        let fresh = try ImageClassifier(checkpoint: checkpoint)
        lock.lock()
        classifier = fresh
        self.ownMaps = ownMaps
        self.explainer = explainer
        normalPartsMissing = explainer.fill.needsNormalParts && explainer.normalParts == nil && readNormalParts != nil
        results = [:]
        queue = []
        generation += 1
        version += 1
        lock.unlock()
    }

    private let finished = DispatchSemaphore(value: 0)

    /// Stops the thread and waits (up to `timeout` seconds) until it has left its loop: a
    /// process must not exit while a worker is inside OpenBLAS, whose exit handler waits for
    /// its busy threads.
    func stop(timeout: Double = 10) {
        lock.lock()
        stopped = true
        lock.signal()
        lock.unlock()
        _ = finished.wait(timeout: .now() + timeout)
    }

    private func loop() {
        defer { finished.signal() }
        while true {
            lock.lock()
            while queue.isEmpty && !stopped { lock.wait() }
            if stopped { lock.unlock(); return }
            let item = queue.removeFirst()
            let model = classifier, started = generation, partsMissing = normalPartsMissing, ownMaps = ownMaps
            var explainer = explainer
            lock.unlock()
            if partsMissing, let readNormalParts {
                // Without them the fill falls back to its own default (as for a workspace with
                // no OK training part), so a read that fails still gives a map.
                let parts = try? readNormalParts(model)
                explainer.normalParts = parts
                lock.lock()
                if generation == started {
                    self.explainer.normalParts = parts
                    normalPartsMissing = false
                }
                lock.unlock()
            }
            // One pass per flip: milliseconds beside the explanation's thousand.
            let ownMap = ownMaps ? Workspace.defectMaps(of: [item.image], model: model.model, info: model.info)?.first : nil
            var last = 0
            // Declared as explaining: while a round trains, this map gets one core and the
            // training the rest (CoreShare's policy), re-read at every batch of masks.
            let result = CoreShare.run(as: .explaining) {
                explainer.explain(item.image, target: item.target, classCount: 2,
                                  probabilities: model.probabilityFunction()) { progress in
                    self.lock.lock()
                    defer { self.lock.unlock() }
                    if self.stopped || self.generation != started { return false }
                    // Publish about ten partial maps per item.
                    if progress.masksDone - last >= explainer.masks.count / 10 {
                        last = progress.masksDone
                        self.results[item.path] = Result(heatmap: progress.heatmap, masksDone: progress.masksDone, complete: false,
                                                         noise: progress.noise, ownMap: ownMap)
                        self.version += 1
                    }
                    return true
                }
            }
            lock.lock()
            if generation == started && !result.cancelled {
                results[item.path] = Result(heatmap: result.heatmap, masksDone: result.masksUsed, complete: true, noise: result.noise,
                                            ownMap: ownMap)
                version += 1
            }
            lock.unlock()
        }
    }
}

/// Trains on a background thread with its own workspace connection, so the screens stay
/// usable; progress and the outcome are read by the UI loop. One job at a time, as each uses
/// the cores the heatmaps leave (CoreShare's policy):
/// - the next round, through the session's one retraining recipe (`LoopSession.retrain`: the
///   round, then the new round's pool predictions, cached beside its checkpoint, so the UI
///   thread's refresh only reads them);
/// - the workspace's pretraining without labels (round 0), resumed from its last finished
///   epoch unless restarted; cancelling it keeps the epochs done.
final class TrainingWorker: @unchecked Sendable {
    enum Job: Equatable {
        case round(fromScratch: Bool)
        case pretraining(restart: Bool)
    }

    enum State {
        case idle
        case running(Job, epoch: Int, of: Int, loss: Float)
        /// The round was recorded: `active` when it replaced the model in use, else it is a
        /// candidate (worse on validation than `activeNumber`, whose validation MCC is given).
        case finished(Round, previous: Round?)
        /// Pretraining ended: finished, or stopped as asked with the epochs done kept.
        case pretrained(PretrainingSummary)
        /// The job stopped as asked before it recorded anything (a round; pretraining that
        /// stops keeps its epochs and reports `pretrained`).
        case cancelled(Job)
        case failed(Job, String)
    }

    private let lock = NSLock()
    private var stateValue: State = .idle
    private var cancelRequested = false
    private var version = 0

    var state: State {
        lock.lock()
        defer { lock.unlock() }
        return stateValue
    }

    var isRunning: Bool { runningJob != nil }

    /// The job in progress, if any.
    var runningJob: Job? { if case .running(let job, _, _, _) = state { return job } else { return nil } }

    /// The job in progress is the workspace's pretraining.
    var isPretraining: Bool { if case .pretraining = runningJob { return true } else { return false } }

    private func set(_ state: State) {
        lock.lock()
        stateValue = state
        version += 1
        lock.unlock()
    }

    var currentVersion: Int {
        lock.lock()
        defer { lock.unlock() }
        return version
    }

    private var shouldGoOn: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !cancelRequested
    }

    /// Trains the next round.
    func start(workspacePath: String, user: String, options: TrainingOptions, fromScratch: Bool) {
        let job = Job.round(fromScratch: fromScratch)
        launch(job, epochs: options.epochs) {
            let session = try LoopSession(workspace: try Workspace(opening: workspacePath), user: user)
            let before = try session.workspace.activeRound()
            let (round, _) = try session.retrain(options: options, fromScratch: fromScratch) { progress in
                self.set(.running(job, epoch: progress.epoch, of: options.epochs, loss: progress.loss))
                return self.shouldGoOn
            }
            self.set(.finished(round, previous: before))
        }
    }

    /// Pretrains the workspace's backbone (round 0).
    func startPretraining(workspacePath: String, options: PretrainingOptions, restart: Bool) {
        let job = Job.pretraining(restart: restart)
        launch(job, epochs: options.epochs) {
            let workspace = try Workspace(opening: workspacePath)
            let summary = try workspace.pretrain(options: options, restart: restart) { progress in
                if progress.batch == progress.batchesPerEpoch || progress.batch % 4 == 0 {
                    self.set(.running(job, epoch: progress.epoch, of: progress.epochs, loss: progress.loss))
                }
                return self.shouldGoOn
            }
            self.set(.pretrained(summary))
        }
    }

    private func launch(_ job: Job, epochs: Int, _ work: @escaping @Sendable () throws -> Void) {
        guard !isRunning else { return }
        lock.lock()
        cancelRequested = false
        lock.unlock()
        set(.running(job, epoch: 0, of: epochs, loss: 0))
        let thread = Thread {
            // Declared as training, for CoreShare's policy while heatmaps compute.
            CoreShare.run(as: .training) {
                do {
                    try work()
                } catch let error as WorkspaceError where error.reason == .trainingCancelled {
                    self.set(.cancelled(job))
                } catch {
                    self.set(.failed(job, "\(error)"))
                }
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    func cancel() {
        lock.lock()
        cancelRequested = true
        lock.unlock()
    }

    /// Cancels the running job and waits (up to `timeout` seconds) for its thread to stop,
    /// before the process exits (nothing half-done is recorded: a cancelled round is not;
    /// pretraining keeps its finished epochs).
    func cancelAndWait(timeout: Double = 30) {
        guard isRunning else { return }
        cancel()
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { usleep(20_000) }
    }
}

/// On a server workspace: a thread of its own, with its own connection, waiting on the
/// workspace's news channel (`LISTEN`), so the screens learn of a round trained or answers
/// given on another station as soon as that station commits — without asking the server every
/// second. `heard` goes up with every notification (this station's own commits included: the
/// screens then only look again). A lost connection is made anew by the store at its next
/// wait; a workspace that cannot be opened is tried again every two seconds.
final class NewsListener: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var stopRequested = false

    init(workspaceAddress: String) {
        let thread = Thread { [weak self] in self?.listen(to: workspaceAddress) }
        thread.name = "news"
        thread.start()
    }

    /// How many times news arrived since the listener started.
    var heard: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    /// Ends the thread within its current wait (a second at most).
    func stop() {
        lock.lock()
        stopRequested = true
        lock.unlock()
    }

    private var stopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopRequested
    }

    private func listen(to address: String) {
        var workspace: Workspace?
        while !stopped {
            do {
                if workspace == nil { workspace = try Workspace(opening: address) }
                if try workspace?.waitForNews(upTo: 1) == true {
                    lock.lock()
                    count += 1
                    lock.unlock()
                }
            } catch {
                workspace = nil
                Thread.sleep(forTimeInterval: 2)
            }
        }
    }
}
