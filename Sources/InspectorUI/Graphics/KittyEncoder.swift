import Foundation
import Imaging

/// Pictures in the kitty graphics protocol (kitty, Ghostty, WezTerm, Konsole): 24-bit RGB
/// pixels, base64 in APC escape sequences, no palette — a photo's colours arrive as they are,
/// where sixel quantises them to the terminal's registers.
///
/// A picture is one command `ESC _ G keys ; payload ESC \`, its payload split into chunks of
/// at most 4 096 base64 characters, each but the last marked `m=1`. Keys used:
/// - `a=T` transmit and show at the cursor, `f=24` RGB, `s` / `v` width / height in pixels;
/// - `i` the image's id: each place on screen has its own, so the picture sent there next
///   replaces this one (`a=d,d=I` deletes it first, data and placement);
/// - `C=1` the cursor stays (curses owns it), `q=2` no reply (a reply would arrive as keys).
enum KittyEncoder {
    /// Base64 characters per chunk: the protocol's limit.
    static let chunkSize = 4096

    /// The commands that show `image` (grey or colour, values 0–1), each pixel drawn as a
    /// `scale` × `scale` block, with id `id`, at the cursor.
    static func encode(_ image: Image, scale: Int = 1, id: UInt32) -> [UInt8] {
        let scale = max(1, scale)
        let width = image.width * scale, height = image.height * scale
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let picture = image.channels == 3 ? image : image.rgb()
        picture.pixels.withUnsafeBufferPointer { pixels in
            rgb.withUnsafeMutableBufferPointer { out in
                let plane = picture.planeSize
                for y in 0..<image.height {
                    // One row at its own width, then repeated for the block's other rows.
                    let rowStart = y * scale * width * 3
                    var target = rowStart
                    for x in 0..<image.width {
                        let source = y * image.width + x
                        let r = byte(pixels[source]), g = byte(pixels[plane + source]), b = byte(pixels[2 * plane + source])
                        for _ in 0..<scale {
                            out[target] = r; out[target + 1] = g; out[target + 2] = b
                            target += 3
                        }
                    }
                    for dy in 1..<scale {
                        let copy = rowStart + dy * width * 3
                        for i in 0..<(width * 3) { out[copy + i] = out[rowStart + i] }
                    }
                }
            }
        }
        let payload = base64(rgb)
        var bytes = deletion(id: id)
        var offset = 0
        var first = true
        repeat {
            let end = min(payload.count, offset + chunkSize)
            let more = end < payload.count ? 1 : 0
            let keys = first ? "a=T,f=24,s=\(width),v=\(height),i=\(id),C=1,q=2,m=\(more)" : "m=\(more)"
            bytes += Array("\u{1B}_G\(keys);".utf8)
            bytes += payload[offset..<end]
            bytes += Array("\u{1B}\\".utf8)
            offset = end
            first = false
        } while offset < payload.count
        return bytes
    }

    /// Deletes the picture with id `id`, its pixels and its placement (nothing if none).
    static func deletion(id: UInt32) -> [UInt8] { Array("\u{1B}_Ga=d,d=I,i=\(id),q=2\u{1B}\\".utf8) }

    /// Deletes every picture on screen, pixels too: before a full repaint.
    static let deleteAll = Array("\u{1B}_Ga=d,d=A,q=2\u{1B}\\".utf8)

    /// The id of the picture at a place on screen: the same place, the same id (never 0,
    /// which the protocol reserves).
    static func id(row: Int, column: Int) -> UInt32 { UInt32(1 + row * 1000 + column) }

    /// The question whether the terminal speaks the protocol: a 1×1 picture it is asked only
    /// to check (`a=q`); a terminal that does answers `ESC _ G i=31 ; OK ESC \`, others ignore it.
    static let question = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\"

    private static func byte(_ value: Float) -> UInt8 { UInt8(max(0, min(255, (value * 255).rounded()))) }

    /// Standard base64 with padding (Foundation's).
    static func base64(_ data: [UInt8]) -> [UInt8] { [UInt8](Data(data).base64EncodedData()) }
}
