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
            let status = try workspace.status()
            func split(_ name: String) -> String {
                let counts = status.perSplit[name] ?? [:]
                return "{\"ok\": \(counts[0] ?? 0), \"nok\": \(counts[1] ?? 0), \"hidden\": \(counts[-1] ?? 0)}"
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let rounds = status.rounds.map { round in
                let metrics = round.metrics.flatMap { try? encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) } ?? "null"
                return "{\"round\": \(round.number), \"status\": \"\(round.status.rawValue)\", "
                    + "\"training_size\": \(round.trainingSize), \"metrics\": \(metrics)}"
            }
            print("""
            {"images": {"usable": \(status.usable), "unreadable": \(status.unusable), "with_mask": \(status.withMask), \
            "ok": \(status.perClass[0] ?? 0), "nok": \(status.perClass[1] ?? 0)}, \
            "splits": {"train": \(split("train")), "val": \(split("val")), "test": \(split("test")), "pool": \(split("pool"))}, \
            "pending_feedback": \(status.pendingFeedback), "rounds": [\(rounds.joined(separator: ", "))]}
            """)
        } else {
            try printStatus(workspace)
        }
    }

    static func printStatus(_ workspace: Workspace) throws {
        let status = try workspace.status()
        print("  images: \(status.usable) usable (OK \(status.perClass[0] ?? 0), NOK \(status.perClass[1] ?? 0); \(status.withMask) with a defect mask), \(status.unusable) unreadable")
        for split in ["train", "val", "test", "pool"] {
            let counts = status.perSplit[split] ?? [:]
            let known = "OK \(counts[0] ?? 0), NOK \(counts[1] ?? 0)"
            let hidden = (counts[-1] ?? 0) > 0 ? ", \(counts[-1]!) with labels hidden" : ""
            print("  \(split.padding(toLength: 5, withPad: " ", startingAt: 0)) \(known)\(hidden)")
        }
        print("  feedback not yet trained on: \(status.pendingFeedback)")
        if status.rounds.isEmpty {
            print("  rounds: none yet")
        } else {
            for round in status.rounds {
                let measured = round.metrics.map { m in
                    String(format: "test accuracy %.3f, F1 %.3f, MCC %.3f; validation accuracy %.3f; best epoch %d of %d, %.0f s",
                           m.test.accuracy, m.test.f1, m.test.mcc, m.validation.accuracy, m.bestEpoch, m.epochs, m.seconds)
                } ?? "no metrics stored"
                print("  round \(round.number): \(round.status.rawValue), \(round.trainingSize) training images, \(measured)")
            }
        }
    }
}
