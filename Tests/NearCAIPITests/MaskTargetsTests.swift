import Foundation
import Explanations
import Imaging
@testable import NearCAIPI
import NeuralNet
import Testing
import TestSupport

/// What the mask loss trains on: the defect regions the workspace knows — painted masks,
/// refutations' masks, the data set's masks of the parts it labelled — never a region nobody
/// gave; good parts towards an empty map. The setting is stored, and a round trained with it
/// carries a defect head into the next.
@Suite(.serialized) struct MaskTargetsTests {
    @Test func theRegionsKnownTrainTheMapAndNothingElse() throws {
        let directory = TemporaryDirectory("mask-targets")
        defer { directory.remove() }
        let workspace = try QuerySelectionTests.trainedWorkspace(directory)
        try workspace.setAnswersForValidation(0)
        #expect(try workspace.maskLoss == Workspace.standardMaskLoss)
        let session = try LoopSession(workspace: workspace, user: "ines")
        let (defects, ok) = try RollbackAndRevertTests.poolItems(session)
        let size = session.classifier.inputSize
        let painted = try RollbackAndRevertTests.paintedMask(size: size)
        // A defect painted (its refutations follow), a defect confirmed without a region, a good part.
        let outcome = try session.submit(FeedbackEvent(itemPath: defects[0], user: "ines", predictedLabel: .nok, prediction: .right,
                                                       explanation: .wrong, correctedMask: painted))
        #expect(!outcome.refutations.isEmpty)
        _ = try session.submit(FeedbackEvent(itemPath: defects[1], user: "ines", predictedLabel: .nok, prediction: .right))
        _ = try session.submit(FeedbackEvent(itemPath: ok[0], user: "ines", predictedLabel: .nok, prediction: .wrong))

        let items = try workspace.labelledItems(in: .train)
        let targets = try workspace.maskTargets(of: items, in: .train, size: size)
        #expect(targets.weights.count == items.count && targets.masks.count == items.count * size * size)
        func mask(of path: String) throws -> (weight: Float, bits: [Float]) {
            let index = try #require(items.firstIndex { $0.path == path })
            return (targets.weights[index], Array(targets.masks.data[(index * size * size)..<((index + 1) * size * size)]))
        }
        let paintedBits = BinaryMask(thresholding: try ImageFile.decode(painted, name: "painted").image).bits.map { Float($0 ? 1 : 0) }
        #expect(try mask(of: defects[0]) == (1, paintedBits), "the inspector's painted region")
        #expect(try mask(of: defects[1]).weight == 0, "a defect nobody marked: its region is unknown, the data set's mask not read")
        #expect(try mask(of: ok[0]) == (1, [Float](repeating: 0, count: size * size)), "a good part: an empty map")
        for path in outcome.refutations {
            let record = try #require(try workspace.item(at: path))
            let own = BinaryMask(thresholding: try ImageFile.read(workspace.file(of: try #require(record.truthMaskPath), origin: .refutation)).image)
            #expect(try mask(of: path) == (1, own.bits.map { $0 ? 1 : 0 }), "a refutation's own, moved mask")
        }
        // The parts the data set labelled come with its masks.
        let initial = items.filter { $0.origin == .original && $0.label == .nok && ![defects[0], defects[1]].contains($0.path) }
        try #require(!initial.isEmpty)
        for item in initial {
            let known = try DatasetFile.mask(try #require(item.truthMaskPath), root: workspace.dataRoot)
            let expected = try #require(known).resized(width: size, height: size).bits.map { Float($0 ? 1 : 0) }
            #expect(try mask(of: item.path) == (1, expected), "\(item.path)")
        }
        #expect(targets.defectRegions == 1 + outcome.refutations.count + initial.count)

        // Off: a round has no head and says nothing of masks.
        let (plain, _) = try session.retrain(options: RollbackAndRevertTests().quickRound())
        #expect(plain.metrics?.maskRegions == nil)
        #expect(try Checkpoint.load(workspace.checkpointPath(of: plain)).model.defectHead == nil)
        // Without an own map there is nothing to disagree with: the rule asks least confident first.
        let plainPool = try PoolModel(workspace: workspace)
        #expect(try plainPool.ranked(by: .disagreementFirst).map(\.itemID) == plainPool.ranked(by: .leastConfidence).map(\.itemID))
        // On, stored: the next round grows a head and trains it; the one after keeps it.
        try workspace.setMaskLoss(true)
        #expect(try Workspace(opening: workspace.path).maskLoss)
        let (masked, _) = try session.retrain(options: RollbackAndRevertTests().quickRound())
        #expect(masked.metrics?.maskRegions == targets.defectRegions)
        let (model, info) = try Checkpoint.load(workspace.checkpointPath(of: masked))
        #expect(model.defectHead != nil && info.configuration.hasDefectHead)
        try Self.expectDisagreementFirst(in: workspace, session: session)
        let (next, _) = try session.retrain(options: RollbackAndRevertTests().quickRound())
        let nextHead = try Checkpoint.load(workspace.checkpointPath(of: next)).model.defectHead
        #expect(nextHead != nil && nextHead!.namedParameters.map(\.1.value) != model.defectHead!.namedParameters.map(\.1.value))
        // Right reasons, stored: a round trains with the class map's penalty on the same regions
        // (a changed network, no own map needed); mask loss and right reasons are independent.
        #expect(try workspace.rightReasons == Workspace.standardRightReasons)
        try workspace.setMaskLoss(false)
        try workspace.setRightReasons(true)
        #expect(try Workspace(opening: workspace.path).rightReasons)
        let (reasoned, _) = try session.retrain(options: RollbackAndRevertTests().quickRound())
        #expect(reasoned.metrics?.maskRegions == nil && !reasoned.trainedItsDefectMap)
        try workspace.setSettings([(.rightReasons, "maybe")])
        do { _ = try workspace.rightReasons; Issue.record("an unusable value was read") } catch {
            #expect("\(error)".contains("'right_reasons' has an unusable value 'maybe'"))
        }
        // A value the engine cannot use is refused by name.
        try workspace.setSettings([(.maskLoss, "sometimes")])
        #expect(throws: WorkspaceError.self) { try workspace.maskLoss }
        do { _ = try workspace.maskLoss } catch { #expect("\(error)".contains("'mask_loss' has an unusable value 'sometimes'")) }
    }

    /// With a round that trained its own map, the disagreement-first order is: of the least
    /// confident open parts the rule compares, those whose own map and InvRISE point at
    /// different places (each reading made here again, from the maps), least confident first;
    /// then every other part, least confident first; each pool part once.
    static func expectDisagreementFirst(in workspace: Workspace, session: LoopSession) throws {
        // 100 masks a map: the rule and this check compare 24 maps each.
        var settings = try LoopSettings.stored(in: workspace)
        settings.heatmapMasks = 100
        try settings.store(in: workspace)
        let session = try LoopSession(workspace: workspace, user: session.user)
        let pool = try PoolModel(workspace: workspace)
        let order = try pool.ranked(by: .disagreementFirst)
        #expect(Set(order.map(\.itemID)) == Set(pool.predictions.map(\.itemID)) && order.count == pool.predictions.count)
        let answered = try workspace.store.answeredItemIDs()
        let compared = pool.predictions.filter { !answered.contains($0.itemID) }.sorted { $0.confidence < $1.confidence }
            .prefix(PoolModel.mapsCompared)
        let explainer = try session.explainer()
        var disagreeing: Set<Int64> = []
        for part in compared {
            let image = try workspace.image(part.path, size: pool.classifier.inputSize, channels: pool.classifier.channels)
            let ownMap = try #require(Workspace.defectMaps(of: [image], model: pool.classifier.model, info: pool.classifier.info)?.first)
            let explained = explainer.explain(image, target: ClassLabel.nok.classIndex, classCount: 2,
                                              probabilities: pool.classifier.probabilityFunction())
            if OwnMapReading(ownMap: ownMap, explanation: explained.noise.isFlat ? nil : explained.heatmap).disagrees {
                disagreeing.insert(part.itemID)
            }
        }
        let first = order.prefix(disagreeing.count), rest = order.dropFirst(disagreeing.count)
        #expect(Set(first.map(\.itemID)) == disagreeing)
        for run in [Array(first), Array(rest)] {
            #expect(zip(run, run.dropFirst()).allSatisfy { $0.confidence <= $1.confidence }, "least confident first")
        }
        // Kept beside the round: another session opening it ranks alike without a map.
        let round = try #require(try workspace.activeRound())
        let file = workspace.checkpointPath(of: round).replacingOccurrences(of: ".safetensors", with: ".disagree")
        #expect(FileManager.default.fileExists(atPath: file))
        #expect(try PoolModel(workspace: workspace).ranked(by: .disagreementFirst).map(\.itemID) == order.map(\.itemID))
        // A file that does not belong to the round's checkpoint is ignored, and made again.
        try Data("NCDISAG1\n1 2\nnormal 1000 8 24\n\(order.last!.itemID)\n".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try PoolModel(workspace: workspace).ranked(by: .disagreementFirst).map(\.itemID) == order.map(\.itemID))
    }
}
