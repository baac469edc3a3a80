/// A part's class. The raw values are what the items and feedback tables store (their CHECK
/// lists say 0 and 1), and the order of the network's outputs.
public enum ClassLabel: Int, Sendable, CaseIterable, Comparable {
    case ok = 0
    case nok = 1

    /// How files, exports and screens name the class.
    public var name: String { self == .ok ? "ok" : "nok" }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
