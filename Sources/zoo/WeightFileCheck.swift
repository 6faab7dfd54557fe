import ArgumentParser
import Foundation
import Synchronization
import ZooIO
import ZooTensor

/// Reads the weight file at `path`: first in a child process (see `WeightFileCheck`), then in
/// this one. Errors name the file.
func readWeightFile(_ path: String) throws -> LoadedWeights {
  try WeightFileCheck.run(path)
  return try namingWeightFile(path) { try WeightFile.read(contentsOf: URL(fileURLWithPath: path)) }
}

/// Reads a weight file once in a child process before the command reads it in its own.
///
/// Debian 12's libhdf5 (1.10.8) crashes, hangs or asks for gigabytes on some crafted, damaged
/// files (Tools/fuzz-known holds one of each kind; HDF5 2.0 reports an error for every one).
/// Nothing in the HDF5 API tells such a file apart before reading it, so the first read of a
/// file happens in `zoo check-weight-file`: a crash or a hang there ends only the child, and
/// the command reports the file as damaged in one line.
enum WeightFileCheck {
  /// How long a healthy read may take: a few seconds plus the time to read the file slowly
  /// (ten times that under a sanitizer).
  static func timeLimit(forSize size: Int) -> Double {
    (10 + Double(size) / 20e6) * (SanitizerHooks.isActive ? 10 : 1)
  }

  /// Returns when the child read the file without an error; throws its error, or says how it
  /// ended, otherwise.
  static func run(_ path: String) throws {
    guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
    else { return }  // The read itself reports a missing file.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
    process.arguments = [CheckWeightFile._commandName, path]
    process.standardOutput = FileHandle.nullDevice
    let errors = Pipe()
    process.standardError = errors
    do { try process.run() } catch {
      throw ValidationErrorLine(message: "\(path): could not start a process to check it: \(error)")
    }
    // The pipe reaches its end when the child exits (or is killed), however it ends.
    let stderr = Mutex(Data())
    let finished = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
      let data = errors.fileHandleForReading.readDataToEndOfFile()
      stderr.withLock { $0 = data }
      finished.signal()
    }
    let limit = timeLimit(forSize: size)
    if finished.wait(timeout: .now() + limit) == .timedOut {
      kill(process.processIdentifier, SIGKILL)
      finished.wait()
      process.waitUntilExit()
      throw ValidationErrorLine(
        message: "\(path) is a damaged HDF5 file: the HDF5 library did not finish reading it "
          + "within \(Int(limit)) s")
    }
    process.waitUntilExit()
    let status = process.terminationStatus
    if process.terminationReason == .uncaughtSignal {
      throw ValidationErrorLine(
        message: "\(path) is a damaged HDF5 file: the HDF5 library crashed reading it "
          + "(signal \(status))")
    }
    guard status != 0 else { return }
    let text = String(decoding: stderr.withLock { $0 }, as: UTF8.self)
    let prefix = "Error: "
    guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix(prefix) }) else {
      throw ValidationErrorLine(
        message: "\(path) is a damaged HDF5 file: the HDF5 library stopped reading it "
          + "(exit status \(status))")
    }
    throw ValidationErrorLine(message: String(line.dropFirst(prefix.count)))
  }
}

/// `zoo check-weight-file FILE`: the child process of `WeightFileCheck`, not for people.
struct CheckWeightFile: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check-weight-file",
    abstract: "Read a weight file and report whether it is whole.", shouldDisplay: false)

  @Argument(help: "The weight file.")
  var file: String

  func run() throws {
    limitAddressSpace(
      fileSize: (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
    try reportingErrors {
      try namingWeightFile(file) { _ = try WeightFile.read(contentsOf: URL(fileURLWithPath: file)) }
    }
  }

  /// A damaged object header can declare a size of many gigabytes; with a limit that
  /// allocation fails inside libhdf5, which then reports an error, instead of taking the
  /// machine's memory. Reading needs the file's values about twice over.
  private func limitAddressSpace(fileSize: Int) {
    guard !SanitizerHooks.isActive else { return }
    let bytes = rlim_t(8 << 30) + rlim_t(4 * fileSize)
    var limit = rlimit(rlim_cur: bytes, rlim_max: bytes)
    setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
  }
}
