import SeededRandom

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
