#ifndef ZOO_JPEG_H
#define ZOO_JPEG_H
#include <stddef.h>

// A decoded image: 8-bit samples, interleaved, rows top to bottom.
typedef struct {
  unsigned char *pixels;  // width * height * channels bytes; free with zoo_jpeg_free
  int width;
  int height;
  int channels;           // 1 (grey) or 3 (RGB); CMYK is converted to RGB
  int warnings;           // libjpeg warnings, e.g. "Premature end of JPEG file"
} zoo_jpeg_image;

// libjpeg's default error handler calls exit(). This decoder installs one that longjmps
// back and returns 1 with libjpeg's message in `message` instead (2: out of memory). An image
// of more than `max_pixels` pixels is refused before anything is allocated: it returns 3 with
// only `width` and `height` of `out` set.
int zoo_jpeg_decode(const unsigned char *data, size_t size, unsigned long long max_pixels,
                    zoo_jpeg_image *out, char *message, size_t message_size);

// Encodes 8-bit grey (channels 1) or RGB (channels 3) pixels; returns 0 on success.
int zoo_jpeg_encode(const unsigned char *pixels, int width, int height, int channels,
                    int quality, unsigned char **out, size_t *out_size,
                    char *message, size_t message_size);

void zoo_jpeg_free(void *pointer);
#endif
