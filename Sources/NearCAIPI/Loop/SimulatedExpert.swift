import Explanations
import FileAccess
import Imaging

/// An expert who answers from the data set's ground truth (the main paper's protocol, sec.
/// 4.2: the simulated user always corrects to the ground truth).
///
/// - The prediction is judged against the true label and corrected to it.
/// - For an item with a ground-truth mask: given a heatmap, the explanation is right when the
///   heatmap's maximum falls inside the mask (the pointing game) and its top 10 % and the mask
///   grown by a few pixels overlap on at least half of the smaller of the two (a small pore
///   cannot fill a tenth of the image); otherwise it is wrong and the true mask
///   is painted. Without a heatmap (a simulation that skips InvRISE) the true mask is given
///   as the correction, with no verdict on an explanation nobody saw.
/// - A NOK item without a mask (an unmasked data set), predicted NOK: given a heatmap that
///   shows a region (not flat), the explanation is accepted — the main paper's simulated
///   user on its casting data, whose refutations come from the accepted map; a flat map
///   shows nothing to accept and gets no verdict. Without a heatmap: label only.
/// - An OK item: the label is judged and the explanation (of a defect that is not there)
///   left alone.
public struct SimulatedExpert: Sendable {
    public var name: String

    public init(name: String = "simulated-expert") { self.name = name }

    /// The truth the workspace holds for an item: its label and mask path (relative to the
    /// data root), from the index that `init` built.
    public static func truth(of path: String, in workspace: Workspace) throws -> (label: ClassLabel, maskPath: String?) {
        guard let item = try workspace.item(at: path), let label = item.truthLabel else {
            throw WorkspaceError(workspace.path, "no ground truth for '\(path)'; the simulated expert needs a labelled data set")
        }
        return (label, item.truthMaskPath)
    }

    /// The answer on `view` (the active model's prediction), with its heatmap if one was computed.
    /// `showsRegion`: the heatmap is not flat (its noise estimate says so).
    public func answer(_ view: ItemView, heatmap: Image? = nil, showsRegion: Bool = true, in workspace: Workspace) throws -> FeedbackEvent {
        try answer(path: view.path, predictedLabel: view.predictedLabel, confidence: view.confidence, heatmap: heatmap,
                   showsRegion: showsRegion, in: workspace)
    }

    public func answer(path: String, predictedLabel: ClassLabel, confidence: Float, heatmap: Image? = nil, showsRegion: Bool = true,
                       in workspace: Workspace) throws -> FeedbackEvent {
        let truth = try Self.truth(of: path, in: workspace)
        var event = FeedbackEvent(itemPath: path, user: name, predictedLabel: predictedLabel, predictedConfidence: Double(confidence),
                                  prediction: predictedLabel == truth.label ? .right : .wrong, correctedLabel: truth.label)
        guard truth.label == .nok else { return event }
        guard let maskPath = truth.maskPath else {
            if heatmap != nil, showsRegion, predictedLabel == .nok { event.explanation = .right }
            return event
        }
        let mask = BinaryMask(thresholding: try ImageFile.read("\(try workspace.dataRoot)/\(maskPath)").image)
        if let heatmap, predictedLabel == truth.label {
            let region = mask.resized(width: heatmap.width, height: heatmap.height)
            let top = SaliencyMetrics.topFraction(heatmap)
            let grown = region.dilated(radius: max(1, heatmap.width / 32))
            if SaliencyMetrics.hit(heatmap, mask: region), top.area > 0, 2 * top.intersectionArea(with: grown) >= min(top.area, grown.area) {
                event.explanation = .right
                return event
            }
            event.explanation = .wrong
        } else if heatmap != nil {
            // The explanation of a wrong prediction explains the wrong class: wrong by definition.
            event.explanation = .wrong
        }
        event.correctedMask = try ImageFile.encodePNG(mask.image, name: maskPath)
        return event
    }

    /// Answers every open near hit / near miss review of `session` from the truth, as a
    /// supervisor. A review whose part was answered first — by another process, or here
    /// through another review of the same part — is skipped (its outcome is nil): that answer
    /// stands.
    @discardableResult
    public func answerOpenReviews(in session: LoopSession, seed: UInt64 = 1) throws -> [(review: Review, outcome: SubmitOutcome?)] {
        var answered: [(review: Review, outcome: SubmitOutcome?)] = []
        for review in try session.reviewQueue() {
            let view = try session.view(of: review.path)
            do {
                answered.append((review, try session.answerReview(review, try answer(view, in: session.workspace), seed: seed)))
            } catch is ReviewAlreadyAnswered, is PartAnsweredMeanwhile {
                // Another process answered it, or this loop did through another review of the same part.
                answered.append((review, nil))
            }
        }
        return answered
    }
}
