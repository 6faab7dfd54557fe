import Foundation
import Zoo

/// Shows training progress on standard error: a redrawn bar with ETA, loss and accuracy on a
/// terminal, or a plain line every tenth of an epoch when output goes to a file or a pipe.
final class ProgressBar {
  private let isTerminal = isatty(STDERR_FILENO) == 1
  private var epochStart = Date()
  private var lastEpoch = -1
  private var lastReportedTenth = -1

  func update(_ p: TrainingProgress) {
    if p.epoch != lastEpoch {
      lastEpoch = p.epoch
      epochStart = Date()
      lastReportedTenth = -1
    }
    let elapsed = Date().timeIntervalSince(epochStart)
    let remaining = elapsed / Double(p.step) * Double(p.steps - p.step)
    let stats = String(format: "loss %.4f  acc %5.1f%%", p.loss, 100 * p.accuracy)
    if isTerminal {
      let width = 30
      let filled = width * p.step / p.steps
      let bar =
        String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
      let line =
        "epoch \(p.epoch)/\(p.epochs) [\(bar)] \(p.step)/\(p.steps)  \(stats)  ETA \(clock(remaining))"
      FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
      if p.step == p.steps { FileHandle.standardError.write(Data("\n".utf8)) }
    } else {
      let tenth = 10 * p.step / p.steps
      guard tenth > lastReportedTenth else { return }
      lastReportedTenth = tenth
      let line =
        "epoch \(p.epoch)/\(p.epochs) step \(p.step)/\(p.steps)  \(stats)  ETA \(clock(remaining))\n"
      FileHandle.standardError.write(Data(line.utf8))
    }
  }

  private func clock(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return String(format: "%d:%02d", s / 60, s % 60)
  }
}
