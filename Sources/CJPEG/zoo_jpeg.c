#include "zoo_jpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

// An error manager that records the message and jumps back instead of exiting.
typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf escape;
  int warnings;
} zoo_error_mgr;

static void zoo_error_exit(j_common_ptr info) {
  zoo_error_mgr *mgr = (zoo_error_mgr *)info->err;
  longjmp(mgr->escape, 1);
}

static void zoo_emit_message(j_common_ptr info, int level) {
  zoo_error_mgr *mgr = (zoo_error_mgr *)info->err;
  if (level < 0) mgr->warnings += 1;  // level -1 is a warning, e.g. a truncated scan
}

static void zoo_output_message(j_common_ptr info) { (void)info; }

static struct jpeg_error_mgr *zoo_install_error_manager(zoo_error_mgr *mgr) {
  struct jpeg_error_mgr *err = jpeg_std_error(&mgr->base);
  mgr->base.error_exit = zoo_error_exit;
  mgr->base.emit_message = zoo_emit_message;
  mgr->base.output_message = zoo_output_message;
  mgr->warnings = 0;
  return err;
}

static void copy_message(j_common_ptr info, char *message, size_t size) {
  if (message == NULL || size == 0) return;
  char buffer[JMSG_LENGTH_MAX];
  info->err->format_message(info, buffer);
  strncpy(message, buffer, size - 1);
  message[size - 1] = '\0';
}

int zoo_jpeg_decode(const unsigned char *data, size_t size, unsigned long long max_pixels,
                    zoo_jpeg_image *out, char *message, size_t message_size) {
  struct jpeg_decompress_struct info;
  zoo_error_mgr mgr;
  unsigned char *volatile pixels = NULL;
  unsigned char *volatile row = NULL;
  memset(out, 0, sizeof(*out));
  info.err = zoo_install_error_manager(&mgr);
  if (setjmp(mgr.escape)) {
    copy_message((j_common_ptr)&info, message, message_size);
    jpeg_destroy_decompress(&info);
    free(row);
    free(pixels);
    return 1;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, (unsigned long)size);
  jpeg_read_header(&info, TRUE);
  if ((unsigned long long)info.image_width * info.image_height > max_pixels) {
    out->width = (int)info.image_width;
    out->height = (int)info.image_height;
    jpeg_destroy_decompress(&info);
    return 3;
  }
  int cmyk = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
  if (cmyk) {
    info.out_color_space = JCS_CMYK;
  } else if (info.num_components == 1) {
    info.out_color_space = JCS_GRAYSCALE;
  } else {
    info.out_color_space = JCS_RGB;
  }
  jpeg_start_decompress(&info);
  int width = (int)info.output_width, height = (int)info.output_height;
  int decoded = info.output_components;
  int channels = cmyk ? 3 : decoded;
  pixels = malloc((size_t)width * height * channels);
  row = malloc((size_t)width * decoded);
  if (pixels == NULL || row == NULL) {
    free(row);
    free(pixels);
    jpeg_destroy_decompress(&info);
    if (message && message_size) snprintf(message, message_size, "out of memory");
    return 2;
  }
  // Adobe writes CMYK JPEGs inverted; the saw_Adobe_marker flag tells us when.
  int inverted = info.saw_Adobe_marker;
  while (info.output_scanline < info.output_height) {
    unsigned char *target = pixels + (size_t)info.output_scanline * width * channels;
    JSAMPROW rows[1] = {cmyk ? row : target};
    jpeg_read_scanlines(&info, rows, 1);
    if (cmyk) {
      for (int x = 0; x < width; x++) {
        int c = row[4 * x], m = row[4 * x + 1], y = row[4 * x + 2], k = row[4 * x + 3];
        if (inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
        target[3 * x] = (unsigned char)((255 - c) * (255 - k) / 255);
        target[3 * x + 1] = (unsigned char)((255 - m) * (255 - k) / 255);
        target[3 * x + 2] = (unsigned char)((255 - y) * (255 - k) / 255);
      }
    }
  }
  free(row);
  row = NULL;
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  out->pixels = pixels;
  out->width = width;
  out->height = height;
  out->channels = channels;
  out->warnings = mgr.warnings;
  return 0;
}

int zoo_jpeg_encode(const unsigned char *pixels, int width, int height, int channels,
                    int quality, unsigned char **out, size_t *out_size,
                    char *message, size_t message_size) {
  struct jpeg_compress_struct info;
  zoo_error_mgr mgr;
  unsigned char *buffer = NULL;
  unsigned long buffer_size = 0;
  *out = NULL;
  *out_size = 0;
  info.err = zoo_install_error_manager(&mgr);
  if (setjmp(mgr.escape)) {
    copy_message((j_common_ptr)&info, message, message_size);
    jpeg_destroy_compress(&info);
    // The buffer is allocated by libjpeg after setjmp: read it back through a volatile lvalue.
    free(*(unsigned char *volatile *)&buffer);
    return 1;
  }
  jpeg_create_compress(&info);
  jpeg_mem_dest(&info, &buffer, &buffer_size);
  info.image_width = (JDIMENSION)width;
  info.image_height = (JDIMENSION)height;
  info.input_components = channels;
  info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW rows[1] = {(JSAMPROW)(pixels + (size_t)info.next_scanline * width * channels)};
    jpeg_write_scanlines(&info, rows, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  *out = buffer;
  *out_size = buffer_size;
  return 0;
}

void zoo_jpeg_free(void *pointer) { free(pointer); }
