import Explanations
import Imaging
@testable import InspectorUI
import Testing

/// The network's own defect map beside the explanation: drawn on its probability scale, and
/// compared with the explanation in words the inspector reads on the caption line.
@Suite struct OwnMapTests {
    /// A 16 × 16 map with a hot 4 × 4 square at (x, y), `high` there and `low` elsewhere.
    static func map(hotAt x: Int, _ y: Int, high: Float = 0.9, low: Float = 0.05) -> Image {
        var map = Image(width: 16, height: 16, channels: 1, filledWith: low)
        for row in y..<(y + 4) { for column in x..<(x + 4) { map[0, row, column] = high } }
        return map
    }

    static func result(explanation: Image, own: Image?, complete: Bool = true) -> HeatmapWorker.Result {
        HeatmapWorker.Result(heatmap: explanation, masksDone: 1000, complete: complete,
                             noise: HeatmapNoise(noise: 0.001, peak: 0.3, noisePeak: 0.01), ownMap: own)
    }

    @Test func theCaptionSaysWhetherBothMapsPointAtTheSamePlace() {
        let explanation = Self.map(hotAt: 2, 2, high: 0.6, low: 0.1)
        #expect(Self.result(explanation: explanation, own: nil).ownMapReading?.words == nil)
        #expect(Self.result(explanation: explanation, own: Self.map(hotAt: 3, 3)).ownMapReading?.words == "own map agrees")
        #expect(Self.result(explanation: explanation, own: Self.map(hotAt: 11, 10)).ownMapReading?.words == "own map points elsewhere")
        // Nothing above ½ on the own map: it found no defect, whatever the explanation shows.
        #expect(Self.result(explanation: explanation, own: Self.map(hotAt: 11, 10, high: 0.3)).ownMapReading?.words
                == "own map: no defect (P ≤ 0.30)")
        // An explanation still computing is not compared.
        #expect(Self.result(explanation: explanation, own: Self.map(hotAt: 11, 10), complete: false).ownMapReading?.words
                == "own map: a defect, P 0.90")
        #expect(Self.result(explanation: explanation, own: Self.map(hotAt: 11, 10)).ownMapReading?.agrees == false)
    }

    @Test func theOwnMapKeepsItsProbabilityScale() {
        // A part the network finds nothing on (P 0.1 everywhere) stays cold, where the
        // explanation's display would stretch any map to its own range.
        let photo = Image(width: 16, height: 16, channels: 3, filledWith: 0.5)
        let cold = Image(width: 16, height: 16, channels: 1, filledWith: 0.1)
        let layer = HeatmapLayer(ownMap: cold, outline: false)
        #expect(!layer.display.isFlat && layer.display.range == 0...1)
        let drawn = layer.drawn(on: photo, showing: PixelRect(x: 0, y: 0, width: 16, height: 16), of: photo, colorMap: .jet, opacity: 1)
        let expected = ColorMap.jet.color(at: 0.1)
        #expect(abs(drawn[0, 8, 8] - expected.r) < 0.02 && abs(drawn[2, 8, 8] - expected.b) < 0.02, "\(drawn[0, 8, 8]) \(drawn[2, 8, 8])")
        #expect(drawn[2, 8, 8] > drawn[0, 8, 8], "blue: nothing found")
    }
}
