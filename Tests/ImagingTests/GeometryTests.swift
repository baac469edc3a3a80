import Imaging
import Testing
import TestSupport

/// Resampling and transforms against hand-computed pixels.
@Suite struct GeometryTests {
    func row(_ values: [Float]) -> Image { Image(width: values.count, height: 1, channels: 1, pixels: values) }

    @Test func bilinearUpscaleUsesPixelCentres() {
        // [0, 1] to four pixels: centres at 0.25, 0.75, 1.25, 1.75 of the source → clamp, ¼, ¾, clamp.
        let up = row([0, 1]).resized(width: 4, height: 1)
        #expect(up.pixels == [0, 0.25, 0.75, 1])
    }

    @Test func bilinearTwoDimensional() {
        let image = Image(width: 2, height: 2, channels: 1, pixels: [0, 1, 2, 3])
        let up = image.resized(width: 4, height: 4)
        // Row 1 (source y 0.25) between rows [0,1] and [2,3] with weight ¼.
        #expect(up[0, 1, 1] == 0.25 + 0.25 * 2)  // x: ¼ → 0.25 + ¼·(2.25 − 0.25)
        #expect(up[0, 0, 0] == 0 && up[0, 3, 3] == 3)
    }

    @Test func areaDownscaleAveragesEveryPixel() {
        let image = Image(width: 4, height: 2, channels: 1, pixels: [1, 3, 5, 7, 9, 11, 13, 15])
        #expect(image.areaResized(width: 2, height: 1).pixels == [6, 10])
        // A non-integer factor: 3 → 2 covers pixel 1 half by each output pixel.
        let third = row([0, 3, 6]).areaResized(width: 2, height: 1)
        #expect(abs(third.pixels[0] - 1) < 1e-6 && abs(third.pixels[1] - 5) < 1e-6)
    }

    @Test func areaDownscaleKeepsTheMean() {
        let image = rampImage(width: 37, height: 23, channels: 3)
        let small = image.areaResized(width: 5, height: 4)
        #expect(abs(small.mean - image.mean) < 1e-4)
    }

    /// What lays a model-sized heatmap over part of a photo: the whole image as the rectangle
    /// is `resized`; a quarter of it enlarged is the same samples as the whole enlarged, cut.
    @Test func resamplingARectangleMatchesResizingThenCropping() {
        let image = rampImage(width: 16, height: 8, channels: 2)
        let whole = image.resampled(x: 0, y: 0, width: 16, height: 8, toWidth: 40, toHeight: 24)
        let resized = image.resized(width: 40, height: 24)
        #expect(zip(whole.pixels, resized.pixels).map { abs($0 - $1) }.max()! < 1e-5)
        let big = image.resized(width: 64, height: 32)
        let part = image.resampled(x: 4, y: 2, width: 8, height: 4, toWidth: 32, toHeight: 16)
        let cut = big.cropped(to: PixelRect(x: 16, y: 8, width: 32, height: 16))
        #expect(zip(part.pixels, cut.pixels).map { abs($0 - $1) }.max()! < 1e-5)
    }

    @Test func cropTakesTheRectangle() {
        let image = rampImage(width: 5, height: 4, channels: 2)
        let crop = image.cropped(to: PixelRect(x: 1, y: 2, width: 3, height: 2))
        #expect(crop.width == 3 && crop.height == 2)
        #expect(crop[1, 0, 0] == image[1, 2, 1] && crop[0, 1, 2] == image[0, 3, 3])
    }

    @Test func padModes() {
        let image = row([1, 2, 3])
        #expect(image.padded(top: 0, left: 2, bottom: 0, right: 1, border: .constant(0)).pixels == [0, 0, 1, 2, 3, 0])
        #expect(image.padded(top: 0, left: 2, bottom: 0, right: 1, border: .edge).pixels == [1, 1, 1, 2, 3, 3])
        #expect(image.padded(top: 0, left: 2, bottom: 0, right: 2, border: .reflect).pixels == [3, 2, 1, 2, 3, 2, 1])
        #expect(image.padded(top: 1, left: 0, bottom: 0, right: 0, border: .edge).height == 2)
    }

