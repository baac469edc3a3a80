import Explanations
import Imaging
import NeuralNet
import Testing
import TestSupport

/// Sanity checks for saliency maps (Adebayo et al. 2018) on a model trained by the product's
/// defaults on the bundled weld seams (the workspace's first round, kept as a fixture), with
/// the default fill: a map must depend on the model and on the image.
@Suite struct SanityCheckTests {
    static let root = repositoryRoot()
    static let checkpoint = root + "/Tests/ExplanationsTests/Fixtures/weld-model.safetensors"
    /// Bundled NOK parts with masks, of different defect kinds at different places along the
    /// seam (mask centres at x = 52, 15 and 96 of 128): an interruption, a black area, pores.
    static let defects = ["weld_0004", "weld_0007", "weld_0010"]

    static func load(_ name: String, _ classifier: ImageClassifier, folder: String) throws -> Image {
        classifier.prepare(try ImageFile.read("\(root)/SampleData/weld/\(folder)/\(name).png").image)
    }

    static func explainer(_ classifier: ImageClassifier) throws -> SaliencyExplainer {
        let ok = try ["weld_0001", "weld_0002", "weld_0003", "weld_0006", "weld_0009", "weld_0011"].map {
            try load($0, classifier, folder: "ok")
        }
        return SaliencyExplainer(method: .invrise, masks: RISEMasks(count: 300, seed: 1), fill: .standard,
                                 normalParts: NormalParts(parts: ok))
    }

    static func map(_ classifier: ImageClassifier, _ explainer: SaliencyExplainer, _ image: Image) -> SaliencyResult {
        explainer.explain(image, target: 1, classCount: 2, probabilities: classifier.probabilityFunction())
    }

    /// Model-parameter randomisation: the same architecture with fresh random weights must
    /// explain the same part differently (rank correlation below 0.5).
    @Test func randomisingTheModelChangesTheMap() throws {
        let trained = try ImageClassifier(checkpoint: Self.checkpoint)
        let randomised = ImageClassifier(model: ResNet(trained.model.configuration, seed: 1234), info: trained.info)
        let trainedExplainer = try Self.explainer(trained), randomExplainer = try Self.explainer(randomised)
        for name in Self.defects {
            let image = try Self.load(name, trained, folder: "nok")
            let a = Self.map(trained, trainedExplainer, image), b = Self.map(randomised, randomExplainer, image)
            let rho = spearman(a.heatmap.pixels, b.heatmap.pixels)
            #expect(rho < 0.5, "\(name): Spearman \(rho) between the trained and the randomised model's maps")
        }
    }

    /// Different defects in different places: different maps (the defect found was the old
    /// maps' failure: two parts, one map of hot borders).
    @Test func differentDefectsGetDifferentMaps() throws {
        let classifier = try ImageClassifier(checkpoint: Self.checkpoint)
        let explainer = try Self.explainer(classifier)
        let maps = try Self.defects.map { Self.map(classifier, explainer, try Self.load($0, classifier, folder: "nok")).heatmap.pixels }
        for i in 0..<maps.count { for j in (i + 1)..<maps.count {
            let rho = spearman(maps[i], maps[j])
            #expect(rho < 0.5, "\(Self.defects[i]) and \(Self.defects[j]): Spearman \(rho)")
        } }
    }

    /// The heatmaps' bfloat16 passes (where the CPU multiplies bfloat16 natively) change a map
    /// less than drawing another set of masks does: with the same masks, the bfloat16 map
    /// agrees with the float32 map better than two float32 maps of different mask seeds agree
    /// with each other, and says flat or not flat alike. Elsewhere the heatmaps run in float32
    /// and the two maps are the same values.
    @Test func bfloat16HeatmapsDifferLessThanAnotherDrawOfMasks() throws {
        let classifier = try ImageClassifier(checkpoint: Self.checkpoint)
        var explainer = try Self.explainer(classifier)
        explainer.masks.count = 1000
        var reseeded = explainer
        reseeded.masks.seed = 2
        let native = InferencePrecision.bfloat16.effective(on: classifier.model.backend) == .bfloat16
        for name in Self.defects {
            let image = try Self.load(name, classifier, folder: "nok")
            func explain(_ explainer: SaliencyExplainer, _ precision: InferencePrecision) -> SaliencyResult {
                explainer.explain(image, target: 1, classCount: 2,
                                  probabilities: classifier.probabilityFunction(precision: precision))
            }
            let float32 = explain(explainer, .float32), bfloat16 = explain(explainer, .bfloat16)
            guard native else {
                #expect(float32.heatmap.pixels == bfloat16.heatmap.pixels, "\(name): float32 fallback differs")
                continue
            }
            let otherDraw = explain(reseeded, .float32)
            let precisionAgreement = spearman(float32.heatmap.pixels, bfloat16.heatmap.pixels)
            let drawAgreement = spearman(float32.heatmap.pixels, otherDraw.heatmap.pixels)
            #expect(precisionAgreement > drawAgreement && precisionAgreement > 0.95,
                    "\(name): Spearman float32–bfloat16 \(precisionAgreement), float32 seed 1–seed 2 \(drawAgreement)")
            #expect(float32.noise.isFlat == bfloat16.noise.isFlat, "\(name): flat in one precision only")
            print("heatmap precision, \(name): Spearman float32–bfloat16 \(precisionAgreement), "
                  + "float32 seed 1–seed 2 \(drawAgreement); contrast \(float32.noise.contrast) / \(bfloat16.noise.contrast)")
        }
    }
}
