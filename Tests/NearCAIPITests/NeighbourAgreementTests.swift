@testable import NearCAIPI
import Testing

/// The near-hit agreement on embeddings made by hand, where the right answer is known.
struct NeighbourAgreementTests {
    @Test func kindsInSeparateDirectionsAllAgree() {
        // Two kinds along two axes, a little spread: every near hit is of the image's own kind.
        let embeddings: [[Float]] = [[1, 0.1], [1, 0.2], [1, 0], [0.1, 1], [0, 1], [0.2, 1]]
        let kinds = ["crack", "crack", "crack", "pore", "pore", "pore"]
        let result = NeighbourAgreement.measure(embeddings: embeddings, kinds: kinds)
        #expect(result.agreeing == 6 && result.images == 6)
        // A random other image shares the kind 2 times in 5.
        #expect(abs(result.chance - 0.4) < 1e-12)
        #expect(result.perKind.map(\.kind) == ["crack", "pore"])
        #expect(result.perKind.map(\.agreeing) == [3, 3])
    }

    @Test func interleavedKindsDisagreeAndCosineIgnoresLength() {
        // Each image's nearest direction belongs to the other kind; lengths differ wildly,
        // which cosine similarity (the loop's measure) must not see.
        let embeddings: [[Float]] = [[1, 0], [50, 1], [0, 1], [1, 40]]
        let kinds = ["a", "b", "a", "b"]
        let result = NeighbourAgreement.measure(embeddings: embeddings, kinds: kinds)
        #expect(result.agreeing == 0)
        #expect(abs(result.chance - 1.0 / 3.0) < 1e-12)
        #expect(result.share == 0)
    }

    @Test func unevenKindsGiveTheWeightedChance() {
        // Kinds of 3 and 1 image: chance = (3 · 2/3 + 1 · 0/3) / 4 = 0.5.
        let embeddings: [[Float]] = [[1, 0], [1, 0.1], [1, 0.2], [0, 1]]
        let result = NeighbourAgreement.measure(embeddings: embeddings, kinds: ["x", "x", "x", "y"])
        #expect(abs(result.chance - 0.5) < 1e-12)
        // The lone y image's near hit is an x: 3 of 4 agree.
        #expect(result.agreeing == 3)
    }
}
