import Foundation
import Zoo

/// Shows training progress on standard error: a redrawn bar with ETA, loss and accuracy on a
/// terminal, or a plain line every tenth of an epoch when output goes to a file or a pipe.
/// Passes that are not epochs (computing features) show the same bar without the figures.
final class ProgressBar {
  /// Set on the ranks other than 0 of a data-parallel run, which print nothing.
  nonisolated(unsafe) static var isSilent = false
  private let isTerminal = isatty(STDERR_FILENO) == 1
  private var passStart = Date()
  private var lastTitle = ""
  private var lastStep = 0
  private var lastReportedTenth = -1
  /// Whether the figures include accuracy (not for a generative model).
  var showsAccuracy = true

  func update(_ p: TrainingProgress) {
    let stats =
      showsAccuracy
      ? String(format: "loss %.4f  acc %5.1f%%", p.loss, 100 * p.accuracy)
      : String(format: "loss %.4f", p.loss)
    draw("epoch \(p.epoch)/\(p.epochs)", step: p.step, steps: p.steps, stats: stats)
  }

  /// Progress of a single pass that is not an epoch, such as computing features.
  func update(_ task: String, done: Int, total: Int) {
    draw(task, step: done, steps: total, stats: "")
  }

  private func draw(_ title: String, step: Int, steps: Int, stats: String) {
    if title != lastTitle || step <= lastStep {
      lastTitle = title
      passStart = Date()
      lastReportedTenth = -1
    }
    lastStep = step
    guard !Self.isSilent else { return }
    let elapsed = Date().timeIntervalSince(passStart)
    let remaining = elapsed / Double(step) * Double(steps - step)
    let stats = stats.isEmpty ? "" : "  " + stats
    if isTerminal {
      let width = 30
      let filled = width * step / steps
      let bar =
        String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
      let line = "\(title) [\(bar)] \(step)/\(steps)\(stats)  ETA \(clock(remaining))"
      FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
      if step == steps { FileHandle.standardError.write(Data("\n".utf8)) }
    } else {
      let tenth = 10 * step / steps
      guard tenth > lastReportedTenth else { return }
      lastReportedTenth = tenth
      let line = "\(title) step \(step)/\(steps)\(stats)  ETA \(clock(remaining))\n"
      FileHandle.standardError.write(Data(line.utf8))
    }
  }

  private func clock(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return String(format: "%d:%02d", s / 60, s % 60)
  }
}
