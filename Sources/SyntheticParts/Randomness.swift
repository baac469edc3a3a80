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

/// Smooth 2-D value noise: random values on an integer lattice, blended with a smoothstep,
/// summed over octaves. Deterministic in (seed, x, y).
public struct ValueNoise: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    @inlinable
    func lattice(_ ix: Int, _ iy: Int) -> Float {
        let key = seed ^ (UInt64(bitPattern: Int64(ix)) &* 0x9E37_79B9_7F4A_7C15)
            ^ (UInt64(bitPattern: Int64(iy)) &* 0xC2B2_AE3D_27D4_EB4F)
        return Float(SplitMix64.mix(key) >> 40) * (1 / 16_777_216)
    }

    /// Noise in [0, 1] at (x, y), with lattice spacing 1.
    public func value(_ x: Float, _ y: Float) -> Float {
        let fx = x.rounded(.down), fy = y.rounded(.down)
        let ix = Int(fx), iy = Int(fy)
        var tx = x - fx, ty = y - fy
        tx = tx * tx * (3 - 2 * tx)
        ty = ty * ty * (3 - 2 * ty)
        let a = lattice(ix, iy), b = lattice(ix + 1, iy)
        let c = lattice(ix, iy + 1), d = lattice(ix + 1, iy + 1)
        let top = a + (b - a) * tx, bottom = c + (d - c) * tx
        return top + (bottom - top) * ty
    }

    /// Sum of `octaves` layers, each at twice the frequency and `persistence` times the
    /// amplitude of the last, normalised back into [0, 1].
    public func fractal(_ x: Float, _ y: Float, octaves: Int = 3, persistence: Float = 0.5) -> Float {
        var sum: Float = 0, amplitude: Float = 1, total: Float = 0, frequency: Float = 1
        for octave in 0..<octaves {
            let shifted = ValueNoise(seed: seed &+ UInt64(octave) &* 0x1000_0001)
            sum += shifted.value(x * frequency, y * frequency) * amplitude
            total += amplitude
            amplitude *= persistence
            frequency *= 2
        }
        return sum / total
    }

    /// Per-pixel white noise in [0, 1] (sensor grain).
    public func grain(_ x: Int, _ y: Int) -> Float { lattice(x &* 7919, y &* 104_729) }
}
