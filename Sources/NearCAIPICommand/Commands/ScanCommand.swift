import FileAccess
import Imaging
import NearCAIPI

/// `nearcaipi scan`: reads a data set exactly as `init` would index it — the same layouts,
/// class folders and mask rules, the same decoding — and reports what a workspace would get
/// from it: images per class, sizes, file kinds, defect masks, unreadable files. It can draw a
/// contact sheet of the whole set with the defect masks tinted.
enum ScanCommand: Command {
    static let name = "scan"
    static let summary = "check a data set as init reads it: classes, sizes, masks, unreadable files; draw a contact sheet"
    static let discussion = """
    Reads the data set in DIR as init does (same --layout, --ok and --nok; see init's help
    for the layouts and where masks are found) and reports the images per class, the range
    of image sizes with the most common ones, the file kinds; for every image with a defect
    mask whether it decodes, matches the image size and is non-empty, and each NOK image
    without one; each file that cannot be decoded, with the reason; and image files that
    are neither in a class folder nor a mask; and the odd images init sets aside (tiny,
    blank, noise, far from the typical size or shape). Unreadable files are skipped, not fatal.
    """
    static let epilogue = "Exit status 1 when DIR cannot be read or holds no image in the layout's folders."

    static let folder = Positional(placeholder: "DIR", missing: "the data set folder DIR")
    static let sheet = Option<String?>(
        name: "--sheet", placeholder: "FILE.png",
        help: "also write a contact sheet: every image as a thumbnail, framed green (OK) or red (NOK), with the defect mask tinted red",
        format: .text)
    static let thumb = Option<Int>(name: "--thumb", placeholder: "PIXELS", help: "thumbnail side", format: .wholeNumber(in: 16...256),
                                   default: 64)
    static let columns = Option<Int>(name: "--columns", placeholder: "N", help: "thumbnails per row", format: .wholeNumber(in: 1...64),
                                     default: 16)
    static let parameters: [any Parameter] = [folder, SharedParameters.layout, SharedParameters.okFolders, SharedParameters.nokFolders,
                                              sheet, thumb, columns]

    /// How many entries a summary line names before it only counts the rest.
    static let listedPerLine = 5
    /// How many mask problems and ignored files are listed one per line.
    static let listedProblems = 20

