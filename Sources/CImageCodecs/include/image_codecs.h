#ifndef NEARCAIPI_IMAGE_CODECS_H
#define NEARCAIPI_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

/// Status codes of the codec calls. Every failure also fills the caller's message buffer.
typedef enum nc_codec_status {
    NC_CODEC_OK = 0,
    /// The bytes are not a well-formed file of the format (truncated, bad CRC, bad marker...).
    NC_CODEC_CORRUPT = 1,
    /// The file is well formed but uses something the product does not read (e.g. 12-bit JPEG).
    NC_CODEC_UNSUPPORTED = 2,
    /// The declared dimensions exceed the caller's pixel limit, or are zero.
    NC_CODEC_TOO_LARGE = 3,
    /// malloc failed.
    NC_CODEC_NO_MEMORY = 4,
    /// The caller passed an impossible argument (encoder: channel count, bit depth).
    NC_CODEC_BAD_ARGUMENT = 5
} nc_codec_status;

/// Decoded samples, interleaved (y, x, channel). 8-bit samples are uint8; 16-bit samples
/// are uint16 in the machine's byte order. `pixels` is owned by the caller: nc_codec_free.
typedef struct nc_decoded_image {
    uint32_t width;
    uint32_t height;
    /// 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (palette and tRNS are expanded).
    uint32_t channels;
    /// Bits per stored sample: 8 or 16.
    uint32_t bit_depth;
    /// What the file declared, for reports: e.g. "palette 4-bit", "grey 16-bit", "CMYK".
    char source_kind[32];
    void *pixels;
} nc_decoded_image;

/// Decodes a PNG held in memory. Images with more than `max_pixels` pixels are refused
/// before any pixel memory is allocated.
nc_codec_status nc_png_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels,
                              nc_decoded_image *out, char *message, size_t message_capacity);

/// Decodes a baseline or progressive JPEG held in memory: grey and YCbCr to RGB, CMYK and
/// YCCK converted to RGB. Any libjpeg warning (such as a premature end of data, where libjpeg
/// would fill the rest with grey) is treated as corruption.
nc_codec_status nc_jpeg_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels,
                               nc_decoded_image *out, char *message, size_t message_capacity);

/// Encodes interleaved samples (8-bit: uint8, 16-bit: native-order uint16) to PNG in memory.
/// channels 1-4, bit_depth 8 or 16. `*out` is owned by the caller: nc_codec_free.
nc_codec_status nc_png_encode(const void *samples, uint32_t width, uint32_t height,
                              uint32_t channels, uint32_t bit_depth, int compression_level,
                              uint8_t **out, size_t *out_length,
                              char *message, size_t message_capacity);

void nc_codec_free(void *pointer);

#endif
