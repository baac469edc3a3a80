// PNG through libpng. libpng reports fatal errors by calling the error function, which must
// not return: it longjmps back to the setjmp in the public function that started the work,
// so Swift never sees a jump. Warnings (e.g. a bad CRC in an ancillary chunk, which libpng
// discards) are ignored: they do not change the pixels.
#include "image_codecs.h"
#include "internal.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char text[200];
} png_failure;

typedef struct {
    const uint8_t *bytes;
    size_t length;
    size_t offset;
} memory_reader;

typedef struct {
    uint8_t *bytes;
    size_t length;
    size_t capacity;
    int failed;
} memory_writer;

static void on_png_error(png_structp png, png_const_charp text) {
    png_failure *failure = (png_failure *)png_get_error_ptr(png);
    if (failure != NULL) {
        strncpy(failure->text, text ? text : "unknown libpng error", sizeof failure->text - 1);
        failure->text[sizeof failure->text - 1] = 0;
    }
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void read_from_memory(png_structp png, png_bytep destination, png_size_t count) {
    memory_reader *reader = (memory_reader *)png_get_io_ptr(png);
    if (reader->length - reader->offset < count) {
        png_error(png, "the file ends before the image data is complete (truncated)");
    }
    memcpy(destination, reader->bytes + reader->offset, count);
    reader->offset += count;
}

static void write_to_memory(png_structp png, png_bytep source, png_size_t count) {
    memory_writer *writer = (memory_writer *)png_get_io_ptr(png);
    if (writer->length + count > writer->capacity) {
        size_t capacity = writer->capacity ? writer->capacity : 4096;
        while (capacity < writer->length + count) capacity *= 2;
        uint8_t *grown = realloc(writer->bytes, capacity);
        if (grown == NULL) {
            writer->failed = 1;
            png_error(png, "out of memory while encoding");
        }
        writer->bytes = grown;
        writer->capacity = capacity;
    }
    memcpy(writer->bytes + writer->length, source, count);
    writer->length += count;
}

static void flush_memory(png_structp png) { (void)png; }

static const char *color_type_name(int color_type) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return "grey";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "grey+alpha";
    case PNG_COLOR_TYPE_RGB: return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
    case PNG_COLOR_TYPE_PALETTE: return "palette";
    default: return "unknown";
    }
}

static int machine_is_little_endian(void) {
    const uint16_t probe = 1;
    return *(const uint8_t *)&probe == 1;
}

nc_codec_status nc_png_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels,
                              nc_decoded_image *out, char *message, size_t message_capacity) {
    memset(out, 0, sizeof *out);
    if (length < 8 || png_sig_cmp(bytes, 0, 8) != 0) {
        nc_set_message(message, message_capacity, "not a PNG file (bad signature)");
        return NC_CODEC_CORRUPT;
    }
    png_failure failure = {{0}};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, on_png_error,
                                             on_png_warning);
    if (png == NULL) {
        nc_set_message(message, message_capacity, "libpng could not start (out of memory)");
        return NC_CODEC_NO_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        nc_set_message(message, message_capacity, "libpng could not start (out of memory)");
        return NC_CODEC_NO_MEMORY;
    }
    // Written between setjmp and a possible longjmp, so they must be volatile.
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    volatile nc_codec_status status = NC_CODEC_CORRUPT;

    if (setjmp(png_jmpbuf(png))) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        if (status == NC_CODEC_CORRUPT) {
            nc_set_message(message, message_capacity, "%s", failure.text);
        }
        return status;
    }

    memory_reader reader = {bytes, length, 0};
    png_set_read_fn(png, &reader, read_from_memory);
    // libpng's own limits (1,000,000 per side by default) stay as a second guard.
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    if (width == 0 || height == 0 || (uint64_t)width * (uint64_t)height > max_pixels) {
        nc_set_message(message, message_capacity,
                       "declared size %ux%u exceeds the limit of %llu pixels",
                       (unsigned)width, (unsigned)height, (unsigned long long)max_pixels);
        status = NC_CODEC_TOO_LARGE;
        png_longjmp(png, 1);
    }
    snprintf(out->source_kind, sizeof out->source_kind, "%s %d-bit%s",
             color_type_name(color_type), bit_depth,
             interlace == PNG_INTERLACE_ADAM7 ? " interlaced" : "");

    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16 && machine_is_little_endian()) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    const uint32_t channels = png_get_channels(png, info);
    const uint32_t out_depth = png_get_bit_depth(png, info);
    const size_t row_bytes = png_get_rowbytes(png, info);
    if (channels < 1 || channels > 4 || (out_depth != 8 && out_depth != 16) ||
        row_bytes != (size_t)width * channels * (out_depth / 8)) {
        nc_set_message(message, message_capacity, "unsupported PNG layout (%u channels, %u-bit)",
                       channels, out_depth);
        status = NC_CODEC_UNSUPPORTED;
        png_longjmp(png, 1);
    }
    pixels = malloc(row_bytes * height);
    rows = malloc(sizeof(png_bytep) * height);
    if (pixels == NULL || rows == NULL) {
        nc_set_message(message, message_capacity, "out of memory for %ux%u pixels",
                       (unsigned)width, (unsigned)height);
        status = NC_CODEC_NO_MEMORY;
        png_longjmp(png, 1);
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(png, rows);
    // Reads the chunks after the image data too, so a file cut after IDAT is caught.
    png_read_end(png, NULL);

    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = out_depth;
    out->pixels = pixels;
    return NC_CODEC_OK;
}

nc_codec_status nc_png_encode(const void *samples, uint32_t width, uint32_t height,
                              uint32_t channels, uint32_t bit_depth, int compression_level,
                              uint8_t **out, size_t *out_length,
                              char *message, size_t message_capacity) {
    *out = NULL;
    *out_length = 0;
    if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16) || width == 0 ||
        height == 0) {
        nc_set_message(message, message_capacity,
                       "cannot encode %ux%u with %u channels at %u bits", width, height,
                       channels, bit_depth);
        return NC_CODEC_BAD_ARGUMENT;
    }
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                       PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_failure failure = {{0}};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &failure, on_png_error,
                                              on_png_warning);
    if (png == NULL) return NC_CODEC_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        return NC_CODEC_NO_MEMORY;
    }
    memory_writer writer = {NULL, 0, 0, 0};
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(writer.bytes);
        png_destroy_write_struct(&png, &info);
        nc_set_message(message, message_capacity, "%s", failure.text);
        return writer.failed ? NC_CODEC_NO_MEMORY : NC_CODEC_CORRUPT;
    }
    png_set_write_fn(png, &writer, write_to_memory, flush_memory);
    png_set_compression_level(png, compression_level);
    png_set_IHDR(png, info, width, height, (int)bit_depth, color_types[channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16 && machine_is_little_endian()) png_set_swap(png);
    const size_t row_bytes = (size_t)width * channels * (bit_depth / 8);
    rows = malloc(sizeof(png_bytep) * height);
    if (rows == NULL) {
        writer.failed = 1;
        png_error(png, "out of memory for row pointers");
    }
    for (uint32_t y = 0; y < height; y++) {
        rows[y] = (png_bytep)((const uint8_t *)samples + (size_t)y * row_bytes);
    }
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    *out = writer.bytes;
    *out_length = writer.length;
    return NC_CODEC_OK;
}
