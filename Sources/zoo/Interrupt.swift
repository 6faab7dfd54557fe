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
  }

  static var isRequested: Bool { requested != 0 }
}
