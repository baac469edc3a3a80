import FileAccess
import Foundation
import NearCAIPI

/// `nearcaipi eval-neighbours`: whether a model's embeddings put NOK parts with the same kind
/// of defect side by side — what makes a near hit worth a supervisor's look.
enum EvalNeighboursCommand: Command {
    static let name = "eval-neighbours"
    static let summary = "how often a NOK image's near hit has the same kind of defect, for a model's embeddings"
    static let discussion = """
    Embeds every readable NOK image of the data set with the model, finds each one's near hit
    (the most similar other NOK image, cosine similarity of embeddings as in the loop) and
    counts how often it shows the same kind of defect, beside the share a near hit picked at
    random would give. Also over every readable image: how often the most similar other
    image has the same class (OK / NOK) — what a nearest-neighbour classifier on the
    embeddings would get right, a label-free model's best case. The kinds come from --kinds, else the data set's manifest.csv (the
    'file' and 'defect' columns 'nearcaipi sample' writes), else each NOK image's folder name
    (the MVTec layout's test/KIND/). Compare checkpoints of one data set with it: a
    pretrained backbone (round 0), a first round trained from it, one trained from scratch.
    """

    static let data = Option<String>(name: "--data", placeholder: "DIR",
                                     help: "the data set folder (read only), in any layout 'init' reads", format: .text)
    static let model = Option<String>(name: "--model", placeholder: "PATH",
                                      help: "a checkpoint, or a workspace folder (its active round)", format: .text)
    static let kinds = Option<String?>(name: "--kinds", placeholder: "FILE",
                                       help: "CSV with the columns file (relative to DIR) and defect", format: .text,
                                       defaultDescription: "DIR/manifest.csv, else the folder names")
    static let json = Flag(name: "--json", help: "print the result as JSON")
    static let parameters: [any Parameter] = [data, model, SharedParameters.layout, SharedParameters.okFolders,
                                              SharedParameters.nokFolders, kinds, json]

    struct Report: Codable {
        var images: Int
        var kinds: Int
        var classImages: Int
        var sameClass: Int
        var sameClassShare: Double
        var sameClassChance: Double
        var sameKind: Int
        var share: Double
        var chance: Double
        var perKind: [String: [Int]]
    }

    static func run(_ arguments: Arguments) throws {
        _ = try arguments.positionals([])
        let data = try arguments[Self.data]
        let (classifier, _) = try ModelSource.open(try arguments[model])
        var dataset = try TrainCommand.openDataset(data, arguments, layout: try arguments[SharedParameters.layout])
        let kindOf = try defectKinds(data: data, file: try arguments[Self.kinds], dataset: dataset)

        let all = dataset.load(size: classifier.inputSize, channels: classifier.channels)
        for problem in dataset.problems { printError("nearcaipi eval-neighbours: \(problem) (skipped)") }
        let loaded = all.filter { $0.item.label == .nok && kindOf($0.item.path) != nil }
        let kinds = loaded.map { kindOf($0.item.path)! }
        guard Set(kinds).count >= 2 else {
            throw RuntimeFailure("\(data): the NOK images show \(Set(kinds).count) defect kind(s); a near hit's kind says nothing "
                                 + "unless there are at least two (give them with --kinds FILE)")
        }
        var allEmbeddings: [[Float]] = []
        var start = 0
        while start < all.count {
            let part = all[start..<min(start + 32, all.count)]
            let output = classifier.outputs(part.flatMap(\.image.pixels), batch: part.count).embeddings
            let width = output.shape[1]
            for row in 0..<part.count { allEmbeddings.append(Array(output.data[(row * width)..<((row + 1) * width)])) }
            start += 32
        }
        let embeddings = zip(all, allEmbeddings).filter { $0.0.item.label == .nok && kindOf($0.0.item.path) != nil }.map(\.1)
        let result = NeighbourAgreement.measure(embeddings: embeddings, kinds: kinds)
        let classes = NeighbourAgreement.measure(embeddings: allEmbeddings, kinds: all.map { $0.item.label.displayName })
        if arguments[json] {
            let report = Report(images: result.images, kinds: result.perKind.count, classImages: classes.images,
                                sameClass: classes.agreeing, sameClassShare: classes.share, sameClassChance: classes.chance, sameKind: result.agreeing, share: result.share,
                                chance: result.chance,
                                perKind: Dictionary(uniqueKeysWithValues: result.perKind.map { ($0.kind, [$0.agreeing, $0.images]) }))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("near hits among \(result.images) NOK images of \(result.perKind.count) defect kinds")
            print(String(format: "same defect kind: %d of %d (%.1f %%); a random near hit: %.1f %%",
                         result.agreeing, result.images, 100 * result.share, 100 * result.chance))
            print("per kind: " + result.perKind.map { "\($0.kind) \($0.agreeing)/\($0.images)" }.joined(separator: ", "))
            print(String(format: "over all %d images, the most similar other one has the same class (OK / NOK): %d (%.1f %%); "
                         + "at random: %.1f %%", classes.images, classes.agreeing, 100 * classes.share, 100 * classes.chance))
        }
    }

    /// The defect kind of a NOK image by its path relative to the data set, from `file`, else
    /// DIR/manifest.csv when it has a defect column, else the image's folder name.
    static func defectKinds(data: String, file: String?, dataset: ClassFolderDataset) throws -> (String) -> String? {
        // The MVTec layout's test/KIND/NAME.png: the image's folder.
        let folderName: (String) -> String? = { path in path.split(separator: "/").dropLast().last.map(String.init) }
        let manifest = "\(data)/manifest.csv"
        guard let table = file ?? (BinaryFile.exists(manifest) ? manifest : nil) else { return folderName }
        let bytes: [UInt8]
        do { bytes = try BinaryFile.read(table) } catch { throw RuntimeFailure("\(table): \(error)") }
        let lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        guard let header = lines.first, let fileColumn = header.firstIndex(of: "file"),
              let kindColumn = header.firstIndex(of: "defect") else {
            if file == nil { return folderName }  // a manifest of another kind
            throw RuntimeFailure("\(table): needs a header line with the columns 'file' and 'defect'")
        }
        var kinds: [String: String] = [:]
        for (number, fields) in lines.dropFirst().enumerated() {
            guard fields.count > max(fileColumn, kindColumn) else {
                throw RuntimeFailure("\(table): line \(number + 2) has \(fields.count) fields, the header \(header.count)")
            }
            kinds[fields[fileColumn]] = fields[kindColumn]
        }
        return { kinds[$0] }
    }
}
