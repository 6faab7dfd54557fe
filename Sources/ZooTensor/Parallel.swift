import Dispatch
import Foundation
import Synchronization

/// Runs kernels over a batch on all cores. OpenBLAS runs single-threaded: inside these loops
/// only `BLAS.serialGemm` may be called, never the splitting `BLAS.gemm`, so threads never nest.
public enum Parallel {
  /// Cores to use; 1 runs everything on the calling thread. Defaults to `ZOO_THREADS` from
  /// the environment (as `OMP_NUM_THREADS` does for OpenMP programs), else every active core.
  /// Setting it changes the count for the whole process; `$scopedThreadCount` overrides it.
  public static var threadCount: Int {
    get { scopedThreadCount ?? threadCountLock.withLock { storedThreadCount } }
    set { threadCountLock.withLock { storedThreadCount = newValue } }
  }
  nonisolated(unsafe) private static var storedThreadCount = defaultThreadCount
  private static let threadCountLock = NSLock()

  /// A thread count for the kernels started inside `$scopedThreadCount.withValue(n) { }` only,
  /// helpers included: tests compare counts while other tests run kernels with the process's.
  @TaskLocal public static var scopedThreadCount: Int?

  static var defaultThreadCount: Int {
    if let value = ProcessInfo.processInfo.environment["ZOO_THREADS"], let count = Int(value),
      count > 0
    {
      return count
    }
    return ProcessInfo.processInfo.activeProcessorCount
  }

  /// Calls `body(i)` for every `i` in `0..<count`, in parallel chunks when the total work
  /// (`count * costPerItem` scalar operations) is large enough to pay for the threads.
  public static func forEach(_ count: Int, costPerItem: Int = 1 << 16, _ body: (Int) -> Void) {
    let threads = min(threadCount, count)
    if threads <= 1 || count * costPerItem < 1 << 15 {
      for i in 0..<count { body(i) }
      return
    }
    // Each index is visited by exactly one thread; the caller's buffers outlive the call.
    run(threads) { chunk in
      let start = count * chunk / threads
      let end = count * (chunk + 1) / threads
      for i in start..<end { body(i) }
    }
  }

  /// `forEach` over the cores, or a plain loop on the calling thread when `parallel` is false
  /// (a caller already running on one core of a parallel loop).
  @inline(__always)
  public static func forEach(
    _ count: Int, costPerItem: Int = 1 << 16, parallel: Bool, _ body: (Int) -> Void
  ) {
    if parallel {
      forEach(count, costPerItem: costPerItem, body)
    } else {
      for i in 0..<count { body(i) }
    }
  }

  /// Splits `0..<count` into one contiguous range per thread, for element-wise kernels.
  public static func forRanges(_ count: Int, _ body: (Range<Int>) -> Void) {
    let threads = count >= 1 << 16 ? threadCount : 1
    if threads <= 1 {
      body(0..<count)
      return
    }
    run(threads) { chunk in
      body((count * chunk / threads)..<(count * (chunk + 1) / threads))
    }
  }

  /// Calls `body(t)` for `t` in `0..<tasks`, spread over the caller's thread and helpers.
  static func run(_ tasks: Int, _ body: (Int) -> Void) {
    guard let scoped = scopedThreadCount else { return runTasks(tasks, body) }
    // Helper threads see no task-local values: each task carries the caller's count along.
    runTasks(tasks) { t in $scopedThreadCount.withValue(scoped) { body(t) } }
  }

  private static func runTasks(_ tasks: Int, _ body: (Int) -> Void) {
    if #available(macOS 15, *) {
      // A nested or concurrent call finds the pool busy: the cores are taken, run here.
      if !WorkerPool.shared.run(tasks, body) {
        for t in 0..<tasks { body(t) }
      }
      return
    }
    nonisolated(unsafe) let work = body
    DispatchQueue.concurrentPerform(iterations: tasks) { work($0) }
  }
}

