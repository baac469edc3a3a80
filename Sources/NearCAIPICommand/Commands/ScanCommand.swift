import FileAccess
import Imaging
import NearCAIPI

/// `nearcaipi scan`: reads every image of a class-folder data set and reports what a
/// workspace would get from it — classes, sizes, colour, masks, unreadable files — and can
/// draw a contact sheet of the whole set with the defect masks tinted.
enum ScanCommand: Command {
    static let name = "scan"
    static let summary = "check a class-folder data set: classes, sizes, masks, unreadable files; draw a contact sheet"
    static let discussion = """
    Reads every PNG/JPEG below DIR (class folders such as ok/ and nok/, masks in masks/ with
    the same base names) and reports per class the image count, sizes and colour kinds; for
    NOK images whether a mask exists, decodes, matches the image size and is non-empty; and
    each file that cannot be decoded, with the reason. Unreadable files are skipped, not fatal.
    """
    static let epilogue = "Exit status 1 when DIR cannot be read or holds no image at all."

    static let folder = Positional(placeholder: "DIR", missing: "the data set folder DIR")
    static let sheet = Option<String?>(
        name: "--sheet", placeholder: "FILE.png",
        help: "also write a contact sheet: every image as a thumbnail, framed green (OK) or red (NOK), with the defect mask tinted red",
        format: .text)
    static let thumb = Option<Int>(name: "--thumb", placeholder: "PIXELS", help: "thumbnail side", format: .wholeNumber(in: 16...256),
                                   default: 64)
    static let columns = Option<Int>(name: "--columns", placeholder: "N", help: "thumbnails per row", format: .wholeNumber(in: 1...64),
                                     default: 16)
    static let parameters: [any Parameter] = [folder, sheet, thumb, columns]

    struct Entry {
        let relativePath: String
        let className: String
        let baseName: String
    }

    static func run(_ arguments: Arguments) throws {
        let directory = try arguments.positionals([folder])[0]
        let sheetPath = try arguments[Self.sheet]
        let thumb = try arguments[Self.thumb]
        let columns = try arguments[Self.columns]
        guard BinaryFile.isDirectory(directory) else { throw RuntimeFailure("\(directory): not a directory") }

        let files = try listImages(in: directory)
        let images = files.filter { $0.className != "masks" }
        let masks = Dictionary(files.filter { $0.className == "masks" }.map { ($0.baseName, $0.relativePath) },
                               uniquingKeysWith: { first, _ in first })
        guard !images.isEmpty else { throw RuntimeFailure("\(directory): no PNG or JPEG images found") }

        var classCounts: [String: Int] = [:]
        var sizes: [String: Int] = [:]
        var kinds: [String: Int] = [:]
        var unreadable: [String] = []
        var maskProblems: [String] = []
        var masksFound = 0
        var thumbnails: [Image] = []
        for entry in images {
            let path = "\(directory)/\(entry.relativePath)"
            let decoded: DecodedImage
            do {
                decoded = try ImageFile.read(path)
            } catch {
                unreadable.append(error.description)
                continue
            }
            classCounts[entry.className, default: 0] += 1
            sizes["\(decoded.image.width)x\(decoded.image.height)", default: 0] += 1
            kinds["\(decoded.format.rawValue) \(decoded.sourceKind)", default: 0] += 1
            var mask: BinaryMask? = nil
            if let maskPath = masks[entry.baseName] {
                do {
                    let maskImage = try ImageFile.read("\(directory)/\(maskPath)").image
                    let found = BinaryMask(thresholding: maskImage)
                    masksFound += 1
                    if maskImage.width != decoded.image.width || maskImage.height != decoded.image.height {
                        maskProblems.append("\(maskPath): mask is \(maskImage.width)x\(maskImage.height), image is \(decoded.image.width)x\(decoded.image.height)")
                    } else if found.isEmpty {
                        maskProblems.append("\(maskPath): mask is empty (means: no mask)")
                    } else {
                        mask = found
                    }
                } catch {
                    maskProblems.append(error.description)
                }
            } else if isDefectClass(entry.className) {
                maskProblems.append("\(entry.relativePath): no mask in masks/")
            }
            if sheetPath != nil {
                thumbnails.append(thumbnail(decoded.image, mask: mask, defect: isDefectClass(entry.className), side: thumb))
            }
        }

        print("\(directory): \(images.count - unreadable.count) of \(images.count) images readable")
        print("  classes: " + classCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("  sizes:   " + sizes.sorted { $0.value > $1.value }.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
        print("  files:   " + kinds.sorted { $0.value > $1.value }.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
        print("  masks:   \(masksFound) found, \(maskProblems.count) problem(s)")
        for problem in maskProblems.prefix(20) { print("    \(problem)") }
        if maskProblems.count > 20 { print("    … and \(maskProblems.count - 20) more") }
        if !unreadable.isEmpty {
            print("  skipped \(unreadable.count) unreadable file(s):")
            for problem in unreadable { print("    \(problem)") }
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

    static func isDefectClass(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "nok" || lower.hasPrefix("def") || lower.contains("defect")
    }

    /// Image files below `root`, sorted; the first folder is the class.
    static func listImages(in root: String) throws -> [Entry] {
        ClassFolderDataset.images(below: root, relative: "").map { path in
            let parts = path.split(separator: "/")
            return Entry(relativePath: path, className: parts.count > 1 ? String(parts[0]) : "(top level)",
                         baseName: ClassFolderDataset.baseName(path))
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
