import Foundation

/// How long-running work (training, pretraining, simulation) reports its progress, alike on
/// the command line and on the screens.

/// Seconds on the monotonic clock, for durations (never set back, unlike the wall clock).
public func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// A duration as people say it: "42 s", "4 min 12 s".
public func readableDuration(_ seconds: Double) -> String {
    seconds < 90 ? String(format: "%.0f s", seconds) : String(format: "%d min %02d s", Int(seconds) / 60, Int(seconds) % 60)
}

/// A bar of 20 cells, `#` for the share `done` of `total` and `.` for the rest.
public func progressBar(_ done: Int, of total: Int) -> String {
    let filled = total > 0 ? min(20, max(0, done * 20 / total)) : 0
    return String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled)
}