/// Helper threads that wait for work spinning for a moment before they sleep.
///
/// A kernel here lasts tens to hundreds of microseconds and a training step runs dozens of
/// them back to back. Waking a sleeping thread (what `DispatchQueue.concurrentPerform` does)
/// takes about as long on a virtual machine, so the caller used to finish most of the work
/// alone; helpers that spin for a while after each task are there when the next one comes.
///
/// Tasks are claimed, not assigned: the caller and the helpers take the next unclaimed task
/// until none is left, so on a busy machine a helper that is not scheduled in time costs
/// nothing (the caller runs its task) instead of stalling every kernel for a time slice.
/// One call runs at a time; a call that finds the pool busy (a nested or concurrent caller)
/// gets `false` and runs its work on its own thread.
@available(macOS 15, *)
final class WorkerPool: @unchecked Sendable {
  static let shared = WorkerPool()

  /// How long an idle helper spins before it sleeps.
  static let spinNanoseconds: UInt64 = 500_000

  /// One helper thread and its mailbox: the caller bumps `ticket` to wake it.
  private final class Helper: @unchecked Sendable {
    let ticket = Atomic<Int>(0)
    /// Whether the helper is asleep on `wake` (or about to be).
    let sleeping = Atomic<Bool>(false)
    let wake = DispatchSemaphore(value: 0)
  }

  private let busy = Atomic<Bool>(false)
  /// The current call's task count (high 32 bits) and next unclaimed task (low 32 bits).
  private let claims = Atomic<Int>(0)
  /// Tasks of the current call that have finished.
  private let completed = Atomic<Int>(0)
  /// Touched only by the caller that holds `busy`.
  private var helpers: [Helper] = []
  /// The current task; set before the call's claims are published, cleared after all its
  /// claimed tasks have completed, so whoever claims a task finds its body here.
  nonisolated(unsafe) private var task: ((Int) -> Void)?

  private init() {}

  /// Runs `body(t)` for `t` in `0..<tasks` on the caller and helpers; false if busy.
  func run(_ tasks: Int, _ body: (Int) -> Void) -> Bool {
    guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else { return false }
    defer { busy.store(false, ordering: .releasing) }
    while helpers.count < tasks - 1 { start(Helper()) }
    withoutActuallyEscaping(body) { body in
      task = body
      completed.store(0, ordering: .relaxed)
      claims.store(tasks << 32, ordering: .sequentiallyConsistent)
      for helper in helpers.prefix(tasks - 1) {
        helper.ticket.add(1, ordering: .sequentiallyConsistent)
        if helper.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
          helper.wake.signal()
        }
      }
      while let t = claim() {
        body(t)
        completed.add(1, ordering: .releasing)
      }
      // Only tasks a helper has already claimed remain; give it the core if it needs one.
      var spins = 0
      while completed.load(ordering: .acquiring) < tasks {
        spins += 1
        if spins > 64 { sched_yield() }
      }
      task = nil
    }
    return true
  }

  /// The next unclaimed task of the current call, if any is left.
  private func claim() -> Int? {
    let word = claims.wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue
    let (count, next) = (word >> 32, word & 0xFFFF_FFFF)
    return next < count ? next : nil
  }

  private func start(_ helper: Helper) {
    helpers.append(helper)
    let thread = Thread { [unowned self] in
      var seen = 0
      while true {
        seen = self.waitForTicket(helper, after: seen)
        while let t = self.claim() {
          self.task!(t)
          self.completed.add(1, ordering: .releasing)
        }
      }
    }
    thread.name = "zoo-worker-\(helpers.count)"
    thread.start()
  }

  /// Spins, then sleeps, until the helper's ticket moves past `seen`; returns the new ticket.
  /// The spin yields now and then so a loaded machine's other threads get the core.
  private func waitForTicket(_ helper: Helper, after seen: Int) -> Int {
    let deadline = DispatchTime.now().uptimeNanoseconds + WorkerPool.spinNanoseconds
    var spins = 0
    while true {
      let ticket = helper.ticket.load(ordering: .acquiring)
      if ticket != seen { return ticket }
      spins += 1
      if spins & 63 == 0 {
        if DispatchTime.now().uptimeNanoseconds > deadline { break }
        sched_yield()
      }
    }
    helper.sleeping.store(true, ordering: .sequentiallyConsistent)
    let ticket = helper.ticket.load(ordering: .sequentiallyConsistent)
    // A ticket handed out after `sleeping` was set comes with a signal. One handed out
    // before: take the flag back, unless the caller already did (then consume its signal).
    if ticket != seen && helper.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
      return ticket
    }
    helper.wake.wait()
    return helper.ticket.load(ordering: .acquiring)
  }
}
