// Whether the engine's AVX2 and FMA kernels (the CKernels target) run. The package builds for
// baseline x86-64, where eight Swift lanes are two SSE registers and a multiply-add two
// instructions; on a CPU with AVX2 and FMA the hot loops of depthwise convolution and SiLU run
// in C functions compiled for it instead, and the portable Swift loops everywhere else.

import CKernels

/// The switch between the AVX2/FMA kernels and the portable ones.
public enum WideKernels {
  /// Whether this CPU runs AVX2 and FMA.
  public static let isSupported = zoo_kernels_have_avx2_fma() != 0

  /// Off runs the portable kernels on a CPU that has AVX2, so that tests compare the two.
  /// Scoped with `$isEnabled.withValue`; kernels read it where an op starts, as worker threads
  /// see no task-local values.
  @TaskLocal public static var isEnabled = true

  /// Whether an op starting now uses the AVX2/FMA kernels.
  static var active: Bool { isSupported && isEnabled }
}
