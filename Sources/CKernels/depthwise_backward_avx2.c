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

WIDE void zoo_depthwise_backward_channel_avx2(const zoo_depthwise_geometry *g, int batch,
                                              int channels, int channel, const float *dy,
                                              const float *x, const float *kernel, float *dx,
                                              float *dw, float *scratch) {
  const int kh = g->kernel_height, kw = g->kernel_width, taps = kh * kw;
  const int out_width = g->out_width, area = g->out_height * out_width;
  const int stride = g->stride_width, dilation = g->dilation;
  const int padded_width = g->width + 2 * g->padding_width;
  const int padded_area = (g->height + 2 * g->padding_height) * padded_width;
  const int image_area = g->height * g->width;
  const int rows_of_three = kw == 3 && dilation == 1;
  float *padded = scratch, *gradient_plane = scratch + padded_area;
  float *sums = scratch + 2 * padded_area;
  const float *weights = kernel + (ptrdiff_t)channel * taps;
  if (dw) memset(sums, 0, sizeof(float) * taps * out_width);
  for (int s = 0; s < batch; s++) {
    const ptrdiff_t plane = (ptrdiff_t)s * channels + channel;
    const float *dys = dy + plane * area;
    if (dw) {
      memset(padded, 0, sizeof(float) * padded_area);
      for (int y = 0; y < g->height; y++) {
        memcpy(padded + (ptrdiff_t)(y + g->padding_height) * padded_width + g->padding_width,
               x + plane * image_area + (ptrdiff_t)y * g->width, sizeof(float) * g->width);
      }
    }
    if (dx) memset(gradient_plane, 0, sizeof(float) * padded_area);
    for (int oy = 0; oy < g->out_height; oy++) {
      const float *gradient = dys + (ptrdiff_t)oy * out_width;
      for (int ki = 0; ki < kh; ki++) {
        const ptrdiff_t offset = (ptrdiff_t)(oy * g->stride_height + ki * dilation) * padded_width;
        if (dw && rows_of_three) {
          float *sum = sums + ki * 3 * out_width;
          const float *from = padded + offset;
          if (stride == 1) {
            add_products3(sum, out_width, gradient, from);
          } else {
            for (int ox = 0; ox < out_width; ox++) {
              const float d = gradient[ox];
              const float *at = from + ox * stride;
              sum[ox] += d * at[0];
              sum[out_width + ox] += d * at[1];
              sum[2 * out_width + ox] += d * at[2];
            }
          }
        }
        for (int kj = 0; kj < kw; kj++) {
          const int tap = ki * kw + kj;
          const ptrdiff_t column = offset + kj * dilation;
          if (dw && !rows_of_three) {
            float *sum = sums + tap * out_width;
            const float *from = padded + column;
            if (stride == 1) {
              add_products(sum, gradient, from, out_width);
            } else {
              for (int ox = 0; ox < out_width; ox++) sum[ox] += gradient[ox] * from[ox * stride];
            }
          }
          if (dx) {
            float *to = gradient_plane + column;
            if (stride == 1) {
              add_scaled(to, weights[tap], gradient, out_width);
            } else {
              for (int ox = 0; ox < out_width; ox++) to[ox * stride] += weights[tap] * gradient[ox];
            }
          }
        }
      }
    }
    if (!dx) continue;
    float *dxs = dx + plane * image_area;
    for (int y = 0; y < g->height; y++) {
      add_scaled(dxs + (ptrdiff_t)y * g->width, 1.0f,
                 gradient_plane + (ptrdiff_t)(y + g->padding_height) * padded_width +
                     g->padding_width,
                 g->width);
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
