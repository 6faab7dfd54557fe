import CHDF5
import CLibFuzzer
import Foundation
import ZooFuzzTargets

// `zoo-fuzz <target> [libFuzzer options] [corpus folders]`. Built with
// `-sanitize=fuzzer,address` (see Tools/fuzz) it fuzzes the target through libFuzzer; an
// ordinary build instead runs the target once on each file named, to reproduce a finding.
@main
struct FuzzMain {
  static let targetVariable = "ZOO_FUZZ_TARGET"

  static func main() {
    var arguments = CommandLine.arguments
    if arguments.count > 1, FuzzTarget(rawValue: arguments[1]) != nil {
      // libFuzzer starts itself again without our first argument (-minimize_crash, -fork):
      // the environment carries the target to those runs.
      setenv(targetVariable, arguments.remove(at: 1), 1)
    }
    guard let name = ProcessInfo.processInfo.environment[targetVariable],
      let target = FuzzTarget(rawValue: name)
    else {
      let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
      FileHandle.standardError.write(
        Data("usage: zoo-fuzz <target> [options] [inputs]; targets: \(names)\n".utf8))
      exit(2)
    }
    if zoo_libfuzzer_is_linked() != 0 {
      exit(runLibFuzzer(arguments))
    }
    exit(replay(target, arguments.dropFirst()))
  }

  /// Hands the remaining arguments to libFuzzer, which calls `LLVMFuzzerTestOneInput`.
  static func runLibFuzzer(_ arguments: [String]) -> Int32 {
    var pointers = arguments.map { strdup($0) } + [nil]
    var argc = Int32(arguments.count)
    return pointers.withUnsafeMutableBufferPointer { buffer in
      var argv = buffer.baseAddress
      return zoo_libfuzzer_run(&argc, &argv, testOneInput)
    }
  }

  /// Runs `target` on each file and prints what it did; 1 when a file cannot be read.
  static func replay(_ target: FuzzTarget, _ files: ArraySlice<String>) -> Int32 {
    var status: Int32 = 0
    for file in files {
      guard let data = FileManager.default.contents(atPath: file) else {
        print("\(file): cannot read")
        status = 1
        continue
      }
      do {
        try target.run(Array(data))
        print("\(file): read")
      } catch {
        print("\(file): \(error.localizedDescription)")
      }
    }
    return status
  }
}

/// The target named by ZOO_FUZZ_TARGET, set by `main` before libFuzzer's first call.
let fuzzTarget = ProcessInfo.processInfo.environment[FuzzMain.targetVariable].flatMap(
  FuzzTarget.init(rawValue:))

/// libFuzzer's entry point (linked under libFuzzer's name too, which its own `main` needs):
/// thrown errors are the readers' answer to bad input, not findings.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
  try? fuzzTarget?.run(bytes)
  if fuzzTarget == .weights {
    // Leaks of HDF5 objects do not show to LeakSanitizer (the library keeps them in its tables):
    // the reader must have closed every file, group, dataset, attribute, type and space.
    let all = H5F_OBJ_FILE | H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR
    let open = H5Fget_obj_count(hid_t(all), all)
    if open != 0 { fatalError("the weight file reader left \(open) HDF5 objects open") }
  }
  return 0
}
