import Imaging
import Testing
import TestSupport

@Suite struct EncodingTests {
    @Test(arguments: [1, 2, 3, 4])
    func eightBitRoundTripIsExact(channels: Int) throws {
        let image = rampImage(width: 7, height: 5, channels: channels)
        let decoded = try ImageFile.decode(try ImageFile.encodePNG(image), name: "round-trip")
        #expect(decoded.image == image)  // every sample is k/255, so 8 bits keep it exactly
        #expect(decoded.bitDepth == 8)
    }

    @Test func sixteenBitGreyKeepsHeatmapPrecision() throws {
        // Saliency values closer together than 1/255: 8 bits would merge them, 16 must not.
        let values = (0..<64).map { Float($0) / 65535 * 37 + 0.25 }
        let heat = Image(width: 8, height: 8, channels: 1, pixels: values)
        let decoded = try ImageFile.decode(try ImageFile.encodePNG(heat, bitDepth: 16), name: "heat")
        #expect(decoded.bitDepth == 16)
        for (a, b) in zip(decoded.image.pixels, values) { #expect(abs(a - b) <= 0.5 / 65535) }
        #expect(Set(decoded.image.pixels).count == 64)
    }

    @Test func valuesOutsideUnitRangeAreClampedNotWrapped() throws {
        let image = Image(width: 2, height: 1, channels: 1, pixels: [-0.5, 1.7])
        let decoded = try ImageFile.decode(try ImageFile.encodePNG(image), name: "clamp")
        #expect(decoded.image.pixels == [0, 1])
    }

    @Test func writeToFileIsReadBack() throws {
        let directory = TemporaryDirectory("encode")
        defer { directory.remove() }
        let image = rampImage(width: 3, height: 3, channels: 3)
        try ImageFile.writePNG(image, to: directory.file("a.png"))
        #expect(try ImageFile.read(directory.file("a.png")).image == image)
        #expect(throws: ImageFileError.self) { try ImageFile.writePNG(image, to: "/no/such/dir/a.png") }
    }

    @Test func unsupportedBitDepthIsAnError() {
        #expect(throws: ImageFileError.self) { try ImageFile.encodePNG(rampImage(width: 2, height: 2, channels: 1), bitDepth: 12) }
    }
}
