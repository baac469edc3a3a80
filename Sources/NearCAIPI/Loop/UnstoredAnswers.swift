import FileAccess
import Foundation

/// An answer the store could not take — the disk full, an I/O error, the database busy past
/// its retries — kept as a file of its own in the workspace folder until it is stored, so that
/// nothing the expert confirmed is lost because the database refused it once.
public struct UnstoredAnswer: Codable, Sendable, Equatable {
    /// The answer as it was given (its painted mask's PNG included).
    public var event: FeedbackEvent
    /// The review the answer closes (a supervisor's answer on a near hit or miss).
    public var reviewID: Int64?
    public var keptAt: Date

    public init(_ event: FeedbackEvent, review: Review?, keptAt: Date = Date()) {
        self.event = event
        reviewID = review?.id
        self.keptAt = keptAt
    }
}

extension Workspace {
    /// Where answers the store refused wait: one JSON file each (`LoopSession.keepUnstored`).
    public var unstoredAnswersFolder: String { "\(path)/unstored-answers" }

    /// The answers waiting there, oldest first.
    public func unstoredAnswerFiles() -> [String] {
        guard BinaryFile.isDirectory(unstoredAnswersFolder),
              let names = try? FileManager.default.contentsOfDirectory(atPath: unstoredAnswersFolder) else { return [] }
        return names.filter { $0.hasSuffix(".json") }.sorted().map { "\(unstoredAnswersFolder)/\($0)" }
    }
}

extension LoopSession {
    /// Where unstored answers wait: one JSON file each.
    public var unstoredAnswersFolder: String { workspace.unstoredAnswersFolder }

    /// Keeps an answer the store refused, written atomically (and synced) as a file of its
    /// own; returns the file. Throws when that cannot be written either (the disk is full):
    /// the caller keeps the answer on screen.
    @discardableResult
    public func keepUnstored(_ event: FeedbackEvent, review: Review? = nil) throws -> String {
        try BinaryFile.createDirectory(unstoredAnswersFolder)
        let stamp = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let file = "\(unstoredAnswersFolder)/\(stamp)-\(ProcessInfo.processInfo.processIdentifier)-\(Self.safeName(event.user)).json"
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try BinaryFile.writeAtomically([UInt8](try encoder.encode(UnstoredAnswer(event, review: review))), to: file)
        return file
    }

    /// Forgets a kept answer once it is stored.
    public func forgetUnstored(_ file: String) {
        try? BinaryFile.remove(file)
    }

    /// The answers waiting in the folder, oldest first.
    public func unstoredAnswerFiles() -> [String] { workspace.unstoredAnswerFiles() }

    /// What storing the kept answers came to.
    public struct KeptAnswersReport: Sendable, Equatable {
        public var stored = 0
        /// Kept answers on a review someone else answered first: dropped, as a live answer would be.
        public var alreadyAnswered = 0
        /// Files left where they are, with the reason (unreadable, or the store still refuses).
        public var problems: [String] = []
    }

    /// Stores every kept answer, oldest first, and removes each file once its answer is in.
    /// Each file is claimed first (renamed), so two stations starting at once do not store one
    /// answer twice; a claim whose process is gone (it crashed while storing) is taken back.
    public func storeKeptAnswers() -> KeptAnswersReport {
        var report = KeptAnswersReport()
        if let names = try? FileManager.default.contentsOfDirectory(atPath: unstoredAnswersFolder) {
            for name in names {
                guard let range = name.range(of: ".json.storing-"), let pid = Int32(name[range.upperBound...]) else { continue }
                // kill(pid, 0) fails with ESRCH when no such process exists.
                if kill(pid, 0) != 0, errno == ESRCH {
                    _ = rename("\(unstoredAnswersFolder)/\(name)", "\(unstoredAnswersFolder)/\(name[..<range.lowerBound]).json")
                }
            }
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        for file in unstoredAnswerFiles() {
            let name = (file as NSString).lastPathComponent
            let claimed = "\(file).storing-\(ProcessInfo.processInfo.processIdentifier)"
            guard rename(file, claimed) == 0 else { continue }   // another station took it
            do {
                guard let kept = try? decoder.decode(UnstoredAnswer.self, from: Data(try BinaryFile.read(claimed))) else {
                    report.problems.append("\(name): unreadable, left as \(name).unreadable")
                    _ = rename(claimed, "\(file).unreadable")
                    continue
                }
                if let reviewID = kept.reviewID {
                    guard let review = try workspace.store.reviews(openOnly: false).first(where: { $0.id == reviewID }) else {
                        throw WorkspaceError(workspace.path, "no review \(reviewID)")
                    }
                    _ = try answerReview(review, kept.event)
                } else {
                    _ = try submit(kept.event, firstAnswerOnly: true)
                }
                report.stored += 1
                try? BinaryFile.remove(claimed)
            } catch is ReviewAlreadyAnswered, is PartAnsweredMeanwhile {
                report.alreadyAnswered += 1
                try? BinaryFile.remove(claimed)
            } catch {
                report.problems.append("\(name): \(error)")
                _ = rename(claimed, file)
            }
        }
        return report
    }

    private static func safeName(_ user: String) -> String {
        String(user.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(40))
    }
}
