// JPEG through libjpeg(-turbo). libjpeg's default error handler calls exit(); ours longjmps
// back to the decode function instead. libjpeg "repairs" some damage with only a warning —
// a truncated file is padded with grey — and an inspection tool must not judge a part from
// invented pixels, so every warning is turned into a corruption error.
#include "image_codecs.h"
#include "internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char text[JMSG_LENGTH_MAX];
    int warnings;
    char first_warning[JMSG_LENGTH_MAX];
} jpeg_failure;

static void on_jpeg_error_exit(j_common_ptr info) {
    jpeg_failure *failure = (jpeg_failure *)info->err;
    (*info->err->format_message)(info, failure->text);
    longjmp(failure->jump, 1);
}

static void on_jpeg_message(j_common_ptr info, int level) {
    jpeg_failure *failure = (jpeg_failure *)info->err;
    if (level < 0) {  // a warning; level >= 0 are trace messages
        if (failure->warnings == 0) (*info->err->format_message)(info, failure->first_warning);
        failure->warnings++;
    }
}

static void on_jpeg_output(j_common_ptr info) { (void)info; }

static const char *color_space_name(J_COLOR_SPACE space) {
    switch (space) {
    case JCS_GRAYSCALE: return "grey";
    case JCS_YCbCr: return "YCbCr";
    case JCS_RGB: return "RGB";
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    default: return "unknown colour space";
    }
}

nc_codec_status nc_jpeg_decode(const uint8_t *bytes, size_t length, uint64_t max_pixels,
                               nc_decoded_image *out, char *message, size_t message_capacity) {
    memset(out, 0, sizeof *out);
    if (length < 3 || bytes[0] != 0xFF || bytes[1] != 0xD8 || bytes[2] != 0xFF) {
        nc_set_message(message, message_capacity, "not a JPEG file (bad start-of-image marker)");
        return NC_CODEC_CORRUPT;
    }
    struct jpeg_decompress_struct info;
    jpeg_failure failure;
    memset(&failure, 0, sizeof failure);
    info.err = jpeg_std_error(&failure.base);
    failure.base.error_exit = on_jpeg_error_exit;
    failure.base.emit_message = on_jpeg_message;
    failure.base.output_message = on_jpeg_output;

    uint8_t *volatile pixels = NULL;
    uint8_t *volatile cmyk_row = NULL;
    volatile nc_codec_status status = NC_CODEC_CORRUPT;
    if (setjmp(failure.jump)) {
        free(pixels);
        free(cmyk_row);
        jpeg_destroy_decompress(&info);
        if (status == NC_CODEC_CORRUPT) nc_set_message(message, message_capacity, "%s", failure.text);
        return status;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, bytes, (unsigned long)length);
    jpeg_read_header(&info, TRUE);

    const uint64_t pixel_count = (uint64_t)info.image_width * info.image_height;
    if (pixel_count == 0 || pixel_count > max_pixels) {
        nc_set_message(message, message_capacity,
                       "declared size %ux%u exceeds the limit of %llu pixels",
                       info.image_width, info.image_height, (unsigned long long)max_pixels);
        status = NC_CODEC_TOO_LARGE;
        longjmp(failure.jump, 1);
    }
    const J_COLOR_SPACE source = info.jpeg_color_space;
    int is_cmyk = 0;
    switch (source) {
    case JCS_GRAYSCALE: info.out_color_space = JCS_GRAYSCALE; break;
    case JCS_YCbCr:
    case JCS_RGB: info.out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK: info.out_color_space = JCS_CMYK; is_cmyk = 1; break;
    default:
        nc_set_message(message, message_capacity, "unsupported JPEG colour space (%d)", (int)source);
        status = NC_CODEC_UNSUPPORTED;
        longjmp(failure.jump, 1);
    }
    snprintf(out->source_kind, sizeof out->source_kind, "%s%s", color_space_name(source),
             info.progressive_mode ? " progressive" : "");
    jpeg_start_decompress(&info);

    const uint32_t width = info.output_width, height = info.output_height;
    const uint32_t channels = is_cmyk ? 3 : (uint32_t)info.output_components;
    pixels = malloc((size_t)width * height * channels);
    if (is_cmyk) cmyk_row = malloc((size_t)width * 4);
    if (pixels == NULL || (is_cmyk && cmyk_row == NULL)) {
        nc_set_message(message, message_capacity, "out of memory for %ux%u pixels", width, height);
        status = NC_CODEC_NO_MEMORY;
        longjmp(failure.jump, 1);
    }
    // Adobe's CMYK JPEGs store inverted values (255 = no ink); others store plain ink.
    const int inverted = info.saw_Adobe_marker;
    while (info.output_scanline < height) {
        const uint32_t y = info.output_scanline;
        uint8_t *row = pixels + (size_t)y * width * channels;
        if (!is_cmyk) {
            JSAMPROW target = row;
            jpeg_read_scanlines(&info, &target, 1);
            continue;
        }
        JSAMPROW target = cmyk_row;
        jpeg_read_scanlines(&info, &target, 1);
        for (uint32_t x = 0; x < width; x++) {
            unsigned c = cmyk_row[4 * x], m = cmyk_row[4 * x + 1];
            unsigned yy = cmyk_row[4 * x + 2], k = cmyk_row[4 * x + 3];
            if (!inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
            // With inverted samples, R = (1 - C)(1 - K) becomes c·k / 255.
            row[3 * x] = (uint8_t)((c * k + 127) / 255);
            row[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
            row[3 * x + 2] = (uint8_t)((yy * k + 127) / 255);
        }
    }
    jpeg_finish_decompress(&info);
    if (failure.warnings > 0) {
        memcpy(failure.text, failure.first_warning, sizeof failure.text);
        status = NC_CODEC_CORRUPT;
        longjmp(failure.jump, 1);
    }
    free(cmyk_row);
    jpeg_destroy_decompress(&info);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = 8;
    out->pixels = pixels;
    return NC_CODEC_OK;
}
