import Foundation
import Imaging
import SeededRandom

/// One counterexample: an image that keeps the relevant region and its label, the region's
/// mask after the transform, and how it was made (auditable and reproducible).
public struct Refutation: Sendable {
    public var image: Image
    public var mask: BinaryMask
    public var transform: String
}

/// Refutations from an accepted explanation (its top 10 %) or an expert's corrected mask:
/// "zooming in or out on the anomaly and generating additional augmented versions" (the main
/// paper, sec. 3.4), plus — for defect images — the defect region pasted into an OK part.
public enum RefutationMaker {
    public enum Kind: String, CaseIterable, Sendable {
        case zoomIn = "zoom-in", zoomOut = "zoom-out", flip, rotate, shift, photometric, paste
    }

    /// `count` refutations of `image` with relevant `region`, seeded. `okImages` (same size and
    /// channels) are the surroundings a NOK region may be pasted into; for an OK image the
    /// paste kind is not used. A transform that would push the region out of the frame is
    /// replaced by another kind.
    public static func make(image: Image, region: BinaryMask, isDefect: Bool, count: Int, seed: UInt64,
                            okImages: [(name: String, image: Image)] = []) -> [Refutation] {
        make(image: image, region: region, isDefect: isDefect, count: count, seed: seed,
             hosts: okImages.map { host in Host(name: host.name) { host.image } })
    }

    /// An OK part a defect may be pasted into, read only if a paste draws it (of eight
    /// candidates a paste uses one; reading all eight camera-sized photos per answer cost a
    /// quarter of a second). Nil when it cannot be read: the paste is not made.
    public struct Host {
        public var name: String
        public var image: () -> Image?
        public init(name: String, image: @escaping () -> Image?) {
            self.name = name
            self.image = image
        }
    }

    /// As above, with hosts read on demand.
    public static func make(image: Image, region: BinaryMask, isDefect: Bool, count: Int, seed: UInt64,
                            hosts okImages: [Host]) -> [Refutation] {
        guard let box = region.boundingBox, count > 0 else { return [] }
        var random = SplitMix64(seed: seed)
        var kinds = Kind.allCases.filter { $0 != .paste || (isDefect && !okImages.isEmpty) }
        var made: [Refutation] = []
        var attempts = 0
        while made.count < count && attempts < count * 8 {
            attempts += 1
            if kinds.isEmpty { kinds = Kind.allCases.filter { $0 != .paste } }
            let kind = kinds[made.count % kinds.count]
            guard let refutation = make(kind, image: image, region: region, box: box, random: &random, okImages: okImages) else {
                // A host that cannot be read (or does not fit) fails the same way again: the
                // other kinds take its turn.
                if kind == .paste { kinds.removeAll { $0 == .paste } }
                continue
            }
            // The region must survive: at least 60 % of its pixels still visible.
            guard Float(refutation.mask.area) >= 0.6 * Float(region.area) || kind == .zoomIn || kind == .zoomOut,
                  !refutation.mask.isEmpty else { continue }
            made.append(refutation)
        }
        return made
    }

    static func make(_ kind: Kind, image: Image, region: BinaryMask, box: PixelRect, random: inout SplitMix64,
                     okImages: [Host]) -> Refutation? {
        let centre = box.center
        func moved(_ transform: (Image) -> Image) -> BinaryMask { BinaryMask(thresholding: transform(region.image)) }
        switch kind {
        case .zoomIn:
            // Enlarge until the region fills about half the frame, at most 3×.
            let fill = Float(max(box.width, box.height)) / Float(max(image.width, image.height))
            let scale = min(3, max(1.25, 0.5 / max(fill, 0.01))) * random.uniform(0.9, 1.1)
            let transform = { (i: Image) in i.zoomed(by: scale, aboutX: centre.x, y: centre.y, border: .edge) }
            return Refutation(image: transform(image), mask: moved(transform),
                              transform: String(format: "zoom-in %.2f about (%.1f,%.1f)", scale, centre.x, centre.y))
        case .zoomOut:
            let scale = random.uniform(0.65, 0.85)
            let transform = { (i: Image) in i.zoomed(by: scale, aboutX: centre.x, y: centre.y, border: .reflect) }
            // The mask goes through the same transform, border included: a defect that the
            // reflected border repeats is marked where it appears.
            return Refutation(image: transform(image), mask: moved(transform),
                              transform: String(format: "zoom-out %.2f about (%.1f,%.1f)", scale, centre.x, centre.y))
        case .flip:
            let horizontal = random.chance(0.5)
            let transform = { (i: Image) in horizontal ? i.flippedHorizontally() : i.flippedVertically() }
            return Refutation(image: transform(image), mask: moved(transform), transform: horizontal ? "flip horizontal" : "flip vertical")
        case .rotate:
            guard image.width == image.height else { return nil }
            let turns = random.integer(1, 3)
            let transform = { (i: Image) in i.rotated(quarterTurns: turns) }
            return Refutation(image: transform(image), mask: moved(transform), transform: "rotate \(turns * 90)")
        case .shift:
            let reach = max(image.width, image.height) / 12
            let dx = random.integer(-reach, reach), dy = random.integer(-reach, reach)
            let transform = { (i: Image) in i.shifted(dx: dx, dy: dy, border: .edge) }
            return Refutation(image: transform(image), mask: moved(transform), transform: "shift (\(dx),\(dy))")
        case .photometric:
            let brightness = random.uniform(-0.08, 0.08), contrast = random.uniform(0.85, 1.15)
            return Refutation(image: image.adjusted(brightness: brightness, contrast: contrast), mask: region,
                              transform: String(format: "brightness %+.3f contrast %.3f", brightness, contrast))
        case .paste:
            guard !okImages.isEmpty else { return nil }
            let host = okImages[random.integer(0, okImages.count - 1)]
            guard let hostImage = host.image(), hostImage.width == image.width, hostImage.height == image.height,
                  hostImage.channels == image.channels else { return nil }
            // Move the region by a random offset that keeps its box in the frame, with a soft
            // edge (the dilated mask) so the seam does not become a new feature.
            let dx = random.integer(-box.x, image.width - box.maxX), dy = random.integer(-box.y, image.height - box.maxY)
            let weight = region.dilated(radius: 1).image.shifted(dx: dx, dy: dy, border: .constant(0))
            let defect = image.shifted(dx: dx, dy: dy, border: .edge)
            return Refutation(image: hostImage.blended(with: defect, weight: weight),
                              mask: moved { $0.shifted(dx: dx, dy: dy, border: .constant(0)) },
                              transform: "paste into \(host.name) shifted (\(dx),\(dy))")
        }
    }
}
