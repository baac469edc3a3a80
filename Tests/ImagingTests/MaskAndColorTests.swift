import Imaging
import Testing
import TestSupport

@Suite struct MaskTests {
    @Test func thresholdAtHalfCountsSoftEdges() {
        let soft = Image(width: 4, height: 1, channels: 1, pixels: [0, 0.49, 0.5, 1])
        #expect(BinaryMask(thresholding: soft).bits == [false, false, true, true])
    }

    @Test func areaAndBoundingBox() {
        var mask = BinaryMask(width: 6, height: 5)
        #expect(mask.boundingBox == nil && mask.isEmpty)
        mask[1, 2] = true
        mask[3, 4] = true
        #expect(mask.area == 2)
        #expect(mask.boundingBox == PixelRect(x: 2, y: 1, width: 3, height: 3))
    }

    @Test func dilationIsADisc() {
        var mask = BinaryMask(width: 7, height: 7)
        mask[3, 3] = true
        let grown = mask.dilated(radius: 2)
        // A radius-2 disc on the pixel grid: 13 pixels (the 5×5 square minus corners and the
        // eight pixels at distance √5 > 2).
        #expect(grown.area == 13)
        #expect(grown[3, 1] && grown[1, 3] && grown[2, 2] && !grown[1, 2])
    }

    @Test func overlapCounts() {
        let a = BinaryMask(width: 3, height: 1, bits: [true, true, false])
        let b = BinaryMask(width: 3, height: 1, bits: [false, true, true])
        #expect(a.intersectionArea(with: b) == 1 && a.union(b).area == 3)
    }

    @Test func resizedMaskKeepsItsRegion() {
        var mask = BinaryMask(width: 8, height: 8)
        for y in 2..<6 { for x in 2..<6 { mask[y, x] = true } }
        let small = mask.resized(width: 4, height: 4)
        #expect(small.area == 4 && small.boundingBox == PixelRect(x: 1, y: 1, width: 2, height: 2))
    }
}

@Suite struct ColorMapTests {
    @Test func jetEndpointsAndMiddle() {
        #expect(ColorMap.jet.color(at: 0) == (0, 0, 0.5))
        #expect(ColorMap.jet.color(at: 1) == (0.5, 0, 0))
        #expect(ColorMap.jet.color(at: 0.5) == (0.5, 1, 0.5))
        #expect(ColorMap.jet.color(at: -3) == ColorMap.jet.color(at: 0))  // clamped
    }

    @Test func infernoEndpointsAreBlackAndPaleYellow() {
        let low = ColorMap.inferno.color(at: 0), high = ColorMap.inferno.color(at: 1)
        #expect(low.r < 0.01 && low.g < 0.01 && low.b < 0.02)
        #expect(high.r > 0.98 && high.g > 0.99 && abs(high.b - 0.645) < 0.001)
        // Inferno's brightness rises monotonically.
        var last: Float = -1
        for i in 0...32 {
            let c = ColorMap.inferno.color(at: Float(i) / 32)
            let luma = 0.299 * c.r + 0.587 * c.g + 0.114 * c.b
            #expect(luma > last)
            last = luma
        }
    }

    @Test func overlayBlendsWithTheChosenRange() {
        let base = Image(width: 2, height: 1, channels: 1, pixels: [1, 1])
        let heat = Image(width: 2, height: 1, channels: 1, pixels: [0, 0.5])
        // Fixed range 0…0.5: the second pixel is the top of the map (dark red for jet).
        let over = base.overlaid(with: heat, colorMap: .jet, range: 0...0.5, opacity: 0.5)
        #expect(over.channels == 3)
        #expect(over[0, 0, 1] == 0.75 && over[1, 0, 1] == 0.5 && over[2, 0, 1] == 0.5)
        #expect(over[2, 0, 0] == 0.75)  // heat 0 → (0, 0, ½)
    }

    @Test func barRunsFromTopToBottom() {
        let bar = ColorMap.grey.bar(width: 2, height: 5)
        #expect(bar[0, 0, 0] == 1 && bar[0, 4, 1] == 0 && bar[0, 2, 0] == 0.5)
    }
}
