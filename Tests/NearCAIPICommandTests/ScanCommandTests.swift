import Foundation
import Imaging
import Testing
import TestSupport

/// `scan` against `init` on the same class-folder data set: the two read it the same way, so
/// they must agree on the images per class, the masks and the unreadable files.
@Suite struct ScanCommandTests {
    /// What the data set below holds, as both verbs must count it.
    static let okImages = 19, nokImages = 16, masks = 15, distinctSizes = 32

    /// ok/: 16 images of distinct sizes, three of 32x32 and a corrupt file. nok/: photographs
    /// NAME.jpg with their masks NAME.png beside them (one a real JPEG, the others PNG data
    /// under a .jpg name: the decoder trusts the bytes, the mask rule the names), images with
    /// NAME_mask.png beside them, images with their masks in masks/, and one without a mask.
    static func makeDataSet(_ root: String) throws {
        for folder in ["ok", "nok", "masks"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
        }
        func part(_ width: Int, _ height: Int) -> Image { Image(width: width, height: height, channels: 3, filledWith: 0.4) }
        func mask(_ width: Int, _ height: Int) -> Image {
            var mask = Image(width: width, height: height, channels: 1)
            for y in 0..<height / 2 { for x in 0..<width / 2 { mask.pixels[y * width + x] = 1 } }
            return mask
        }
        for i in 0..<16 { try ImageFile.writePNG(part(20 + 3 * i, 16 + 2 * i), to: "\(root)/ok/part\(i).png") }
        for i in 0..<3 { try ImageFile.writePNG(part(32, 32), to: "\(root)/ok/square\(i).png") }
        let whole = try ImageFile.encodePNG(part(40, 40))
        #expect(FileManager.default.createFile(atPath: "\(root)/ok/broken.png", contents: Data(whole.prefix(60))))

        for i in 0..<10 {
            let (width, height) = (70 + 3 * i, 50 + 2 * i)
            #expect(FileManager.default.createFile(atPath: "\(root)/nok/photo\(i).jpg", contents: Data(try ImageFile.encodePNG(part(width, height)))))
            try ImageFile.writePNG(mask(width, height), to: "\(root)/nok/photo\(i).png")
        }
        let jpeg = repositoryRoot() + "/Tests/ImagingTests/Fixtures/progressive.jpg"
        try FileManager.default.copyItem(atPath: jpeg, toPath: "\(root)/nok/camera.jpg")
        let photograph = try ImageFile.read(jpeg).image
        try ImageFile.writePNG(mask(photograph.width, photograph.height), to: "\(root)/nok/camera.png")
        for i in 0..<2 {
            try ImageFile.writePNG(part(120 + i, 90), to: "\(root)/nok/dent\(i).png")
            try ImageFile.writePNG(mask(120 + i, 90), to: "\(root)/nok/dent\(i)_mask.png")
            try ImageFile.writePNG(part(130 + i, 95), to: "\(root)/nok/crack\(i).png")
            try ImageFile.writePNG(mask(130 + i, 95), to: "\(root)/masks/crack\(i).png")
        }
        try ImageFile.writePNG(part(32, 32), to: "\(root)/nok/unmasked.png")
        // A data set that gives every image a mask: a good part's is empty, which is no problem.
        try ImageFile.writePNG(Image(width: 32, height: 32, channels: 1), to: "\(root)/masks/square0.png")
    }

    /// The whole numbers a pattern's captures hold in `text`, or nil when it does not match.
    static func numbers(_ text: String, _ pattern: String) -> [Int]? {
        guard let expression = try? NSRegularExpression(pattern: pattern),
              let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
        return (1..<match.numberOfRanges).compactMap { Range(match.range(at: $0), in: text).flatMap { Int(text[$0]) } }
    }

    @Test func scanAgreesWithInitOnAClassFolderDataSet() throws {
        let directory = TemporaryDirectory("scan-init")
        defer { directory.remove() }
        let data = directory.file("data")
        try Self.makeDataSet(data)

        let scan = try Tool.run(["scan", data, "--sheet", directory.file("sheet.png"), "--thumb", "16", "--columns", "8"])
        #expect(scan.status == 0, "\(scan.standardError)")
        let created = try Tool.run(["init", directory.file("ws"), "--data", data])
        #expect(created.status == 0, "\(created.standardError)")
        let report = scan.standardOutput

        // The same images per class and the same masks; the masks are not counted as images.
        let initCounts = Self.numbers(created.standardOutput, #"usable \(OK (\d+), NOK (\d+); (\d+) with a defect mask\), (\d+) unreadable"#)
        #expect(initCounts == [Self.okImages, Self.nokImages, Self.masks, 1], "\(created.standardOutput)")
        #expect(Self.numbers(report, #"classes: OK (\d+), NOK (\d+)"#) == [Self.okImages, Self.nokImages], "\(report)")
        #expect(Self.numbers(report, #"masks: +(\d+) found"#) == [Self.masks], "\(report)")
        let images = Self.okImages + Self.nokImages
        #expect(report.contains("\(images) of \(images + 1) images readable"), "\(report)")
        #expect(report.contains("contact sheet: \(directory.file("sheet.png")) (128x80, \(images) thumbnails)"), "\(report)")
        #expect(report.contains("nok/unmasked.png: no mask"))
        // An OK image's empty mask is not a problem (on real tiles 952 of 956 "problems" were);
        // the aspect ratios init squeezes square are said.
        #expect(!report.contains("masks/square0.png") && report.contains("1 OK image(s) with an empty mask"), "\(report)")
        #expect(Self.numbers(report, #"masks: +\d+ found, (\d+) problem"#) == [1], "\(report)")
        #expect(report.contains("  aspect:  1.00 to 2.00 (width / height); the model sees each image squeezed"), "\(report)")
        for maskFile in ["nok/photo0.png", "nok/camera.png", "nok/dent0_mask.png", "masks/crack0.png"] {
            #expect(!report.contains(maskFile), "a mask reported as an image or a problem: \(maskFile)\n\(report)")
        }

        // The corrupt file, reported by both with the same reason in words.
        let initLine = try #require(created.standardError.split(separator: "\n").first { $0.contains("ok/broken.png") })
        let reason = try #require(String(initLine).components(separatedBy: "ok/broken.png: ").last?.replacingOccurrences(of: " (skipped)", with: ""))
        #expect(reason.hasPrefix("corrupt image"), "\(initLine)")
        #expect(report.contains("ok/broken.png: \(reason)\n"), "\(report)")

        // Thirty-two sizes make one short line: the range and at most five common sizes.
        let sizes = try #require(report.split(separator: "\n").first { $0.hasPrefix("  sizes:") }.map(String.init))
        #expect(sizes.contains("\(Self.distinctSizes) distinct, from 20x16 to 131x95; most common 32x32 (4)"), "\(sizes)")
        let listed = try NSRegularExpression(pattern: #"\d+x\d+ \(\d+\)"#)
        #expect(listed.numberOfMatches(in: sizes, range: NSRange(sizes.startIndex..., in: sizes)) == 5, "\(sizes)")
        #expect(sizes.count < 160, "\(sizes)")
    }
}
