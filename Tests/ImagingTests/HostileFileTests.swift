import FileAccess
import Imaging
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Mutated image files through the decoders: every one decodes or fails with a typed error
/// naming the file — never a crash. `make test` runs a short corpus; NEARCAIPI_TORTURE=1
/// (`make torture`) a long one.
@Suite struct HostileFileTests {
    static let fixtures = repositoryRoot() + "/Tests/ImagingTests/Fixtures"
    static var mutationsPerFile: Int { getenv("NEARCAIPI_TORTURE") != nil ? 1000 : 60 }

    /// Deterministic mutations of `bytes`: truncation, bit flips, overwritten runs, a
    /// corrupted header field, or garbage appended.
    static func mutate(_ bytes: [UInt8], _ random: inout UInt64) -> [UInt8] {
        func next(_ bound: Int) -> Int {
            random = random &* 6364136223846793005 &+ 1442695040888963407
            return Int((random >> 33) % UInt64(max(bound, 1)))
        }
        var out = bytes
        switch next(5) {
        case 0: out = Array(out.prefix(next(out.count)))
        case 1: for _ in 0...next(8) { let i = next(out.count); out[i] ^= UInt8(1 << next(8)) }
        case 2:
            let start = next(out.count), length = min(out.count - start, 1 + next(16))
            for i in start..<(start + length) { out[i] = UInt8(truncatingIfNeeded: next(256)) }
        case 3: for i in 8..<min(out.count, 40) where next(3) == 0 { out[i] = 0xFF }  // header fields: dimensions, depths
        default: out += (0..<(1 + next(64))).map { _ in UInt8(truncatingIfNeeded: next(256)) }
        }
        return out
    }

    @Test func mutatedImagesNeverCrash() throws {
        let names = try BinaryFile.entries(of: Self.fixtures).filter { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") }
        #expect(names.count >= 17)
        var random: UInt64 = 42
        var decoded = 0, refused = 0
        for name in names {
            let original = try BinaryFile.read("\(Self.fixtures)/\(name)")
            for round in 0..<Self.mutationsPerFile {
                let label = "\(name)#\(round)"
                do {
                    let image = try ImageFile.decode(Self.mutate(original, &random), name: label, maxPixels: 1 << 22).image
                    #expect(image.pixels.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
                    decoded += 1
                } catch {
                    #expect(error.path == label)
                    refused += 1
                }
            }
        }
        #expect(decoded + refused == names.count * Self.mutationsPerFile)
        #expect(refused > decoded / 4)  // the mutations really do damage
    }
}
