import Explanations
import FileAccess
import Imaging
import NearCAIPI

/// Where the explanation commands take their model and their normal parts from.
enum ModelSource {
    /// A checkpoint file, or a workspace folder's active round — or its round `round`, whatever
    /// became of it (live, candidate, rolled back) — and the workspace.
    static func open(_ path: String, round: Int? = nil) throws -> (ImageClassifier, Workspace?) {
        let opened = try openRound(path, round: round)
        return (opened.classifier, opened.workspace)
    }

    /// `open`, and whether the round trained its network's own defect map on painted regions
    /// (`Round.trainedItsDefectMap`; false for a checkpoint file, whose head may be the
    /// pretext's, which does not carry over to real defects).
    static func openRound(_ path: String, round: Int? = nil) throws -> (classifier: ImageClassifier, workspace: Workspace?, trainedItsDefectMap: Bool) {
        if round != nil, !WorkspaceAddress.namesWorkspace(path) {
            throw UsageError("option '--round' picks a round of a workspace; '\(path)' is a checkpoint")
        }
        do {
            if WorkspaceAddress.namesWorkspace(path) {
                let workspace = try Workspace(opening: path)
                if let round {
                    guard let chosen = try workspace.rounds().first(where: { $0.number == round }) else {
                        let numbers = try workspace.rounds().map { String($0.number) }
                        throw RuntimeFailure("\(path): no round \(round) (its rounds: \(numbers.isEmpty ? "none" : numbers.joined(separator: ", ")))")
                    }
                    return (try ImageClassifier(checkpoint: workspace.checkpointPath(of: chosen)), workspace, chosen.trainedItsDefectMap)
                }
                let active = try workspace.activeModel()
                return (ImageClassifier(model: active.model, info: active.info), workspace, active.round.trainedItsDefectMap)
            }
            return (try ImageClassifier(checkpoint: path), nil, false)
        } catch let failure as RuntimeFailure {
            throw failure
        } catch {
            throw RuntimeFailure(error)
        }
    }

    /// The normal parts the normal-part fills among `fills` need: the OK images of `folder`,
    /// else the workspace's OK training parts, else `fallback` (already prepared OK images).
    /// nil when no fill needs them, or, with a note that blur is used instead, when there are none.
    static func normalParts(for fills: [MaskFill], classifier: ImageClassifier, workspace: Workspace?, folder: String?,
                            fallback: [Image] = [], command: String) throws -> NormalParts? {
        guard let fill = fills.first(where: \.needsNormalParts) else { return nil }
        var parts: NormalParts? = nil
        if let folder {
            let paths = ClassFolderDataset.images(below: folder, relative: "")
            var images: [Image] = []
            for path in paths {
                do { images.append(classifier.prepare(try ImageFile.read("\(folder)/\(path)").image)) } catch {
                    printError("nearcaipi \(command): \(error) (skipped)")
                }
            }
            guard !images.isEmpty else { throw RuntimeFailure("\(folder): no readable OK image for the normal parts") }
            parts = NormalParts(parts: images)
        } else if let workspace {
            do { parts = try workspace.normalParts(for: classifier) } catch { throw RuntimeFailure(error) }
        } else {
            parts = NormalParts(parts: fallback)
        }
        if parts == nil {
            printError("nearcaipi \(command): the \(fill.rawValue) fill needs OK parts (--normal DIR or a workspace); using blur")
        }
        return parts
    }
}