    static func run(_ arguments: Arguments) throws {
        let directory = try arguments.positionals([folder])[0]
        let layout = try arguments[SharedParameters.layout]
        let okFolders = try arguments[SharedParameters.okFolders]
        let nokFolders = try arguments[SharedParameters.nokFolders]
        let sheetPath = try arguments[Self.sheet]
        let thumb = try arguments[Self.thumb]
        let columns = try arguments[Self.columns]
        guard BinaryFile.isDirectory(directory) else { throw RuntimeFailure("\(directory): not a directory") }

        let resolvedLayout = ClassFolderDataset.resolvedLayout(layout, root: directory)
        let items: [DatasetItem]
        do {
            items = try ClassFolderDataset.open(directory, layout: resolvedLayout, okFolders: okFolders, nokFolders: nokFolders).items
        } catch {
            throw RuntimeFailure(error)
        }
        guard !items.isEmpty else {
            throw RuntimeFailure(resolvedLayout == .mvtec ? "\(directory): no images in the MVTec folders"
                : "\(directory): no PNG or JPEG images in class folders named \((okFolders + nokFolders).joined(separator: ", "))")
        }

        var classCounts: [ClassLabel: Int] = [:]
        var sizes = SizeTally()
        var kinds: [String: Int] = [:]
        var unreadable: [String] = []  // "path: reason", as init reports it
        var maskProblems: [String] = []
        var masksFound = 0
        var emptyOKMasks = 0
        var thumbnails: [Image] = []
        var traits: [String: ImageTraits] = [:]
        for item in items {
            let file = DatasetFile(item.path, root: directory)
            guard let decoded = file.decoded else {
                unreadable.append("\(item.path): \(file.problem ?? "unreadable")")
                continue
            }
            let image = decoded.image
            traits[item.path] = ImageTraits(of: image)
            classCounts[item.label, default: 0] += 1
            sizes.add(width: image.width, height: image.height)
            kinds["\(decoded.format.rawValue) \(decoded.sourceKind)", default: 0] += 1
            // Counted as init counts a mask (it decodes and is not empty); a size that differs
            // from the image's is reported, because training ignores such a mask.
            var tinted: BinaryMask? = nil
            if let maskPath = item.maskPath {
                do {
                    if let mask = try DatasetFile.mask(maskPath, root: directory) {
                        masksFound += 1
                        if mask.width != image.width || mask.height != image.height {
                            maskProblems.append("\(maskPath): mask size \(mask.width)x\(mask.height) differs from the image's \(image.width)x\(image.height); training ignores it")
                        } else {
                            tinted = mask
                        }
                    } else if item.label == .nok {
                        maskProblems.append("\(maskPath): mask is empty (means: no mask)")
                    } else {
                        // An empty mask is what a good part's mask is (data sets that give every
                        // image a mask): no problem.
                        emptyOKMasks += 1
                    }
                } catch {
                    maskProblems.append("\(maskPath): \(error.reason); mask ignored")
                }
            } else if item.label == .nok {
                maskProblems.append("\(item.path): no mask")
            }
            if sheetPath != nil {
                thumbnails.append(thumbnail(image, mask: tinted, defect: item.label == .nok, side: thumb))
            }
        }
        let ignored = ignoredImages(in: directory, items: items)

        print("\(directory) (\(resolvedLayout.rawValue) layout): \(items.count - unreadable.count) of \(items.count) images readable")
        print("  classes: " + ClassLabel.allCases.map { "\($0.displayName) \(classCounts[$0] ?? 0)" }.joined(separator: ", "))
        print("  sizes:   " + sizes.summary(listing: listedPerLine))
        print("  files:   " + mostCommon(kinds, listing: listedPerLine))
        // The model sees every image squeezed to its square input: said when that distorts.
        if let aspects = sizes.aspectRange, aspects.lowerBound < 0.9 || aspects.upperBound > 1.1 {
            print(String(format: "  aspect:  %.2f to %.2f (width / height); the model sees each image squeezed to its square input, "
                         + "the screens show it in its own shape", aspects.lowerBound, aspects.upperBound))
        }
        print("  masks:   \(masksFound) found, \(maskProblems.count) problem(s)"
              + (emptyOKMasks > 0 ? "; \(emptyOKMasks) OK image(s) with an empty mask, as a good part's should be" : ""))
        for problem in maskProblems.prefix(listedProblems) { print("    \(problem)") }
        if maskProblems.count > listedProblems { print("    … and \(maskProblems.count - listedProblems) more") }
        // The same measure init applies: these go to the pool, whatever their folder says.
        let odd = OddImages.reasons(traits).sorted { $0.key < $1.key }
        if !odd.isEmpty {
            print("  odd:     \(odd.count) image(s) init sets aside in the pool until a person labels them:")
            for (path, reason) in odd.prefix(listedProblems) { print("    \(path): \(reason)") }
            if odd.count > listedProblems { print("    … and \(odd.count - listedProblems) more") }
        }
        if !unreadable.isEmpty {
            print("  skipped \(unreadable.count) unreadable file(s):")
            for problem in unreadable { print("    \(problem)") }
        }
        if !ignored.isEmpty {
            let hint = resolvedLayout == .mvtec ? "" : "; --ok / --nok name the class folders"
            print("  ignored \(ignored.count) image file(s) neither in a class folder nor a mask\(hint):")
            for path in ignored.prefix(listedProblems) { print("    \(path)") }
            if ignored.count > listedProblems { print("    … and \(ignored.count - listedProblems) more") }
        }
        if let sheetPath, !thumbnails.isEmpty {
            let sheet = contactSheet(thumbnails, columns: columns, side: thumb)
            do {
                try ImageFile.writePNG(sheet, to: sheetPath)
            } catch {
                throw RuntimeFailure(error.description)
            }
            print("  contact sheet: \(sheetPath) (\(sheet.width)x\(sheet.height), \(thumbnails.count) thumbnails)")
        }
    }

