#!/usr/bin/env python3
"""Writes the tiny image fixtures of ImagingTests. Run from this folder.

PNG files are built byte by byte (standard library only) so that every variant — bit depths,
palette, transparency chunks, Adam7 interlacing, a broken CRC — has exactly known pixels.
JPEG files need Pillow (`pip install pillow`); the committed outputs are what the tests read,
so neither this script nor Pillow is needed to run the tests.
"""
import struct
import zlib

W, H = 4, 3


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, bit_depth):
    if bit_depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if bit_depth == 8:
        return bytes(samples)
    per_byte = 8 // bit_depth
    out = bytearray()
    for i in range(0, len(samples), per_byte):
        byte = 0
        group = samples[i:i + per_byte]
        for j, s in enumerate(group):
            byte |= s << (8 - bit_depth * (j + 1))
        out.append(byte)
    return bytes(out)


def png(path, width, height, color_type, bit_depth, rows, extra=b"", interlace=False, break_crc=False):
    """rows: list of rows, each a flat list of samples (channels interleaved)."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    raw = bytearray()
    if not interlace:
        for row in rows:
            raw += b"\x00" + pack_row(row, bit_depth)
    else:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        for x0, y0, dx, dy in passes:
            xs = list(range(x0, width, dx))
            if not xs:
                continue
            for y in range(y0, height, dy):
                samples = []
                for x in xs:
                    samples += rows[y][x * channels:(x + 1) * channels]
                raw += b"\x00" + pack_row(samples, bit_depth)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    idat = chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    if break_crc:
        idat = idat[:-1] + bytes([idat[-1] ^ 0xFF])
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + idat + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def grid(fn):
    return [[v for x in range(W) for v in fn(x, y)] for y in range(H)]


png("grey8.png", W, H, 0, 8, grid(lambda x, y: [(y * W + x) * 20]))
png("grey16.png", W, H, 0, 16, grid(lambda x, y: [(y * W + x) * 4000 + 123]))
png("grey4.png", W, H, 0, 4, grid(lambda x, y: [(y * W + x) % 16]))
png("grey1.png", W, H, 0, 1, grid(lambda x, y: [(x + y) % 2]))
png("grey_alpha8.png", W, H, 4, 8, grid(lambda x, y: [(y * W + x) * 20, 255 - x * 60]))
png("rgb8.png", W, H, 2, 8, grid(lambda x, y: [x * 60, y * 100, 7]))
png("rgb16.png", W, H, 2, 16, grid(lambda x, y: [x * 16000, y * 30000, 65535]))
png("rgba8.png", W, H, 6, 8, grid(lambda x, y: [x * 60, y * 100, 7, 128]))
palette = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
png("palette8.png", W, H, 3, 8, grid(lambda x, y: [(x + y) % 4]),
    extra=chunk(b"PLTE", palette) + chunk(b"tRNS", bytes([0])))
png("palette4.png", W, H, 3, 4, grid(lambda x, y: [(x + y) % 4]), extra=chunk(b"PLTE", palette))
png("grey_trns8.png", W, H, 0, 8, grid(lambda x, y: [(y * W + x) * 20]), extra=chunk(b"tRNS", struct.pack(">H", 40)))
png("interlaced_rgb8.png", 9, 9, 2, 8, [[v for x in range(9) for v in (x * 20, y * 20, (x * y) % 256)] for y in range(9)],
    interlace=True)
png("bad_crc.png", W, H, 2, 8, grid(lambda x, y: [x * 60, y * 100, 7]), break_crc=True)

try:
    from PIL import Image
except ImportError:
    raise SystemExit("JPEG fixtures need Pillow; PNG fixtures written")

Image.new("L", (16, 16), 128).save("grey.jpg", quality=95)
Image.new("RGB", (16, 16), (200, 50, 50)).save("rgb.jpg", quality=95)
Image.new("RGB", (32, 16), (40, 120, 220)).save("progressive.jpg", quality=95, progressive=True)
Image.new("CMYK", (16, 16), (0, 191, 191, 55)).save("cmyk.jpg", quality=95)
