import Imaging
import Testing
import TestSupport

/// Decoding every PNG and JPEG variant the product promises to read, against known pixels.
@Suite struct DecodingTests {
    static let fixtures = repositoryRoot() + "/Tests/ImagingTests/Fixtures"

    func decode(_ name: String) throws -> DecodedImage {
        try ImageFile.read("\(Self.fixtures)/\(name)")
    }

    /// 8-bit sample value v as the decoder returns it.
    func byte(_ v: Int) -> Float { Float(v) / 255 }

    @Test func grey8() throws {
        let d = try decode("grey8.png")
        #expect(d.format == .png && d.bitDepth == 8 && d.sourceKind == "grey 8-bit")
        #expect(d.image.width == 4 && d.image.height == 3 && d.image.channels == 1)
        #expect(d.image[0, 2, 3] == byte(11 * 20))
        #expect(d.image[0, 1, 1] == byte(100))
    }

    @Test func grey16KeepsFullPrecision() throws {
        let d = try decode("grey16.png")
        #expect(d.bitDepth == 16 && d.image.channels == 1)
        #expect(d.image[0, 1, 1] == Float(5 * 4000 + 123) / 65535)
        #expect(d.image[0, 2, 3] == Float(11 * 4000 + 123) / 65535)
    }

    @Test func lowBitDepthGreyIsScaledToFullRange() throws {
        let four = try decode("grey4.png")
        #expect(four.image[0, 1, 1] == byte(5 * 17))  // 4-bit 5 → 8-bit 85
        let one = try decode("grey1.png")
        #expect(one.image[0, 0, 0] == 0 && one.image[0, 0, 1] == 1)
    }

    @Test func greyAlphaKeepsAlphaPlane() throws {
        let d = try decode("grey_alpha8.png")
        #expect(d.image.channels == 2)
        #expect(d.image[0, 1, 2] == byte(6 * 20) && d.image[1, 1, 2] == byte(255 - 120))
        #expect(d.image.removingAlpha().channels == 1)
    }

    @Test func rgbAndRgba() throws {
        let rgb = try decode("rgb8.png")
        #expect(rgb.image.channels == 3)
        #expect(rgb.image[0, 2, 3] == byte(180) && rgb.image[1, 2, 3] == byte(200) && rgb.image[2, 2, 3] == byte(7))
        let rgba = try decode("rgba8.png")
        #expect(rgba.image.channels == 4 && rgba.image[3, 0, 0] == byte(128))
        let deep = try decode("rgb16.png")
        #expect(deep.bitDepth == 16 && deep.image[0, 0, 2] == Float(32000) / 65535 && deep.image[2, 0, 0] == 1)
    }

    @Test func paletteExpandsToColourWithTransparency() throws {
        let d = try decode("palette8.png")
        #expect(d.sourceKind == "palette 8-bit")
        #expect(d.image.channels == 4)  // tRNS gives an alpha plane
        // Index (x + y) % 4: at (0,0) red with alpha 0, at (1,0) green opaque.
        #expect(d.image[0, 0, 0] == 1 && d.image[3, 0, 0] == 0)
        #expect(d.image[1, 0, 1] == 1 && d.image[3, 0, 1] == 1)
        let four = try decode("palette4.png")
        #expect(four.image.channels == 3)
        #expect(four.image[2, 1, 1] == 1 && four.image[0, 1, 1] == 0)  // index 2 = blue
    }

    @Test func greyTransparencyChunkBecomesAlpha() throws {
        let d = try decode("grey_trns8.png")
        #expect(d.image.channels == 2)
        #expect(d.image[1, 0, 2] == 0)  // grey 40 is the transparent value
        #expect(d.image[1, 0, 1] == 1)
    }

    @Test func interlacedMatchesPixels() throws {
        let d = try decode("interlaced_rgb8.png")
        #expect(d.sourceKind == "RGB 8-bit interlaced")
        for (x, y) in [(0, 0), (5, 7), (8, 8), (3, 1)] {
            #expect(d.image[0, y, x] == byte(x * 20) && d.image[1, y, x] == byte(y * 20)
                    && d.image[2, y, x] == byte((x * y) % 256))
        }
    }

    @Test func jpegGreyRgbAndProgressive() throws {
        let grey = try decode("grey.jpg")
        #expect(grey.format == .jpeg && grey.image.channels == 1)
        #expect(abs(grey.image[0, 8, 8] - byte(128)) <= byte(2))
        let rgb = try decode("rgb.jpg")
        #expect(rgb.image.channels == 3)
        #expect(abs(rgb.image[0, 3, 3] - byte(200)) <= byte(3) && abs(rgb.image[1, 3, 3] - byte(50)) <= byte(3))
        let progressive = try decode("progressive.jpg")
        #expect(progressive.sourceKind.hasSuffix("progressive") && progressive.image.width == 32)
        #expect(abs(progressive.image[2, 5, 20] - byte(220)) <= byte(3))
    }

    @Test func cmykJpegIsConvertedToRgb() throws {
        // C=0, M=Y=75 %, K=21.6 % is the RGB colour (200, 50, 50).
        let d = try decode("cmyk.jpg")
        #expect(d.sourceKind == "CMYK" && d.image.channels == 3)
        #expect(abs(d.image[0, 4, 4] - byte(200)) <= byte(3))
        #expect(abs(d.image[1, 4, 4] - byte(50)) <= byte(3) && abs(d.image[2, 4, 4] - byte(50)) <= byte(3))
    }
}
