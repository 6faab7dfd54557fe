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
WIDE static inline void add_products3(float *sum, int out_width, const float *d,
                                      const float *from) {
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

// The plane's gradient rows are held padded and split into column phases, as its input is, so a
// strided tap adds into a contiguous run.
WIDE void zoo_depthwise_backward_plane_avx2(const zoo_depthwise_geometry *g,
                                            const ptrdiff_t *columns, const float *dy,
                                            const float *padded, const float *kernel, float *sums,
                                            float *gradient, float *dx) {
  const int kh = g->kernel_height, kw = g->kernel_width;
  const int out_width = g->out_width, stride = g->stride_width, dilation = g->dilation;
  const int phase_width = g->phase_width, row_width = stride * phase_width;
  const int rows_of_three = kw == 3 && dilation == 1 && stride == 1;
  if (gradient) {
    memset(gradient, 0, sizeof(float) * (g->height + 2 * g->padding_height) * row_width);
  }
  for (int oy = 0; oy < g->out_height; oy++) {
    const float *d = dy + (ptrdiff_t)oy * out_width;
    for (int ki = 0; ki < kh; ki++) {
      const ptrdiff_t offset = (ptrdiff_t)(oy * g->stride_height + ki * dilation) * row_width;
      if (sums && rows_of_three) {
        add_products3(sums + ki * 3 * out_width, out_width, d, padded + offset);
      }
      for (int kj = 0; kj < kw; kj++) {
        const int tap = ki * kw + kj;
        const ptrdiff_t column = offset + columns[kj];
        if (sums && !rows_of_three) {
          add_products(sums + tap * out_width, d, padded + column, out_width);
        }
        if (gradient) add_scaled(gradient + column, kernel[tap], d, out_width);
      }
    }
  }
  if (!gradient) return;
  for (int y = 0; y < g->height; y++) {
    const float *from = gradient + (ptrdiff_t)(y + g->padding_height) * row_width;
    float *to = dx + (ptrdiff_t)y * g->width;
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
#else
void zoo_depthwise_backward_plane_avx2(const zoo_depthwise_geometry *g, const ptrdiff_t *columns,
                                       const float *dy, const float *padded, const float *kernel,
                                       float *sums, float *gradient, float *dx) {
  __builtin_trap();
}
#endif
