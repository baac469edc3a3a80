import FileAccess
import Imaging
@testable import SyntheticParts
import Testing
import TestSupport

@Suite struct SampleDatasetTests {
    @Test(arguments: PartFamily.allCases)
    func samePartForTheSameSeed(family: PartFamily) throws {
        let a = family.makePart(index: 7, seed: 99, size: 64)
        let b = family.makePart(index: 7, seed: 99, size: 64)
        #expect(a.image == b.image && a.mask == b.mask && a.defect == b.defect)
        let other = family.makePart(index: 7, seed: 100, size: 64)
        #expect(other.image != a.image)
    }

    @Test(arguments: PartFamily.allCases)
    func regeneratingWritesIdenticalFiles(family: PartFamily) throws {
        let first = TemporaryDirectory("sample-a"), second = TemporaryDirectory("sample-b")
        defer { first.remove(); second.remove() }
        let spec = SampleDatasetSpec(family: family, count: 10, size: 48, seed: 5)
        let summary = try SampleDataset.write(spec, to: first.path)
        _ = try SampleDataset.write(spec, to: second.path)
        for file in summary.files + ["manifest.csv"] {
            #expect(try BinaryFile.read(first.file(file)) == BinaryFile.read(second.file(file)), "\(file) differs")
        }
    }

    /// The committed sample data is exactly what the generator makes: nobody edited it by
    /// hand, and a generator change that alters it is noticed.
    @Test(arguments: [("weld", PartFamily.weld), ("cast", PartFamily.cast)])
    func committedSampleDataMatchesTheGenerator(folder: String, family: PartFamily) throws {
        let root = repositoryRoot() + "/SampleData/\(folder)"
        let manifest = String(decoding: try BinaryFile.read(root + "/manifest.csv"), as: UTF8.self)
        let rows = manifest.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.count >= 100)
        for index in [0, 1, 2, 3, 17, 42, rows.count - 1] {
            let part = family.makePart(index: index, seed: 1, size: 128)
            let row = rows[index]
            #expect(String(row[0]).hasPrefix("\(part.label.rawValue)/") && String(row[2]) == part.defect)
            #expect(try BinaryFile.read(root + "/" + row[0]) == ImageFile.encodePNG(part.image), "\(row[0])")
            if part.label == .nok {
                #expect(try BinaryFile.read(root + "/" + row[3]) == ImageFile.encodePNG(part.mask.image))
            }
        }
    }

    @Test(arguments: PartFamily.allCases)
    func truthIsConsistent(family: PartFamily) throws {
        var kinds: [String: Int] = [:]
        var smallDefects = 0, nok = 0
        for index in 0..<120 {
            let part = family.makePart(index: index, seed: 3, size: 64)
            kinds[part.defect, default: 0] += 1
            #expect(part.image.channels == (family == .weld ? 3 : 1))
            #expect(part.image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
            if part.label == .ok {
                #expect(part.mask.isEmpty && part.defect == "none")
            } else {
                nok += 1
                #expect(part.mask.area >= 2, "NOK \(part.defect) #\(index) has no mask")
                if part.mask.coverage < 0.01 { smallDefects += 1 }
            }
        }
        // Both classes and every defect kind occur.
        #expect(kinds["none", default: 0] > 30 && nok > 40)
        for (kind, _) in family.defectKinds { #expect(kinds[kind, default: 0] > 0, "no \(kind)") }
        // Some defects are tiny: the task must leave room for the interactive loop to help.
        #expect(smallDefects * 6 >= nok)
    }

    /// `--unseen-kinds` adds the kinds the pretext does not imitate, each with a mask, and
    /// leaves every part of the default mix as it was where it draws the same kind.
    @Test(arguments: PartFamily.allCases)
    func unseenKindsJoinTheMixWithTheirMasks(family: PartFamily) throws {
        var kinds: [String: Int] = [:]
        for index in 0..<160 {
            let part = family.makePart(index: index, seed: 5, size: 64, unseenKinds: true)
            kinds[part.defect, default: 0] += 1
            if part.label == .nok { #expect(part.mask.area >= 2, "NOK \(part.defect) #\(index) has no mask") }
            let usual = family.makePart(index: index, seed: 5, size: 64)
            if usual.defect == part.defect { #expect(usual.image.pixels == part.image.pixels) }
        }
        for (kind, _) in family.unseenDefectKinds + family.defectKinds { #expect(kinds[kind, default: 0] > 0, "no \(kind)") }
        #expect(Set(family.unseenDefectKinds.map(\.0)).isDisjoint(with: family.defectKinds.map(\.0)))
    }

    /// A geometric defect marks the stretch of the part it moved: the pixels that differ from
    /// the same part without it lie in the mask or beside it, but for the smooth ends of the
    /// bend (a shift under a pixel) — under 5 % of them.
    @Test(arguments: [(PartFamily.weld, "kink"), (.cast, "dent")])
    func geometricDefectsMarkWhatMoved(family: PartFamily, defect: String) {
        for seed in UInt64(1)...6 {
            let with = family.drawPart(defect: defect, seed: seed, size: 96)
            let without = family.drawPart(defect: "none", seed: seed, size: 96)
            #expect(with.mask.area > 20, "\(defect) seed \(seed): mask of \(with.mask.area) px")
            let near = with.mask.dilated(radius: 4)
            let plane = with.image.planeSize
            var strayChanges = 0, maskedChanges = 0
            for i in 0..<plane {
                var change: Float = 0
                for c in 0..<with.image.channels {
                    change = max(change, abs(with.image.pixels[c * plane + i] - without.image.pixels[c * plane + i]))
                }
                if change > 0.05 { if near.bits[i] { maskedChanges += 1 } else { strayChanges += 1 } }
            }
            #expect(maskedChanges > 0 && strayChanges * 20 <= maskedChanges + strayChanges,
                    "\(defect) seed \(seed): \(strayChanges) of \(maskedChanges + strayChanges) changed pixels away from the mask")
        }
    }

    /// The mask marks exactly what the defect changed: drawing the same part with and
    /// without its defect differs on every mask pixel, and nowhere far from the mask.
    /// (Defects drawn over the finished surface only: the others change the part's geometry.)
    @Test(arguments: [(PartFamily.cast, "scratch"), (.cast, "blowhole"), (.weld, "pores"), (.weld, "crack"),
                      (.weld, "black_area"), (.weld, "spatter"), (.cast, "inclusions")])
    func maskMarksExactlyWhatTheDefectChanged(family: PartFamily, defect: String) {
        for seed in UInt64(1)...6 {
            let with = family.drawPart(defect: defect, seed: seed, size: 96)
            let without = family.drawPart(defect: "none", seed: seed, size: 96)
            let near = with.mask.dilated(radius: 3)
            let plane = with.image.planeSize
            for i in 0..<plane {
                var change: Float = 0
                for c in 0..<with.image.channels {
                    change = max(change, abs(with.image.pixels[c * plane + i] - without.image.pixels[c * plane + i]))
                }
                if with.mask.bits[i] {
                    #expect(change > 0.004, "\(defect) seed \(seed): mask pixel \(i) unchanged")
                } else if !near.bits[i] {
                    #expect(change == 0, "\(defect) seed \(seed): pixel \(i) changed far from the mask")
                }
            }
        }
    }
}
