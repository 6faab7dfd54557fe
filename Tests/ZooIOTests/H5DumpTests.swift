import Foundation
import Testing
import Zoo
import ZooIO
import ZooNN
import ZooTensor

/// HDF5's own `h5dump -H` (from hdf5-tools, when installed) sees the layout Keras expects.
struct H5DumpTests {
  static let h5dump: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
    .split(separator: ":").map { "\($0)/h5dump" }
    .first { FileManager.default.isExecutableFile(atPath: $0) }

  @Test(.enabled(if: h5dump != nil, "h5dump is not installed (hdf5-tools)"))
  func h5dumpListsTheExpectedGroupsAndDatasets() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let model = try ModelRegistry.entry(named: "lenet5").build(rng: RandomStream(seed: 1))
    let url = folder.file("lenet5.h5")
    try WeightFile.write(model, metadata: WeightFileMetadata(architecture: "lenet5"), to: url)

    let dump = try Self.run(Self.h5dump!, ["-H", url.path])
    let parsed = Self.parse(dump)
    // The expected layout, written out by hand: Keras kernels are (kh, kw, in, out) and
    // (in, out); each dataset sits at /<layer>/<layer>/<name>:0.
    let expected: [String: [Int]] = [
      "/features.0/features.0/kernel:0": [5, 5, 1, 6],
      "/features.0/features.0/bias:0": [6],
      "/features.3/features.3/kernel:0": [5, 5, 6, 16],
      "/features.3/features.3/bias:0": [16],
      "/classifier.0/classifier.0/kernel:0": [400, 120],
      "/classifier.0/classifier.0/bias:0": [120],
      "/classifier.2/classifier.2/kernel:0": [120, 84],
      "/classifier.2/classifier.2/bias:0": [84],
      "/classifier.4/classifier.4/kernel:0": [84, 10],
      "/classifier.4/classifier.4/bias:0": [10],
    ]
    #expect(parsed.datasets == expected, "h5dump -H printed:\n\(dump)")
    #expect(Set(parsed.types.values) == ["H5T_IEEE_F32LE"])
    for layer in ["features.0", "features.3", "classifier.0", "classifier.2", "classifier.4"] {
      #expect(parsed.attributes.contains("/\(layer)@weight_names"), "\(layer)")
      #expect(parsed.attributes.contains("/\(layer)@zoo_layer"), "\(layer)")
    }
    for name in ["layer_names", "backend", "keras_version", "zoo_architecture"] {
      #expect(parsed.attributes.contains("/@\(name)"), "\(name)")
    }
  }

  /// Datasets (path -> shape, path -> type) and attributes (`owner@name`) in `h5dump -H`
  /// output.
  static func parse(_ dump: String) -> (
    datasets: [String: [Int]], types: [String: String], attributes: Set<String>
  ) {
    var stack: [(kind: String, name: String)] = []
    var datasets: [String: [Int]] = [:]
    var types: [String: String] = [:]
    var attributes = Set<String>()
    func path() -> String {
      let names = stack.filter { $0.kind != "ATTRIBUTE" && $0.name != "/" }.map(\.name)
      return "/" + names.joined(separator: "/")
    }
    for line in dump.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      if let open = line.firstMatch(of: /^(GROUP|DATASET|ATTRIBUTE) "(.*)" \{$/) {
        if open.1 == "ATTRIBUTE" { attributes.insert("\(path())@\(open.2)") }
        stack.append((String(open.1), String(open.2)))
      } else if line == "}" {
        _ = stack.popLast()
      } else if stack.last?.kind == "DATASET" {
        if let type = line.firstMatch(of: /^DATATYPE\s+(\S+)/) {
          types[path()] = String(type.1)
        } else if let space = line.firstMatch(of: /^DATASPACE\s+SIMPLE \{ \( ([0-9, ]+) \)/) {
          datasets[path()] = space.1.split(separator: ",").map {
            Int($0.trimmingCharacters(in: .whitespaces))!
          }
        }
      } else if line.hasPrefix("DATATYPE") || line.hasPrefix("DATASPACE"), line.hasSuffix("{") {
        stack.append(("INNER", ""))  // a compound block inside an attribute
      }
    }
    return (datasets, types, attributes)
  }

  static func run(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }
}
