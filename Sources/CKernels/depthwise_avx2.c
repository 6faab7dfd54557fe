#include "zoo_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define WIDE __attribute__((target("avx2,fma")))

// Lanes below `count` set (count <= 8), for the partial group at a row's end.
WIDE static inline __m256i first_lanes(int count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Taps summed into four groups of eight outputs at once: four independent chains of fused
// multiply-adds hide their latency, and each broadcast weight serves 32 outputs.
WIDE void zoo_depthwise_plane_avx2(const float *padded, ptrdiff_t row_width, const float *kernel,
                                   int kernel_height, int kernel_width, const ptrdiff_t *columns,
                                   int stride_height, int dilation, float bias, float *out,
                                   int out_height, int out_width) {
  const __m256 start = _mm256_set1_ps(bias);
  for (int oy = 0; oy < out_height; oy++) {
    const float *top = padded + (ptrdiff_t)oy * stride_height * row_width;
    float *target = out + (ptrdiff_t)oy * out_width;
    int ox = 0;
    for (; ox + 32 <= out_width; ox += 32) {
      __m256 s0 = start, s1 = start, s2 = start, s3 = start;
      for (int ki = 0; ki < kernel_height; ki++) {
        const float *row = top + (ptrdiff_t)ki * dilation * row_width + ox;
        const float *weights = kernel + ki * kernel_width;
        for (int kj = 0; kj < kernel_width; kj++) {
          const __m256 w = _mm256_broadcast_ss(weights + kj);
          const float *from = row + columns[kj];
          s0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(from), s0);
          s1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(from + 8), s1);
          s2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(from + 16), s2);
          s3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(from + 24), s3);
        }
      }
      _mm256_storeu_ps(target + ox, s0);
      _mm256_storeu_ps(target + ox + 8, s1);
      _mm256_storeu_ps(target + ox + 16, s2);
      _mm256_storeu_ps(target + ox + 24, s3);
    }
    for (; ox < out_width; ox += 8) {
      __m256 s = start;
      for (int ki = 0; ki < kernel_height; ki++) {
        const float *row = top + (ptrdiff_t)ki * dilation * row_width + ox;
        const float *weights = kernel + ki * kernel_width;
        for (int kj = 0; kj < kernel_width; kj++) {
          s = _mm256_fmadd_ps(_mm256_broadcast_ss(weights + kj), _mm256_loadu_ps(row + columns[kj]),
                              s);
        }
      }
      if (ox + 8 <= out_width) {
        _mm256_storeu_ps(target + ox, s);
      } else {
        _mm256_maskstore_ps(target + ox, first_lanes(out_width - ox), s);
      }
    }
  }
}

WIDE void zoo_split_phases2_avx2(const float *from, size_t count, float *even, float *odd) {
  size_t m = 0;
  for (; 2 * m + 16 <= count; m += 8) {
    const __m256 a = _mm256_loadu_ps(from + 2 * m);
    const __m256 b = _mm256_loadu_ps(from + 2 * m + 8);
    // Within each 128-bit half: a0 a2 b0 b2 | a4 a6 b4 b6; then the middle quarters swap.
    const __m256 evens = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 odds = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    _mm256_storeu_ps(even + m, _mm256_castpd_ps(_mm256_permute4x64_pd(
                                   _mm256_castps_pd(evens), _MM_SHUFFLE(3, 1, 2, 0))));
    _mm256_storeu_ps(odd + m, _mm256_castpd_ps(_mm256_permute4x64_pd(
                                  _mm256_castps_pd(odds), _MM_SHUFFLE(3, 1, 2, 0))));
  }
  for (; 2 * m < count; m++) {
    even[m] = from[2 * m];
    if (2 * m + 1 < count) odd[m] = from[2 * m + 1];
  }
}
#else
void zoo_depthwise_plane_avx2(const float *padded, ptrdiff_t row_width, const float *kernel,
                              int kernel_height, int kernel_width, const ptrdiff_t *columns,
                              int stride_height, int dilation, float bias, float *out,
                              int out_height, int out_width) {
  __builtin_trap();
}
void zoo_split_phases2_avx2(const float *from, size_t count, float *even, float *odd) {
  __builtin_trap();
}
#endif
