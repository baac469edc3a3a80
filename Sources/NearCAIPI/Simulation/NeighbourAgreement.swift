/// How often a NOK image's near hit shows the same kind of defect — whether an embedding
/// groups parts the way an inspector would, measured where the defect kinds are known.
///
/// For each image i with kind kᵢ, its near hit is the most cosine-similar other image
/// (eq. 3 among the NOK images): agreement = share of images whose near hit has kind kᵢ.
/// Chance = what a near hit drawn at random from the other images would give,
/// (1/n) Σᵢ (n_{kᵢ} − 1) / (n − 1), so a share above it says the embedding knows the kinds.
public struct NeighbourAgreement: Sendable, Equatable {
    /// Images whose near hit shares their kind.
    public var agreeing: Int
    /// Images measured (those with a kind, when at least two are).
    public var images: Int
    /// The share a random near hit would give.
    public var chance: Double
    /// Per kind: (images, agreeing), sorted by kind.
    public var perKind: [(kind: String, images: Int, agreeing: Int)]

    public var share: Double { images > 0 ? Double(agreeing) / Double(images) : 0 }

    public static func == (a: Self, b: Self) -> Bool {
        a.agreeing == b.agreeing && a.images == b.images && a.chance == b.chance
            && a.perKind.map(\.kind) == b.perKind.map(\.kind) && a.perKind.map(\.agreeing) == b.perKind.map(\.agreeing)
    }

    /// `embeddings[i]` of the image whose defect kind is `kinds[i]`.
    public static func measure(embeddings: [[Float]], kinds: [String]) -> NeighbourAgreement {
        precondition(embeddings.count == kinds.count, "one kind per embedding")
        let n = embeddings.count
        var counts: [String: Int] = [:]
        for kind in kinds { counts[kind, default: 0] += 1 }
        var perKind: [String: (images: Int, agreeing: Int)] = [:]
        var agreeing = 0
        var chance = 0.0
        guard n >= 2 else { return NeighbourAgreement(agreeing: 0, images: 0, chance: 0, perKind: []) }
        for i in 0..<n {
            var best = -1
            var bestSimilarity = -Float.infinity
            for j in 0..<n where j != i {
                let similarity = cosine(embeddings[i], embeddings[j])
                if similarity > bestSimilarity { bestSimilarity = similarity; best = j }
            }
            let same = kinds[best] == kinds[i]
            if same { agreeing += 1 }
            perKind[kinds[i], default: (0, 0)].images += 1
            if same { perKind[kinds[i], default: (0, 0)].agreeing += 1 }
            chance += Double(counts[kinds[i]]! - 1) / Double(n - 1)
        }
        return NeighbourAgreement(agreeing: agreeing, images: n, chance: chance / Double(n),
                                  perKind: perKind.keys.sorted().map { ($0, perKind[$0]!.images, perKind[$0]!.agreeing) })
    }
}
