#ifndef NEARCAIPI_IMAGE_CODECS_INTERNAL_H
#define NEARCAIPI_IMAGE_CODECS_INTERNAL_H
#include <stddef.h>
void nc_set_message(char *message, size_t capacity, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
#endif
