/// SplitMix64: a small, fast generator whose output depends only on the seed — not on the
/// platform or the standard library's version — so a seed names the same data set forever.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The SplitMix64 output function: a bijective scramble of 64 bits.
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 24 bits (exactly representable as Float).
    public mutating func unit() -> Float { Float(next() >> 40) * (1 / 16_777_216) }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * unit() }

    /// Uniform integer in low...high.
    public mutating func integer(_ low: Int, _ high: Int) -> Int {
        low + Int(next() % UInt64(high - low + 1))
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Float) -> Bool { unit() < p }

    /// One of `options`, uniformly.
    public mutating func pick<T>(_ options: [T]) -> T { options[integer(0, options.count - 1)] }

    /// One of `options`, with probability proportional to its weight.
    public mutating func pick<T>(weighted options: [(T, Float)]) -> T {
        let total = options.reduce(0) { $0 + $1.1 }
        var r = unit() * total
        for (option, weight) in options {
            if r < weight { return option }
            r -= weight
        }
        return options[options.count - 1].0
    }
}

extension SplitMix64 {
    /// Standard normal sample (Box–Muller on two uniforms), for weight initialisation.
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1.0p-53, 1e-300)
        let u2 = Double(next() >> 11) * 0x1.0p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

#if canImport(Glibc)
import Glibc
#endif