    /// Image files below `root` that the data set does not use: not an item, not an item's
    /// mask, not in a masks/ or ground_truth/ folder. Usually a class folder the --ok / --nok
    /// names miss, which the user should hear about rather than find out after training.
    static func ignoredImages(in root: String, items: [DatasetItem]) -> [String] {
        let used = Set(items.map(\.path) + items.compactMap(\.maskPath))
        return ClassFolderDataset.images(below: root, relative: "").filter { path in
            !used.contains(path) && !path.split(separator: "/").dropLast().contains { $0 == "masks" || $0 == "ground_truth" }
        }
    }

    /// "PNG RGB 8-bit (12), JPEG YCbCr (3)": the most frequent first, at most `listing` named.
    static func mostCommon(_ counts: [String: Int], listing: Int) -> String {
        let ordered = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let named = ordered.prefix(listing).map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
        return ordered.count > listing ? named + ", \(ordered.count - listing) other kind(s)" : named
    }

    /// The image sizes of a data set, summarised in one line however many distinct sizes
    /// there are: a real data set of photographs can have hundreds.
    struct SizeTally {
        struct Size: Hashable {
            let width: Int, height: Int
            var pixels: Int { width * height }
            var text: String { "\(width)x\(height)" }
        }
        private(set) var counts: [Size: Int] = [:]

        mutating func add(width: Int, height: Int) {
            counts[Size(width: width, height: height), default: 0] += 1
        }

        /// The narrowest and the widest width / height among the sizes (nil: none).
        var aspectRange: ClosedRange<Double>? {
            let aspects = counts.keys.map { Double($0.width) / Double(max(1, $0.height)) }
            guard let low = aspects.min(), let high = aspects.max() else { return nil }
            return low...high
        }

        /// "all 48x48 (12)", or "30 distinct, from 20x20 to 200x180; most common 64x64 (5), …":
        /// the smallest and largest by pixel count and at most `listing` of the most frequent.
        func summary(listing: Int) -> String {
            let bySize = counts.keys.sorted { $0.pixels != $1.pixels ? $0.pixels < $1.pixels : $0.width < $1.width }
            guard let smallest = bySize.first, let largest = bySize.last else { return "none" }
            if counts.count == 1 { return "all \(smallest.text) (\(counts[smallest]!))" }
            let common = counts.sorted { $0.value != $1.value ? $0.value > $1.value
                : ($0.key.pixels != $1.key.pixels ? $0.key.pixels < $1.key.pixels : $0.key.width < $1.key.width) }
            return "\(counts.count) distinct, from \(smallest.text) to \(largest.text); most common "
                + common.prefix(listing).map { "\($0.key.text) (\($0.value))" }.joined(separator: ", ")
        }
    }

    static func thumbnail(_ image: Image, mask: BinaryMask?, defect: Bool, side: Int) -> Image {
        var small = image.rgb().resizedForInput(width: side - 4, height: side - 4)
        if let mask {
            let weight = mask.image.resizedForInput(width: side - 4, height: side - 4)
            let red = Image(width: side - 4, height: side - 4, channels: 3,
                            pixels: [Float](repeating: 1, count: (side - 4) * (side - 4))
                                + [Float](repeating: 0, count: 2 * (side - 4) * (side - 4)))
            var tint = weight
            for i in tint.pixels.indices { tint.pixels[i] *= 0.55 }
            small = small.blended(with: red, weight: tint)
        }
        let frame: [Float] = defect ? [0.85, 0.1, 0.1] : [0.1, 0.7, 0.2]
        var framed = Image(width: side, height: side, channels: 3)
        for c in 0..<3 { for i in 0..<(side * side) { framed.pixels[c * side * side + i] = frame[c] } }
        framed.paste(small, atX: 2, y: 2)
        return framed
    }

    static func contactSheet(_ thumbnails: [Image], columns: Int, side: Int) -> Image {
        let used = min(columns, thumbnails.count)
        let rows = (thumbnails.count + used - 1) / used
        var sheet = Image(width: used * side, height: rows * side, channels: 3, filledWith: 0.12)
        for (index, thumb) in thumbnails.enumerated() {
            sheet.paste(thumb, atX: (index % used) * side, y: (index / used) * side)
        }
        return sheet
    }
}
