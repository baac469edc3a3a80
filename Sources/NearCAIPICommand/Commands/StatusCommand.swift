import Foundation
import NearCAIPI
import NeuralNet

/// `nearcaipi status`: what a workspace holds.
enum StatusCommand: Command {
    static let name = "status"
    static let summary = "show a workspace: images per class and split, masks, skipped files, feedback, rounds"
    static let discussion = """
    Images per class (how many have masks, how many were skipped as unreadable), counts per
    split and known class (the pool's labels stay hidden until given), feedback not yet
    trained on, and the rounds with their metrics and which one is active.
    """

    static let json = Flag(name: "--json", help: "print one JSON object instead of the text")
    static let parameters: [any Parameter] = [Positional.workspace, json]

    static func run(_ arguments: Arguments) throws {
        let path = try arguments.positionals([Positional.workspace])[0]
        let workspace: Workspace
        do { workspace = try Workspace(opening: path) } catch { throw RuntimeFailure(error) }
        if arguments[json] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var report = StatusReport(try workspace.status(), pool: try workspace.poolAnomalyScores(), odd: try workspace.oddItems())
            report.read_only = workspace.isReadOnly
            report.unstored_answers = workspace.unstoredAnswerFiles().count
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            try printStatus(workspace)
        }
    }

    /// `status --json`: what `status` prints, as one JSON object.
    struct StatusReport: Encodable {
        struct Images: Encodable {
            var usable, unreadable, with_mask, ok, nok: Int
            /// Set aside in the pool as odd by `init`, and of them labelled by a person since.
            var set_aside = 0, set_aside_labelled = 0
        }
        struct SplitCounts: Encodable { var ok, nok, hidden: Int }
        struct RoundEntry: Encodable {
            var round: Int
            var status: String
            var training_size: Int
            var metrics: RoundMetrics?
        }
        var images: Images
        var splits: [String: SplitCounts]
        var pending_feedback: Int
        /// Round 0: pretraining without labels (null when never run).
        var pretraining: Pretraining?
        var rounds: [RoundEntry]
        struct Pretraining: Encodable {
            var method: String
            var images, epochs_done, epochs: Int
            var finished: Bool
            var final_loss: Float?
            var seconds: Double
        }
        /// The workspace's folder cannot be written: opened for reading only.
        var read_only = false
        /// Answers the store refused, waiting in unstored-answers/ for the screens' next start.
        var unstored_answers = 0
        /// The pool ranked by round 0's anomaly score (defect pretext only; null otherwise).
        var anomaly_scores: AnomalyScores?
        struct AnomalyScores: Encodable {
            struct Entry: Encodable { var item: String; var score: Float }
            /// What the scores are, in words: "patch distance, absence and aligned residual, in standard
            /// deviations" or "P(defect)".
            var scale: String
            var pool: Int
            /// Parts beyond what the workspace's parts usually show (`AnomalyScore.standsOut`).
            var standing_out: Int
            var highest: [Entry]
        }

        /// `pool`: round 0's anomaly scores of the parts in the pool, highest first.
        init(_ status: Workspace.Status, pool: [AnomalyScore], odd: [ItemRecord]) {
            images = Images(usable: status.usable, unreadable: status.unusable, with_mask: status.withMask,
                            ok: status.perClass[.ok] ?? 0, nok: status.perClass[.nok] ?? 0,
                            set_aside: odd.count, set_aside_labelled: odd.filter { $0.label != nil }.count)
            splits = Dictionary(uniqueKeysWithValues: Split.allCases.map { split in
                let counts = status.perSplit[split] ?? [:]
                return (split.rawValue, SplitCounts(ok: counts[.ok] ?? 0, nok: counts[.nok] ?? 0, hidden: counts[nil] ?? 0))
            })
            pending_feedback = status.pendingFeedback
            pretraining = status.pretraining.map {
                Pretraining(method: $0.method.rawValue, images: $0.images, epochs_done: $0.epochsDone, epochs: $0.epochs, finished: $0.isFinished && status.hasPretrainedBackbone,
                            final_loss: $0.losses.last, seconds: $0.seconds)
            }
            anomaly_scores = pool.isEmpty ? nil : AnomalyScores(
                scale: StatusCommand.scaleName(pool[0].scale), pool: pool.count, standing_out: pool.filter(\.standsOut).count,
                highest: pool.prefix(10).map { AnomalyScores.Entry(item: StatusCommand.fileName($0.path), score: $0.score) })
            rounds = status.rounds.map { RoundEntry(round: $0.number, status: $0.status.rawValue, training_size: $0.trainingSize, metrics: $0.metrics) }
        }
    }

    /// What an anomaly score's number is, and when a part stands out, in words.
    static func scaleName(_ scale: AnomalyScore.Scale) -> String {
        scale == .probability ? "P(defect)" : "patch distance, absence and aligned residual, in standard deviations"
    }

    static func standingOutRule(_ scale: AnomalyScore.Scale) -> String {
        scale == .probability ? "above 0.5" : String(format: "beyond %.0f", AnomalyScore.standingOut)
    }

    static func printStatus(_ workspace: Workspace) throws {
        let status = try workspace.status()
        if workspace.isReadOnly {
            print("  read-only: the workspace's folder cannot be written; it can be read (status, export, eval-…), not changed")
        }
        let unstored = workspace.unstoredAnswerFiles().count
        if unstored > 0 {
            print("  answers the store refused, kept in unstored-answers/: \(unstored) (stored when the screens next start)")
        }
        print("  images: \(status.usable) usable (OK \(status.perClass[.ok] ?? 0), NOK \(status.perClass[.nok] ?? 0); \(status.withMask) with a defect mask), \(status.unusable) unreadable")
        let odd = try workspace.oddItems()
        if !odd.isEmpty {
            let labelled = odd.filter { $0.label != nil }.count
            print("  set aside as odd by init: \(odd.count), kept in the pool until a person labels them (\(labelled) labelled so far)")
            for item in odd.prefix(5) { print("    \(item.path): \(item.oddity ?? "")\(item.label.map { " — labelled \($0.displayName)" } ?? "")") }
            if odd.count > 5 { print("    … and \(odd.count - 5) more") }
        }
        for split in Split.allCases {
            let counts = status.perSplit[split] ?? [:]
            let known = "OK \(counts[.ok] ?? 0), NOK \(counts[.nok] ?? 0)"
            let hidden = (counts[nil] ?? 0) > 0 ? ", \(counts[nil]!) with labels hidden" : ""
            print("  \(split.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \(known)\(hidden)")
        }
        // Every answer since the last round counts towards the next (the loop's interactions),
        // also one kept for validation, which that round will not train on.
        print("  answers since the last round: \(status.pendingFeedback) (each counts towards the next round)")
        let heldOut = try workspace.answersHeldForValidation()
        if heldOut > 0 {
            print("  answered parts kept for validation: \(heldOut) (answers_for_validation \(String(format: "%g", try workspace.answersForValidation)) "
                  + "of each class; they judge the rounds and are not trained on)")
        }
        print("  mask loss: " + (try workspace.maskLoss
            ? "on — rounds also train the network's defect map on the known defect regions (mask_loss)"
            : "off — rounds train the decision only (mask_loss; 'train --mask-loss on' turns it on)"))
        if try workspace.rightReasons {
            print("  right reasons: on — rounds penalise the classifier's NOK evidence outside the known defect regions (right_reasons)")
        }
        if let pretraining = status.pretraining {
            let loss = pretraining.losses.last.map { String(format: ", final loss %.4f", $0) } ?? ""
            if pretraining.isFinished && status.hasPretrainedBackbone {
                let how = pretraining.method == .defects ? "defect pretext, no labels" : "self-supervised, \(pretraining.method.rawValue)"
                print("  round 0: pretrained network (\(how), \(pretraining.images) images, \(pretraining.epochs) epochs\(loss)); "
                      + "rounds trained from scratch start from it")
                let pool = try workspace.poolAnomalyScores()
                if !pool.isEmpty {
                    let highest = pool.prefix(3).map { String(format: "%@ %.2f", fileName($0.path), $0.score) }.joined(separator: ", ")
                    print("  pool ranked by anomaly score (round 0's \(scaleName(pool[0].scale)), no labels): "
                          + "\(pool.filter(\.standsOut).count) of \(pool.count) stand out (\(standingOutRule(pool[0].scale))); highest \(highest)")
                }
            } else {
                print("  round 0: pretraining stopped after epoch \(pretraining.epochsDone) of \(pretraining.epochs)\(loss); "
                      + "'nearcaipi pretrain' resumes it")
            }
        }
        if status.rounds.isEmpty {
            print("  rounds: none yet")
        } else {
            for round in status.rounds {
                let measured = round.metrics.map { m in
                    String(format: "test accuracy %.3f, F1 %.3f, MCC %.3f; validation accuracy %.3f; best epoch %d of %d, %.0f s",
                           m.test.accuracy, m.test.f1, m.test.mcc, m.validation.accuracy, m.bestEpoch, m.epochs, m.seconds)
                } ?? "no metrics stored"
                print("  round \(round.number): \(round.status.displayName), \(round.trainingSize) training images, \(measured)")
                if let point = round.metrics?.operatingPoint { print("    decisions: \(point.summary)") }
                if let evidence = round.metrics?.promotionEvidence { print("    promotion: \(evidence.sentence)") }
                if let regions = round.metrics?.maskRegions { print("    mask loss: the defect map trained on \(regions) defect region\(regions == 1 ? "" : "s")") }
            }
        }
    }

    /// An item's file name without its folders: a data set's class folders would tell the answer.
    static func fileName(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }
}
