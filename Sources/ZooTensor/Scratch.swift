import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Process-wide allocator settings for tensor-sized blocks.
enum Memory {
  /// glibc serves blocks above 128 KiB with fresh `mmap`s and gives the top of the heap back
  /// after each large `free`, so every activation and gradient of a training step would be
  /// zero-filled page by page by the kernel, again at every step. Serving blocks up to 32 MiB
  /// from the heap and keeping up to 256 MiB of freed heap makes a step reuse the previous
  /// step's memory. (glibc raises its thresholds by itself after the first large free, but
  /// only as far as the largest block freed so far, so whether a run pays depended on the
  /// order of its allocations.)
  static let configured: Void = {
    #if canImport(Glibc)
      // `mallopt` is not in the Glibc module; the option numbers are glibc's <malloc.h>.
      typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
      let (trimThreshold, mmapThreshold): (Int32, Int32) = (-1, -3)
      guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "mallopt") else { return }
      let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
      _ = mallopt(mmapThreshold, 32 << 20)
      _ = mallopt(trimThreshold, 256 << 20)
    #endif
  }()
}

/// Reusable scratch memory for kernels. A buffer is lent for the duration of a closure and
/// then kept for the next caller, so per-step kernels neither allocate nor fault in fresh
/// pages (large allocations come straight from the kernel as zeroed pages, every time).
enum Scratch {
  /// Buffers larger than this many floats are freed after use instead of kept.
  static let largestKept = 1 << 22
  /// At most this many idle buffers are kept.
  static let keptCount = 16

  private struct Buffer {
    var pointer: UnsafeMutablePointer<Float>
    var capacity: Int
  }

  private static let lock = NSLock()
  nonisolated(unsafe) private static var idle: [Buffer] = []

  /// Runs `body` with `count` floats of uninitialised memory that no one else uses meanwhile.
  static func withBuffer<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R)
    rethrows -> R
  {
    let buffer = take(max(count, 1))
    defer { give(buffer) }
    // Under the address sanitizer only the lent floats may be touched, not the rest of a
    // larger pooled buffer, nor a buffer after it went back to the pool.
    SanitizerHooks.mark(buffer.pointer, count: count, usable: true)
    SanitizerHooks.mark(buffer.pointer + count, count: buffer.capacity - count, usable: false)
    return try body(buffer.pointer)
  }

  private static func take(_ count: Int) -> Buffer {
    lock.lock()
    // The smallest idle buffer that fits, so large buffers stay free for large requests.
    var best: Int?
    for (index, buffer) in idle.enumerated() where buffer.capacity >= count {
      if best == nil || buffer.capacity < idle[best!].capacity { best = index }
    }
    if let best {
      let buffer = idle.remove(at: best)
      lock.unlock()
      return buffer
    }
    lock.unlock()
    return Buffer(pointer: .allocate(capacity: count), capacity: count)
  }

  private static func give(_ buffer: Buffer) {
    guard buffer.capacity <= largestKept else {
      release(buffer)
      return
    }
    SanitizerHooks.mark(buffer.pointer, count: buffer.capacity, usable: false)
    lock.lock()
    idle.append(buffer)
    var dropped: Buffer?
    if idle.count > keptCount {
      // Drop the smallest: it is the cheapest to make again.
      let smallest = idle.indices.min { idle[$0].capacity < idle[$1].capacity }!
      dropped = idle.remove(at: smallest)
    }
    lock.unlock()
    if let dropped { release(dropped) }
  }

  private static func release(_ buffer: Buffer) {
    SanitizerHooks.mark(buffer.pointer, count: buffer.capacity, usable: true)
    buffer.pointer.deallocate()
  }
}
