#include "zoo_kernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define WIDE __attribute__((target("avx2,fma")))

// VectorExp.silu in eight AVX2 lanes, the same steps (Cephes' expf with one power of two) with
// each multiply-add fused.
WIDE static inline __m256 silu8(__m256 x) {
  // max/min return their second operand when either is NaN, so a NaN lane stays NaN.
  const __m256 low = _mm256_max_ps(_mm256_set1_ps(-88.0f), x);
  const __m256 t = _mm256_sub_ps(_mm256_setzero_ps(), _mm256_min_ps(_mm256_set1_ps(87.0f), low));
  // e^t = 2^n e^r, n = round(t / ln 2) by the 1.5 * 2^23 trick, r = t - n ln 2 in two parts.
  const __m256 magic = _mm256_set1_ps(12582912.0f);
  const __m256 shifted = _mm256_fmadd_ps(t, _mm256_set1_ps(1.44269504f), magic);
  const __m256 n = _mm256_sub_ps(shifted, magic);
  const __m256i n_bits =
      _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_castps_si256(magic));
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), t);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 er =
      _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256 power = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(n_bits, _mm256_set1_epi32(127)), 23));
  return _mm256_div_ps(low, _mm256_fmadd_ps(er, power, _mm256_set1_ps(1.0f)));
}

WIDE void zoo_silu_avx2(const float *x, float *y, size_t count) {
  size_t i = 0;
  // Two groups per step: the division's latency overlaps.
  for (; i + 16 <= count; i += 16) {
    const __m256 a = silu8(_mm256_loadu_ps(x + i));
    const __m256 b = silu8(_mm256_loadu_ps(x + i + 8));
    _mm256_storeu_ps(y + i, a);
    _mm256_storeu_ps(y + i + 8, b);
  }
  for (; i + 8 <= count; i += 8) _mm256_storeu_ps(y + i, silu8(_mm256_loadu_ps(x + i)));
  if (i < count) {
    float lanes[8] = {0};
    memcpy(lanes, x + i, (count - i) * sizeof(float));
    _mm256_storeu_ps(lanes, silu8(_mm256_loadu_ps(lanes)));
    memcpy(y + i, lanes, (count - i) * sizeof(float));
  }
}
#else
void zoo_silu_avx2(const float *x, float *y, size_t count) { __builtin_trap(); }
#endif
