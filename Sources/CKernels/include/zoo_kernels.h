#ifndef ZOO_KERNELS_H
#define ZOO_KERNELS_H
#include <stddef.h>

// Kernels written for AVX2 with fused multiply-add. The package builds for baseline x86-64
// (SSE2), where Swift's eight-lane vectors are two SSE registers and every multiply-add two
// instructions; these functions carry the wider instruction set in their own attributes, so no
// compiler flag is needed, and run only where zoo_kernels_have_avx2_fma() says the CPU has it.

// 1 when the CPU runs AVX2 and FMA (checked once), 0 otherwise and on other architectures.
int zoo_kernels_have_avx2_fma(void);

// y[i] = x[i] / (1 + e^-x[i]) for i < count, as VectorExp.silu: x clamped to [-88, 87] inside
// the exponential and the quotient; NaN stays NaN. x and y may be the same.
void zoo_silu_avx2(const float *x, float *y, size_t count);

// One plane of a depthwise convolution from its padded rows (Im2Col.fillPaddedRows):
// out[oy * out_width + ox] = bias + sum over ki < kernel_height, kj < kernel_width of
//   kernel[ki * kernel_width + kj] * padded[(oy * stride_height + ki * dilation) * row_width
//                                           + columns[kj] + ox].
// Reads up to seven floats past the last tap of a row; the buffer must have them.
void zoo_depthwise_plane_avx2(const float *padded, ptrdiff_t row_width, const float *kernel,
                              int kernel_height, int kernel_width, const ptrdiff_t *columns,
                              int stride_height, int dilation, float bias, float *out,
                              int out_height, int out_width);

// The shapes of a depthwise convolution's plane, for its backward pass.
typedef struct {
  int height, width;
  int out_height, out_width;
  int kernel_height, kernel_width;
  int stride_height, stride_width;
  int padding_height, padding_width;
  int dilation;
  int phase_width;  // Im2Col.Geometry's phaseWidth: a padded row is stride_width phases of it
} zoo_depthwise_geometry;

// One plane's share of a depthwise convolution's gradients, as DepthwiseConv2DKernels.backward
// computes them (the same products, summed in the same order), `columns` as in
// zoo_depthwise_plane_avx2. With `sums` (taps * out_width running sums, tap-major), adds
// dy * x for every tap and output column, x read from `padded` (Im2Col.fillPaddedRows's rows).
// With `gradient` (scratch of padded height * stride_width * phase_width floats), adds the
// input gradient to the plane `dx`. Either may be NULL.
void zoo_depthwise_backward_plane_avx2(const zoo_depthwise_geometry *g, const ptrdiff_t *columns,
                                       const float *dy, const float *padded, const float *kernel,
                                       float *sums, float *gradient, float *dx);

// even[m] = from[2m] and odd[m] = from[2m + 1] for 2m < count, 2m + 1 < count: one row split
// into the two column phases of a stride-2 convolution.
void zoo_split_phases2_avx2(const float *from, size_t count, float *even, float *odd);
#endif
