import FileAccess
import NeuralNet
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Mutated checkpoints: refused with a message naming the file, never a crash.
@Suite struct HostileCheckpointTests {
    @Test func mutatedCheckpointsAreRefusedNotFatal() throws {
        var template = Array("/tmp/nearcaipi-fuzz-XXXXXX".utf8CString)
        let directory = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
        defer { _ = system("rm -rf '\(directory)'") }
        let configuration = ResNetConfiguration(architecture: "tiny", widths: [2, 2, 2, 2], blocks: [1, 1, 1, 1],
                                                inputChannels: 1, inputSize: 16, classCount: 2)
        let info = CheckpointInfo(configuration: configuration, classNames: ["ok", "nok"], mean: [0], std: [1])
        try Checkpoint.save(ResNet(configuration, seed: 1), info: info, to: directory + "/good.safetensors")
        let good = try BinaryFile.read(directory + "/good.safetensors")
        var random: UInt64 = 7
        func next(_ bound: Int) -> Int {
            random = random &* 6364136223846793005 &+ 1442695040888963407
            return Int((random >> 33) % UInt64(max(bound, 1)))
        }
        let headerLength = Int(good[0]) | Int(good[1]) << 8
        let rounds = getenv("NEARCAIPI_TORTURE") != nil ? 3000 : 300
        var refused = 0
        for round in 0..<rounds {
            var bytes = good
            switch next(4) {
            case 0: bytes = Array(bytes.prefix(next(bytes.count)))
            case 1: for _ in 0...next(4) { let i = next(bytes.count); bytes[i] ^= UInt8(1 << next(8)) }
            case 2: for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: next(256)) }  // header length
            default:
                // Inside the JSON header: digits become other digits (shapes, offsets) or garbage.
                let i = 8 + next(headerLength)
                bytes[i] = (bytes[i] >= 0x30 && bytes[i] <= 0x39) ? UInt8(0x30 + next(10)) : UInt8(truncatingIfNeeded: next(256))
            }
            let path = directory + "/m\(round).safetensors"
            try BinaryFile.writeAtomically(bytes, to: path)
            do {
                _ = try Checkpoint.load(path)
            } catch {
                #expect(error.path == path && !error.message.isEmpty)
                refused += 1
            }
        }
        #expect(refused > rounds / 2)
    }

    @Test func overflowingShapeIsRefused() throws {
        // {"w": {"dtype": "F32", "shape": [2^32, 2^32], "data_offsets": [0, 16]}} + 16 bytes.
        let header = Array(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}"#.utf8)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes += $0 }
        bytes += header + [UInt8](repeating: 0, count: 16)
        #expect(throws: CheckpointError.self) { try SafeTensors.decode(bytes, path: "huge.safetensors") }
        do {
            _ = try SafeTensors.decode(bytes, path: "huge.safetensors")
        } catch {
            #expect(error.message.contains("is larger than the file"))
        }
    }
}