    @Test func flipsAndRotations() {
        // 2 × 3 image:  a b      1 2
        //               c d  =   3 4
        //               e f      5 6
        let image = Image(width: 2, height: 3, channels: 1, pixels: [1, 2, 3, 4, 5, 6])
        #expect(image.flippedHorizontally().pixels == [2, 1, 4, 3, 6, 5])
        #expect(image.flippedVertically().pixels == [5, 6, 3, 4, 1, 2])
        let clockwise = image.rotated(quarterTurns: 1)
        #expect(clockwise.width == 3 && clockwise.height == 2)
        #expect(clockwise.pixels == [5, 3, 1, 6, 4, 2])
        #expect(image.rotated(quarterTurns: -1).pixels == [2, 4, 6, 1, 3, 5])
        #expect(image.rotated(quarterTurns: 2).pixels == [6, 5, 4, 3, 2, 1])
        #expect(image.rotated(quarterTurns: 4) == image)
        #expect(image.rotated(quarterTurns: 1).rotated(quarterTurns: 3) == image)
    }

    @Test func zoomInAboutTheCentreDoublesDistances() {
        // A 4-pixel row [0, 1, 2, 3] zoomed 2× about its centre (2.0): output centre p maps to
        // 2 + (p − 2)/2: 0.5 → 1.25, 1.5 → 1.75, 2.5 → 2.25, 3.5 → 2.75, i.e. index −½ lower.
        let zoomed = row([0, 1, 2, 3]).zoomed(by: 2, aboutX: 2, y: 0.5, border: .edge)
        #expect(zoomed.pixels == [0.75, 1.25, 1.75, 2.25])
    }

    @Test func zoomOutFillsTheMargin() {
        let zoomed = row([1, 1, 1, 1]).zoomed(by: 0.5, aboutX: 2, y: 0.5, border: .constant(0))
        // Output centres 0.5 and 3.5 map to −1 and 5 (outside), 1.5 and 2.5 to 1 and 3.
        #expect(zoomed.pixels[0] == 0 && zoomed.pixels[3] == 0)
        #expect(zoomed.pixels[1] == 1 && zoomed.pixels[2] == 1)
    }

    @Test func zoomByOneIsIdentity() {
        let image = rampImage(width: 6, height: 5, channels: 3)
        let same = image.zoomed(by: 1, aboutX: 2.7, y: 1.3, border: .constant(0))
        for (a, b) in zip(same.pixels, image.pixels) { #expect(abs(a - b) < 1e-6) }
    }

    @Test func shiftAdjustPasteBlend() {
        #expect(row([1, 2, 3]).shifted(dx: 1, dy: 0, border: .constant(0)).pixels == [0, 1, 2])
        #expect(row([0.5, 1]).adjusted(brightness: 0.1, contrast: 2).pixels == [0.6, 1])
        let canvas = Image(width: 3, height: 2, channels: 1)
        let pasted = canvas.pasting(Image(width: 2, height: 2, channels: 1, filledWith: 1), atX: 2, y: 1)
        #expect(pasted.pixels == [0, 0, 0, 0, 0, 1])  // clipped to one visible pixel
        let blend = row([0, 0]).blended(with: row([1, 1]), weight: row([0.25, 1]))
        #expect(blend.pixels == [0.25, 1])
    }

    @Test func colourConversions() {
        let rgb = Image(width: 1, height: 1, channels: 3, pixels: [1, 0, 0])
        #expect(abs(rgb.greyscale().pixels[0] - 0.299) < 1e-6)
        let grey = Image(width: 1, height: 1, channels: 2, pixels: [0.4, 1])
        #expect(grey.rgb().pixels == [0.4, 0.4, 0.4])
    }
}

@Suite struct DrawingTests {
    @Test func textIsDrawnFromTheFontAndClipped() {
        var image = Image(width: 20, height: 9, channels: 1)
        image.text("1", x: 1, y: 1, color: [1])
        // The glyph of "1": its stem is column 2 of the 5×7 cell, rows 0-6.
        #expect((1...7).allSatisfy { image[0, $0, 3] == 1 })
        #expect(image[0, 1, 1] == 0 && image[0, 7, 2] == 1 && image[0, 7, 4] == 1)
        // Unknown characters are a hollow box; drawing past the edge is clipped, not a crash.
        var box = Image(width: 8, height: 8, channels: 1)
        box.text("€", x: 0, y: 0, color: [1])
        #expect(box[0, 0, 0] == 1 && box[0, 3, 2] == 0 && box[0, 6, 4] == 1)
        box.text("WWW", x: 5, y: 6, scale: 3, color: [0.5])
        box.line(from: (-10, -10), to: (20, 20), thickness: 3, color: [0.25])
        #expect(box[0, 4, 4] == 0.25)
        #expect(BitmapFont.width(of: "abc", scale: 2) == 36)
    }
}
