import Foundation
import ZooTensor

/// The `zoo` executable built beside the test bundle, run as a child process.
struct ZooProcess {
  static let executable: URL = {
    // The tests run inside the package's test binary, in the same build folder as `zoo`.
    let folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
      .deletingLastPathComponent()
    for candidate in [folder, folder.deletingLastPathComponent()] {
      let url = candidate.appendingPathComponent("zoo")
      if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("zoo")
  }()

  /// What a finished run printed and how it ended.
  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
    /// True when the process ended by a signal rather than by exiting.
    var signalled: Bool
  }

  let process = Process()
  private let out = Pipe()
  private let err = Pipe()
  private let outData = LockedData()
  private let errData = LockedData()

  /// Starts `zoo arguments...` in `directory` (default: a fresh temporary folder). With
  /// `fileSizeLimit` (bytes, through util-linux's prlimit), a write past the limit fails as it
  /// would on a full disk.
  /// With `launcher` (a program and its arguments, such as mpirun's), that program starts zoo.
  init(
    _ arguments: [String], in directory: URL? = nil, fileSizeLimit: Int? = nil,
    launcher: [String] = []
  ) throws {
    if let program = launcher.first {
      process.executableURL = URL(fileURLWithPath: program)
      process.arguments = launcher.dropFirst() + [Self.executable.path] + arguments
    } else if let fileSizeLimit {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
      process.arguments = ["--fsize=\(fileSizeLimit)", Self.executable.path] + arguments
    } else {
      process.executableURL = Self.executable
      process.arguments = arguments
    }
    if let directory { process.currentDirectoryURL = directory }
    process.standardOutput = out
    process.standardError = err
    let (outData, errData) = (outData, errData)
    out.fileHandleForReading.readabilityHandler = { outData.append($0.availableData) }
    err.fileHandleForReading.readabilityHandler = { errData.append($0.availableData) }
    try process.run()
  }

  /// Everything printed to standard output so far.
  var stdoutSoFar: String { outData.text }
  /// Everything printed to standard error so far.
  var stderrSoFar: String { errData.text }

  /// What time limits are multiplied by: a sanitizer slows the numerics about tenfold.
  static let timeScale: TimeInterval = SanitizerHooks.isActive ? 10 : 1

  /// Waits for the process to end (killing it after `timeout` seconds, scaled by `timeScale`).
  func wait(timeout: TimeInterval = 120) -> Result {
    let deadline = Date().addingTimeInterval(timeout * Self.timeScale)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    out.fileHandleForReading.readabilityHandler = nil
    err.fileHandleForReading.readabilityHandler = nil
    outData.append(out.fileHandleForReading.readDataToEndOfFile())
    errData.append(err.fileHandleForReading.readDataToEndOfFile())
    return Result(
      status: process.terminationStatus, stdout: outData.text, stderr: errData.text,
      signalled: process.terminationReason == .uncaughtSignal)
  }

  /// Runs `zoo arguments...` to the end.
  static func run(
    _ arguments: [String], in directory: URL? = nil, fileSizeLimit: Int? = nil,
    timeout: TimeInterval = 120
  ) throws -> Result {
    try ZooProcess(arguments, in: directory, fileSizeLimit: fileSizeLimit).wait(timeout: timeout)
  }
}

final class LockedData: @unchecked Sendable {
  private var data = Data()
  private let lock = NSLock()

  func append(_ more: Data) {
    lock.lock()
    data.append(more)
    lock.unlock()
  }

  var text: String {
    lock.lock()
    defer { lock.unlock() }
    return String(decoding: data, as: UTF8.self)
  }
}

/// A fresh temporary folder; the test removes it when done.
func temporaryFolder(_ name: String = #function) throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "zoo-command-\(name.filter(\.isLetter))-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// The repository's root, found from this file.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()
