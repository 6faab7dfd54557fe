#include "zoo_kernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define WIDE __attribute__((target("avx2,fma")))

// to[i] += w * from[i] for i < count.
WIDE static inline void add_scaled(float *to, float w, const float *from, int count) {
  const __m256 weight = _mm256_set1_ps(w);
  int i = 0;
  for (; i + 8 <= count; i += 8) {
    _mm256_storeu_ps(to + i,
                     _mm256_fmadd_ps(weight, _mm256_loadu_ps(from + i), _mm256_loadu_ps(to + i)));
  }
  for (; i < count; i++) to[i] += w * from[i];
}

// sum[i] += d[i] * from[i] for i < count.
WIDE static inline void add_products(float *sum, const float *d, const float *from, int count) {
  int i = 0;
  for (; i + 8 <= count; i += 8) {
    _mm256_storeu_ps(sum + i, _mm256_fmadd_ps(_mm256_loadu_ps(d + i), _mm256_loadu_ps(from + i),
                                              _mm256_loadu_ps(sum + i)));
  }
  for (; i < count; i++) sum[i] += d[i] * from[i];
}

// The three sums of a 3-wide kernel row in one pass over dy's row (stride 1).
WIDE static inline void add_products3(float *sum, int out_width, const float *d, const float *from) {
  float *sum1 = sum + out_width, *sum2 = sum + 2 * out_width;
  int i = 0;
  for (; i + 8 <= out_width; i += 8) {
    const __m256 gradient = _mm256_loadu_ps(d + i);
    _mm256_storeu_ps(sum + i, _mm256_fmadd_ps(gradient, _mm256_loadu_ps(from + i),
                                              _mm256_loadu_ps(sum + i)));
    _mm256_storeu_ps(sum1 + i, _mm256_fmadd_ps(gradient, _mm256_loadu_ps(from + i + 1),
                                               _mm256_loadu_ps(sum1 + i)));
    _mm256_storeu_ps(sum2 + i, _mm256_fmadd_ps(gradient, _mm256_loadu_ps(from + i + 2),
                                               _mm256_loadu_ps(sum2 + i)));
  }
  for (; i < out_width; i++) {
    sum[i] += d[i] * from[i];
    sum1[i] += d[i] * from[i + 1];
    sum2[i] += d[i] * from[i + 2];
  }
}

// One padded row of an image, in `stride` column phases (Im2Col.fillPaddedRows's layout): padded
// column p at (p % stride) * phase_width + p / stride; the padding stays zero.
WIDE static inline void fill_phased_row(float *to, const float *from, int width, int padding,
                                        int stride, int phase_width) {
  memset(to, 0, sizeof(float) * stride * phase_width);
  if (stride == 1) {
    memcpy(to + padding, from, sizeof(float) * width);
  } else if (stride == 2) {
    zoo_split_phases2_avx2(from, width, to + padding % 2 * phase_width + padding / 2,
                           to + (padding + 1) % 2 * phase_width + (padding + 1) / 2);
  } else {
    for (int phase = 0; phase < stride; phase++) {
      for (int j = 0, x = phase - padding; j < phase_width; j++, x += stride) {
        if (x >= 0 && x < width) to[phase * phase_width + j] = from[x];
      }
    }
  }
}

// Rows of x and of the gradient of x are held padded and split into column phases, so a strided
// tap reads (and adds into) a contiguous run, as in the forward pass.
WIDE void zoo_depthwise_backward_channel_avx2(const zoo_depthwise_geometry *g, int batch,
                                              int channels, int channel, const float *dy,
                                              const float *x, const float *kernel, float *dx,
                                              float *dw, float *scratch) {
  const int kh = g->kernel_height, kw = g->kernel_width, taps = kh * kw;
  const int out_width = g->out_width, area = g->out_height * out_width;
  const int stride = g->stride_width, dilation = g->dilation;
  const int padded_height = g->height + 2 * g->padding_height;
  const int phase_width = (g->width + 2 * g->padding_width + stride - 1) / stride;
  const int row_width = stride * phase_width, padded_area = padded_height * row_width;
  const int image_area = g->height * g->width;
  const int rows_of_three = kw == 3 && dilation == 1;
  float *padded = scratch, *gradient_plane = scratch + padded_area;
  float *sums = scratch + 2 * padded_area;
  const float *weights = kernel + (ptrdiff_t)channel * taps;
  // Where tap column c starts in a phased row.
  ptrdiff_t columns[kw];
  for (int kj = 0; kj < kw; kj++) {
    const int c = kj * dilation;
    columns[kj] = (ptrdiff_t)(c % stride) * phase_width + c / stride;
  }
  if (dw) memset(sums, 0, sizeof(float) * taps * out_width);
  for (int s = 0; s < batch; s++) {
    const ptrdiff_t plane = (ptrdiff_t)s * channels + channel;
    const float *dys = dy + plane * area;
    if (dw) {
      memset(padded, 0, sizeof(float) * padded_area);
      for (int y = 0; y < g->height; y++) {
        fill_phased_row(padded + (ptrdiff_t)(y + g->padding_height) * row_width,
                        x + plane * image_area + (ptrdiff_t)y * g->width, g->width,
                        g->padding_width, stride, phase_width);
      }
    }
    if (dx) memset(gradient_plane, 0, sizeof(float) * padded_area);
    for (int oy = 0; oy < g->out_height; oy++) {
      const float *gradient = dys + (ptrdiff_t)oy * out_width;
      for (int ki = 0; ki < kh; ki++) {
        const ptrdiff_t offset = (ptrdiff_t)(oy * g->stride_height + ki * dilation) * row_width;
        if (dw && rows_of_three && stride == 1) {
          add_products3(sums + ki * 3 * out_width, out_width, gradient, padded + offset);
        }
        for (int kj = 0; kj < kw; kj++) {
          const int tap = ki * kw + kj;
          const ptrdiff_t column = offset + columns[kj];
          if (dw && !(rows_of_three && stride == 1)) {
            add_products(sums + tap * out_width, gradient, padded + column, out_width);
          }
          if (dx) add_scaled(gradient_plane + column, weights[tap], gradient, out_width);
        }
      }
    }
    if (!dx) continue;
    float *dxs = dx + plane * image_area;
    for (int y = 0; y < g->height; y++) {
      const float *from = gradient_plane + (ptrdiff_t)(y + g->padding_height) * row_width;
      float *to = dxs + (ptrdiff_t)y * g->width;
      if (stride == 1) {
        add_scaled(to, 1.0f, from + g->padding_width, g->width);
      } else {
        // Phase by phase: no division per element.
        for (int phase = 0; phase < stride; phase++) {
          const float *run = from + phase * phase_width;
          for (int j = 0, x = phase - g->padding_width; j < phase_width; j++, x += stride) {
            if (x >= 0 && x < g->width) to[x] += run[j];
          }
        }
      }
    }
  }
  if (!dw) return;
  for (int tap = 0; tap < taps; tap++) {
    double total = 0;
    for (int ox = 0; ox < out_width; ox++) total += sums[tap * out_width + ox];
    dw[(ptrdiff_t)channel * taps + tap] += (float)total;
  }
}
#else
void zoo_depthwise_backward_channel_avx2(const zoo_depthwise_geometry *g, int batch, int channels,
                                         int channel, const float *dy, const float *x,
                                         const float *kernel, float *dx, float *dw,
                                         float *scratch) {
  __builtin_trap();
}
#endif
