import Foundation

/// Ctrl-C during training: the first SIGINT asks the run to stop after the current step (and
/// save); a second one ends the process at once, as SIGINT normally does.
enum Interrupt {
  // Written only by the signal handler, read by the training loop.
  nonisolated(unsafe) private static var requested: sig_atomic_t = 0

  /// Exit status of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
  static let exitStatus: Int32 = 130

  static func install() {
    signal(SIGINT) { _ in
      Interrupt.requested = 1
      signal(SIGINT, SIG_DFL)
    }
    // A parent may have started us with SIGINT blocked (a blocked mask is inherited); unblock
    // it so Ctrl-C reaches the handler. Threads started later inherit this mask.
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
  }

  static var isRequested: Bool { requested != 0 }
}
