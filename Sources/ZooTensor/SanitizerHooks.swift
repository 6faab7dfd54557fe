#if canImport(Glibc)
  import Glibc
#endif

/// Tells the address or thread sanitizer, when the process runs under one, about memory that
/// uninstrumented code touches and about scratch memory that is lent out and given back.
///
/// OpenBLAS is not built with the sanitizers: a product whose operands reach past their
/// buffers would corrupt the heap in a plain build yet pass unseen under the address
/// sanitizer (its stores land in red zones no instrumented code checks), and two tasks writing
/// overlapping blocks of one output would race unseen by the thread sanitizer. The hooks are
/// found by symbol, so a plain build pays one test of a constant per call.
public enum SanitizerHooks {
  private typealias Range = @convention(c) (UnsafeRawPointer, Int) -> Void
  private typealias Check = @convention(c) (UnsafeRawPointer, Int) -> UnsafeRawPointer?

  private static func symbol<T>(_ name: String, as type: T.Type) -> T? {
    #if canImport(Glibc)
      guard let address = dlsym(dlopen(nil, RTLD_NOW), name) else { return nil }
      return unsafeBitCast(address, to: type)
    #else
      return nil
    #endif
  }

  private static let firstPoisoned = symbol("__asan_region_is_poisoned", as: Check.self)
  private static let reportLoad = symbol("__asan_report_load_n", as: Range.self)
  private static let reportStore = symbol("__asan_report_store_n", as: Range.self)
  private static let poison = symbol("__asan_poison_memory_region", as: Range.self)
  private static let unpoison = symbol("__asan_unpoison_memory_region", as: Range.self)
  private static let threadRead = symbol("__tsan_read_range", as: Range.self)
  private static let threadWrite = symbol("__tsan_write_range", as: Range.self)

  /// Whether either sanitizer is present (both reserve terabytes of address space, so a
  /// process under one cannot limit its own).
  public static let isActive = firstPoisoned != nil || threadWrite != nil

  /// Declares that uninstrumented code reads (or, with `writes`, writes) `rows` runs of
  /// `columns` floats, `stride` apart, from `start`: the address sanitizer reports a run that
  /// leaves its buffer as the access it is, the thread sanitizer records the access.
  static func access(
    _ start: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, writes: Bool
  ) {
    guard isActive, rows > 0, columns > 0 else { return }
    let bytes = columns * MemoryLayout<Float>.stride
    for row in 0..<rows {
      let run = UnsafeRawPointer(start + row * stride)
      if let firstPoisoned, let bad = firstPoisoned(run, bytes) {
        let size = bytes - run.distance(to: bad)
        (writes ? reportStore : reportLoad)?(bad, size)
      }
      (writes ? threadWrite : threadRead)?(run, bytes)
    }
  }

  /// Marks `count` floats at `start` as not to be touched (a scratch buffer's unused tail, or
  /// a buffer back in the pool), or, with `usable`, as usable again.
  static func mark(_ start: UnsafeMutablePointer<Float>, count: Int, usable: Bool) {
    guard count > 0, let mark = usable ? unpoison : poison else { return }
    mark(UnsafeRawPointer(start), count * MemoryLayout<Float>.stride)
  }
}
