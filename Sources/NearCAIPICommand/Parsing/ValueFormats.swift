/// The formats options share. A verb with a format of its own (a list with its own words, a
/// camera resolution) writes it beside its options with `ValueFormat(allowed:describe:parse:)`.

extension ValueFormat where Value == Int {
    /// A whole number within `range`.
    static func wholeNumber(in range: ClosedRange<Int>) -> Self {
        ValueFormat(allowed: .span("\(range.lowerBound)-\(range.upperBound)")) { (text) throws(Refusal) in
            guard let value = Int(text) else { throw Refusal("needs a whole number, got '\(text)'") }
            guard range.contains(value) else {
                throw Refusal("must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
            return value
        }
    }
}

extension ValueFormat where Value == UInt64 {
    /// A whole number of 0 or more, e.g. a seed.
    static var nonNegativeWholeNumber: Self {
        ValueFormat { (text) throws(Refusal) in
            guard let value = UInt64(text) else { throw Refusal("needs a non-negative whole number, got '\(text)'") }
            return value
        }
    }
}

/// The numbers a real-valued option allows.
struct NumberBounds<Number: BinaryFloatingPoint & CustomStringConvertible & Sendable>: Sendable {
    let lower: Number
    let upper: Number
    /// Whether the bounds themselves are allowed.
    let inclusive: Bool
    /// What the value is called in a refusal: "number", or "fraction" for a share of a whole.
    let noun: String

    /// From `lower` to `upper`, both allowed.
    static func between(_ lower: Number, _ upper: Number) -> Self {
        NumberBounds(lower: lower, upper: upper, inclusive: true, noun: "number")
    }

    /// Above `lower` and below `upper`.
    static func strictlyBetween(_ lower: Number, _ upper: Number) -> Self {
        NumberBounds(lower: lower, upper: upper, inclusive: false, noun: "number")
    }

    /// A share of a whole, above 0 and below 1.
    static var fraction: Self { NumberBounds(lower: 0, upper: 1, inclusive: false, noun: "fraction") }

    func contains(_ value: Number) -> Bool {
        inclusive ? (lower...upper).contains(value) : value > lower && value < upper
    }

    var inHelp: String {
        inclusive ? "\(written(lower))-\(written(upper))" : "above \(written(lower)) and below \(written(upper))"
    }

    var requirement: String {
        "must be a \(noun) between \(written(lower)) and \(written(upper))" + (inclusive ? "" : " (exclusive)")
    }
}

/// A number as a person writes it: 10, not 10.0; 0.0005 as it is (the shortest digits that
/// give the same number of its own type, so a Float is not widened to 0.000500000023…).
func written<Number: BinaryFloatingPoint & CustomStringConvertible>(_ value: Number) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return value.description
}

extension ValueFormat where Value: BinaryFloatingPoint & LosslessStringConvertible {
    /// A real number within `bounds`.
    static func number(_ bounds: NumberBounds<Value>) -> Self {
        ValueFormat(allowed: .span(bounds.inHelp), describe: { written($0) }) { (text) throws(Refusal) in
            guard let value = Value(text), bounds.contains(value) else { throw Refusal("\(bounds.requirement), got '\(text)'") }
            return value
        }
    }
}

extension ValueFormat where Value: CaseIterable & RawRepresentable<String> {
    /// One of an enumeration's cases, by its raw value.
    static var choice: Self {
        let words = Value.allCases.map(\.rawValue)
        return ValueFormat(allowed: .choices(words), describe: { $0.rawValue }) { (text) throws(Refusal) in
            guard let value = Value(rawValue: text) else {
                throw Refusal("must be one of: \(words.joined(separator: ", ")); got '\(text)'")
            }
            return value
        }
    }
}

extension ValueFormat where Value: LosslessStringConvertible & Equatable {
    /// One of `values`, written as they are.
    static func oneOf(_ values: [Value]) -> Self {
        let words = values.map(\.description)
        return ValueFormat(allowed: .choices(words), describe: { $0.description }) { (text) throws(Refusal) in
            guard let value = values.first(where: { $0.description == text }) else {
                throw Refusal("must be \(listed(words, joinedBy: "or")); got '\(text)'")
            }
            return value
        }
    }
}

extension ValueFormat where Value == String {
    /// Any text: a path, a file name.
    static var text: Self { ValueFormat { (text) throws(Refusal) in text } }

    /// Who answers: a name of 1 to 64 characters, recorded with every answer.
    static var personName: Self {
        ValueFormat { (text) throws(Refusal) in
            guard !text.isEmpty, text.count <= 64 else { throw Refusal("needs a name of 1 to 64 characters") }
            return text
        }
    }
}

extension ValueFormat where Value == [String] {
    /// Comma-separated names, e.g. class folders.
    static var names: Self {
        ValueFormat(describe: { $0.joined(separator: ",") }) { (text) throws(Refusal) in
            text.split(separator: ",").map(String.init)
        }
    }
}
