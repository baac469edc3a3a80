import Foundation

/// How the cores are shared between network passes that run at the same time: the screens
/// run a heatmap worker and a retraining worker on their own threads, and oneDNN (on OpenMP)
/// would give each of them a team as large as the machine, so two teams would fight over
/// the cores and spin while waiting for each other.
///
/// The policy: a thread declares what it does (`run(as:)`); an activity alone uses every
/// core; while both run, explaining gets one thread and training the rest (on 2 cores: one
/// each). The cores are never oversubscribed, and the heatmap the inspector is waiting for
/// keeps moving while a round trains. Threads that declare nothing (the command line's
/// main thread) keep oneDNN's default, every core.
public enum CoreShare {
    public enum Activity: Sendable {
        case training
        case explaining
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var running: [Activity: Int] = [:]
    private static let threadKey = "nearcaipi.core-share.activity"

    /// Cores the process may use (online processors).
    public static let cores = max(ProcessInfo.processInfo.activeProcessorCount, 1)

    /// Runs `body` on the current thread as `activity`; the network passes it makes use
    /// `threads(for: activity)` threads, re-read at every pass.
    public static func run<T>(as activity: Activity, _ body: () throws -> T) rethrows -> T {
        lock.lock()
        running[activity, default: 0] += 1
        lock.unlock()
        let dictionary = Thread.current.threadDictionary
        let previous = dictionary[threadKey]
        dictionary[threadKey] = activity
        defer {
            dictionary[threadKey] = previous
            lock.lock()
            running[activity, default: 1] -= 1
            lock.unlock()
        }
        return try body()
    }

    /// Threads for one pass of `activity`, given what else runs now.
    public static func threads(for activity: Activity) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let both = running[.training, default: 0] > 0 && running[.explaining, default: 0] > 0
        guard both, cores > 1 else { return cores }
        return activity == .explaining ? 1 : cores - 1
    }

    /// The threads the current thread's next pass should use, or nil when it declared nothing.
    static func threadsForCurrentThread() -> Int? {
        guard let activity = Thread.current.threadDictionary[threadKey] as? Activity else { return nil }
        return threads(for: activity)
    }
}
