import SeededRandom
import Imaging

/// The two inspection classes.
public enum PartLabel: String, Sendable, CaseIterable {
    case ok
    case nok
}

/// One generated part image with its truth: class, defect kind and exact defect mask.
public struct SyntheticPart: Sendable {
    public let image: Image
    public let label: PartLabel
    /// "none" for OK parts, else the defect kind (e.g. "pores", "crack", "chipped_edge").
    public let defect: String
    /// The defect's pixels; empty for OK parts.
    public let mask: BinaryMask
}

/// The synthetic part families, after the paper's two data sets.
public enum PartFamily: String, Sendable, CaseIterable {
    /// MIG weld seams on aluminium plates (RGB), as in the paper's welding data set.
    case weld
    /// Cast discs with a centre hole on a textured background (grey), as in the casting set.
    case cast

    /// The defect kinds this family draws, with their relative frequencies among NOK parts.
    public var defectKinds: [(String, Float)] {
        switch self {
        case .weld:
            return [("pores", 3), ("crack", 3), ("black_area", 2), ("interruption", 2),
                    ("irregular_scale", 3), ("end_crater", 2), ("no_seam", 2)]
        case .cast:
            return [("scratch", 4), ("blowhole", 4), ("chipped_edge", 3)]
        }
    }

    /// Kinds the defect pretext's generator imitates by none of its means (a patch of another
    /// part, a thin dark scar, a noise-shaped blob of other texture or brightness): a change
    /// of the part's geometry, or many tiny bright specks. `sample --unseen-kinds` adds them,
    /// so what the pretext learnt can be measured on defects it never drew.
    public var unseenDefectKinds: [(String, Float)] {
        switch self {
        case .weld: return [("spatter", 3), ("kink", 3)]
        case .cast: return [("dent", 3), ("inclusions", 3)]
        }
    }

    /// Draws the part with index `index` of the data set seeded `seed`. Each part has its own
    /// seed derived from (seed, family, index), so part i is the same whatever the count.
    /// With `unseenKinds`, the defects are drawn from `defectKinds` and `unseenDefectKinds`.
    public func makePart(index: Int, seed: UInt64, size: Int, nokFraction: Float = Float(SampleDatasetSpec.standardNOKShare),
                         unseenKinds: Bool = false) -> SyntheticPart {
        let familyKey: UInt64 = self == .weld ? 0x5745_4C44 : 0x4341_5354
        var random = SplitMix64(seed: SplitMix64.mix(seed ^ familyKey) ^ SplitMix64.mix(UInt64(index) &+ 1))
        let kinds = unseenKinds ? defectKinds + unseenDefectKinds : defectKinds
        let defect = random.chance(nokFraction) ? random.pick(weighted: kinds) : "none"
        // A defect placed at random can, rarely, end up outside the part (a scratch walking
        // off the disc): draw again until the NOK part really shows its defect.
        while true {
            let part = drawPart(defect: defect, seed: random.next(), size: size)
            if part.label == .ok || part.mask.area >= 2 { return part }
        }
    }
}

extension PartFamily {
    /// One drawing with a given defect kind ("none" for an OK part) from one drawing seed:
    /// two calls that differ only in the defect give the same part, so tests can compare
    /// the defect's pixels against its mask.
    func drawPart(defect: String, seed: UInt64, size: Int) -> SyntheticPart {
        switch self {
        case .weld:
            var weld = WeldSeamDrawing(size: size, random: SplitMix64(seed: seed))
            return weld.draw(defect: defect)
        case .cast:
            var disc = CastDiscDrawing(size: size, random: SplitMix64(seed: seed))
            return disc.draw(defect: defect)
        }
    }
}
