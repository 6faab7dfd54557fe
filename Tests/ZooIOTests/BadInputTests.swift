import CHDF5
import Foundation
import Testing
import ZooIO
import ZooNN
import ZooTensor

/// A malformed weight file, made by the test from a valid one (`TestModels.everyKind`, layers
/// conv1, bn1, up, proj, fc) and loaded into that model.
enum BadFile: String, CaseIterable, Sendable {
  case missingFile, empty, randomBytes, jsonText
  case truncatedInSignature, truncatedInSuperblock, truncatedAtHalf, truncatedByOneByte
  case corruptSuperblockVersion, corruptSuperblockChecksum
  case noLayerNames, layerNamesNotStrings, duplicateLayerName
  case wrongRank, float64Values, int32Values, hugeDeclaredShape, declaredButNeverWritten
  case missingWeightNames, listedGroupMissing, listedDatasetMissing, unlistedDataset
  case unknownLayerKind, unknownWeightName
  case extraLayer, missingLayer, wrongClassCount, unicodeLayerName
  case layerKindMismatch, epsMismatch
  case emptyDataset, keras3MissingVariable, keras3ExtraVariable, keras3SwappedVariables
  case notANumber

  /// What loading the file must throw: an exact error, or `damaged` with HDF5's reason.
  enum Outcome: Equatable {
    case error(WeightFileError)
    case damaged(containing: String)
  }

  static let valid = "valid.h5"

  func outcome(_ url: URL) -> Outcome {
    let file = url.path
    switch self {
    case .missingFile: return .error(.fileNotFound(file: file))
    case .empty: return .error(.notHDF5(file: file, reason: "it is empty"))
    case .randomBytes, .jsonText, .truncatedInSignature:
      return .error(.notHDF5(file: file, reason: "it has no HDF5 signature"))
    case .truncatedInSuperblock: return .damaged(containing: "")
    case .truncatedAtHalf, .truncatedByOneByte: return .damaged(containing: "truncated file")
    case .corruptSuperblockVersion: return .damaged(containing: "bad superblock version number")
    case .corruptSuperblockChecksum: return .damaged(containing: "incorrect metadata checksum")
    case .noLayerNames: return .error(.missingAttribute(object: "/", attribute: "layer_names"))
    case .layerNamesNotStrings:
      return .error(
        .wrongAttributeType(
          object: "/", attribute: "layer_names", expected: "a list of strings",
          found: "array of integers with shape [5]"))
    case .duplicateLayerName: return .error(.duplicateLayer(name: "fc"))
    case .wrongRank:
      return .error(
        .wrongRank(
          dataset: "/conv1/conv1/kernel:0", layout: "Conv2D kernel (kh, kw, in, out)",
          expectedRank: 4, shape: [3, 3, 8]))
    case .float64Values: return .error(.wrongDType(dataset: "/fc/fc/kernel:0", found: "float64"))
    case .int32Values: return .error(.wrongDType(dataset: "/bn1/bn1/beta:0", found: "int32"))
    case .hugeDeclaredShape:
      return .error(.shapeTooLarge(dataset: "/fc/fc/kernel:0", shape: [1 << 20, 1 << 20, 3]))
    case .declaredButNeverWritten:
      return .error(.missingData(dataset: "/fc/fc/kernel:0", declaredBytes: 960, storedBytes: 0))
    case .missingWeightNames:
      return .error(.missingAttribute(object: "/bn1", attribute: "weight_names"))
    case .listedGroupMissing:
      return .error(.missingObject(path: "/up", listedIn: "layer_names"))
    case .listedDatasetMissing:
      return .error(.missingObject(path: "/fc/fc/bias:0", listedIn: "weight_names of /fc"))
    case .unlistedDataset: return .error(.unlistedDatasets(["/fc/fc/extra:0"]))
    case .unknownLayerKind:
      return .error(.unknownLayerKind(layer: "proj", reason: "the file records kind 'Conv3d'"))
    case .unknownWeightName:
      return .error(
        .unknownWeight(layer: "fc", weight: "offset", kind: "Linear", known: ["kernel", "bias"]))
    case .extraLayer:
      return .error(.tensorMismatch(missing: [], unexpected: ["extra.weight", "extra.bias"]))
    case .missingLayer:
      return .error(.tensorMismatch(missing: ["up.weight", "up.bias"], unexpected: []))
    case .wrongClassCount:
      return .error(.shapeMismatch(path: "fc.weight", expected: [3, 80], found: [10, 80]))
    case .unicodeLayerName:
      return .error(
        .tensorMismatch(
          missing: ["conv1.weight", "conv1.bias"], unexpected: ["cönv1_卷积.weight", "cönv1_卷积.bias"])
      )
    case .layerKindMismatch:
      return .error(.layerKindMismatch(layer: "conv1", model: "Conv2d", file: "ConvTranspose2d"))
    case .epsMismatch: return .error(.epsMismatch(layer: "bn1", model: 1e-5, file: 1e-3))
    case .emptyDataset:
      return .error(.shapeMismatch(path: "fc.bias", expected: [3], found: [0]))
    case .notANumber: return .error(.nonFiniteValues(tensor: "bn1.running_var", count: 2))
    case .keras3MissingVariable:
      return .error(.tensorMismatch(missing: ["conv1.bias"], unexpected: []))
    case .keras3ExtraVariable:
      return .error(
        .variableCount(
          layer: "conv1", key: "conv2d", kind: "Conv2D", expected: ["kernel", "bias"], found: 3))
    case .keras3SwappedVariables:
      return .error(
        .wrongRank(
          dataset: "/layers/conv2d/vars/0", layout: "Conv2D kernel (kh, kw, in, out)",
          expectedRank: 4, shape: [4]))
    }
  }

  /// Writes the bad file into `folder` and returns its URL.
  func make(in folder: TemporaryFolder) throws -> URL {
    let url = folder.file("\(rawValue).h5")
    func valid() throws -> Data {
      let source = folder.file(Self.valid)
      if !FileManager.default.fileExists(atPath: source.path) {
        try WeightFile.write(TestModels.everyKind(), to: source)
      }
      return try Data(contentsOf: source)
    }
    func edit(keras3: Bool = false, _ change: (HDF5Group) throws -> Void) throws {
      if keras3 {
        try WeightFile.write(TestModels.everyKind(), format: .keras3, to: url)
      } else {
        try valid().write(to: url)
      }
      let file = try HDF5File.openForUpdate(url)
      try change(file.root)
      try file.close()
    }
    func write(_ layers: [(String, Module)]) throws {
      try WeightFile.write(NamedSequence(layers), to: url)
    }
    let rng = RandomStream(seed: 9)
    switch self {
    case .missingFile: break
    case .empty: try Data().write(to: url)
    case .randomBytes:
      var generator = SeededGenerator(seed: 1)
      try Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: url)
    case .jsonText: try Data(#"{"layer_names": ["conv1"]}"#.utf8).write(to: url)
    case .truncatedInSignature: try valid().prefix(4).write(to: url)
    case .truncatedInSuperblock: try valid().prefix(40).write(to: url)
    case .truncatedAtHalf:
      let data = try valid()
      try data.prefix(data.count / 2).write(to: url)
    case .truncatedByOneByte: try valid().dropLast().write(to: url)
    // The writer makes a version-3 superblock (HDF5 1.10's format): byte 8 is its version,
    // byte 13 lies in the base address, which the superblock's checksum covers.
    case .corruptSuperblockVersion:
      var data = try valid()
      data[8] = 0x7f
      try data.write(to: url)
    case .corruptSuperblockChecksum:
      var data = try valid()
      data[13] ^= 0x10
      try data.write(to: url)
    case .noLayerNames: try edit { try $0.removeAttribute("layer_names") }
    case .layerNamesNotStrings:
      try edit { try $0.setAttribute("layer_names", integers: [1, 2, 3, 4, 5]) }
    case .duplicateLayerName:
      try edit {
        try $0.setAttribute("layer_names", strings: ["conv1", "bn1", "up", "proj", "fc", "fc"])
      }
    case .wrongRank:
      try edit { root in
        try root.removeLink("conv1/conv1/kernel:0")
        try root.createDataset(
          "conv1/conv1/kernel:0", shape: [3, 3, 8], floats: .init(repeating: 0.5, count: 72))
      }
    case .float64Values:
      try edit { root in
        try root.removeLink("fc/fc/kernel:0")
        try root.createDataset(
          "fc/fc/kernel:0", shape: [80, 3], doubles: .init(repeating: 0.5, count: 240))
      }
    case .int32Values:
      try edit { root in
        try root.removeLink("bn1/bn1/beta:0")
        try root.createDataset("bn1/bn1/beta:0", shape: [4], integers: [1, 2, 3, 4])
      }
    case .hugeDeclaredShape:
      try edit { root in
        try root.removeLink("fc/fc/kernel:0")
        try root.declareFloatDataset("fc/fc/kernel:0", shape: [1 << 20, 1 << 20, 3])
      }
    case .declaredButNeverWritten:
      try edit { root in
        try root.removeLink("fc/fc/kernel:0")
        try root.declareFloatDataset("fc/fc/kernel:0", shape: [80, 3])
      }
    case .missingWeightNames: try edit { try $0.group("bn1").removeAttribute("weight_names") }
    case .listedGroupMissing: try edit { try $0.removeLink("up") }
    case .listedDatasetMissing: try edit { try $0.removeLink("fc/fc/bias:0") }
    case .unlistedDataset:
      try edit { try $0.createDataset("fc/fc/extra:0", shape: [1], floats: [1]) }
    case .unknownLayerKind:
      try edit { try $0.group("proj").setAttribute("zoo_layer", strings: ["Conv3d"], scalar: true) }
    case .unknownWeightName:
      try edit { root in
        try root.moveLink("fc/fc/bias:0", to: "fc/fc/offset:0")
        try root.group("fc").setAttribute("weight_names", strings: ["fc/kernel:0", "fc/offset:0"])
      }
    case .extraLayer:
      let model = TestModels.everyKind()
      model.register("extra", Linear(3, 2, rng: rng))
      try WeightFile.write(model, to: url)
    case .missingLayer:
      let model = TestModels.everyKind()
      try write(model.children.filter { $0.name != "up" }.map { ($0.name, $0.module) })
    case .wrongClassCount: try WeightFile.write(TestModels.everyKind(classCount: 10), to: url)
    case .unicodeLayerName:
      let model = TestModels.everyKind()
      try write(model.children.map { ($0.name == "conv1" ? "cönv1_卷积" : $0.name, $0.module) })
    case .layerKindMismatch:
      try edit {
        try $0.group("conv1").setAttribute("zoo_layer", strings: ["ConvTranspose2d"], scalar: true)
      }
    case .epsMismatch:
      try edit { try $0.group("bn1").setAttribute("zoo_eps", floats: [1e-3], scalar: true) }
    case .notANumber:
      try edit { root in
        try root.removeLink("bn1/bn1/moving_variance:0")
        try root.createDataset(
          "bn1/bn1/moving_variance:0", shape: [4], floats: [1, .nan, .infinity, 1])
      }
    case .emptyDataset:
      try edit { root in
        try root.removeLink("fc/fc/bias:0")
        try root.createDataset("fc/fc/bias:0", shape: [0], floats: [])
      }
    // Keras 3's layout keys conv1 as layers/conv2d, its variables 0 (kernel) and 1 (bias).
    case .keras3MissingVariable:
      try edit(keras3: true) { try $0.removeLink("layers/conv2d/vars/1") }
    case .keras3ExtraVariable:
      try edit(keras3: true) {
        try $0.createDataset("layers/conv2d/vars/2", shape: [3], floats: [0, 0, 0])
      }
    case .keras3SwappedVariables:
      try edit(keras3: true) { root in
        try root.moveLink("layers/conv2d/vars/0", to: "layers/conv2d/vars/kernel")
        try root.moveLink("layers/conv2d/vars/1", to: "layers/conv2d/vars/0")
        try root.moveLink("layers/conv2d/vars/kernel", to: "layers/conv2d/vars/1")
      }
    }
    return url
  }
}

/// Every malformed file gives its own typed error, never crashes, never prints HDF5's error
/// stack, and leaves the model untouched.
@Suite(.serialized) struct BadInputTests {
  @Test(arguments: BadFile.allCases)
  func malformedFileGivesItsError(_ bad: BadFile) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = try bad.make(in: folder)
    try Self.expectOutcome(bad, url)
  }

  static func expectOutcome(_ bad: BadFile, _ url: URL) throws {
    let model = TestModels.everyKind(seed: 77)
    let before = snapshot(model)
    var thrown: Error?
    do {
      try WeightFile.load(contentsOf: url, into: model)
    } catch {
      thrown = error
    }
    let error = try #require(
      thrown as? WeightFileError, "\(bad): threw \(String(describing: thrown))")
    switch bad.outcome(url) {
    case .error(let expected):
      #expect(error == expected, "\(bad)")
    case .damaged(let reason):
      guard case .damaged(let file, let detail) = error else {
        Issue.record("\(bad): expected a damaged-file error, got \(error)")
        return
      }
      #expect(file == url.path)
      #expect(!detail.isEmpty && (reason.isEmpty || detail.contains(reason)), "\(bad): \(detail)")
    }
    #expect(unchanged(model, since: before), "\(bad): a failed load changed the model")
    print("\(bad.rawValue): \(error.localizedDescription)")
  }

  /// HDF5 prints its error stack to stderr unless told not to, on every thread. Runs the whole
  /// table with file descriptor 2 redirected to a file and checks that nothing of HDF5's
  /// appears; a control first shows that HDF5's printing, left on, does reach the capture.
  @Test func hdf5PrintsNothing() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let files = try BadFile.allCases.map { ($0, try $0.make(in: folder)) }

    let control = try captureStandardError {
      // A thread that never went through ZooIO prints HDF5's errors by default.
      let done = DispatchSemaphore(value: 0)
      Thread {
        let id = H5Fopen(
          folder.file("jsonText.h5").path, zoo_h5f_acc_rdonly(), zoo_h5p_default())
        if id >= 0 { H5Fclose(id) }
        done.signal()
      }.start()
      done.wait()
    }
    #expect(control.contains("HDF5-DIAG"), "the capture did not see HDF5's own printing")

    let captured = try captureStandardError {
      for (bad, url) in files {
        // Fresh threads too: the silencing is per thread.
        let done = DispatchSemaphore(value: 0)
        Thread {
          _ = try? WeightFile.read(contentsOf: url)
          done.signal()
        }.start()
        done.wait()
        try Self.expectOutcome(bad, url)
      }
    }
    #expect(!captured.contains("HDF5"), "HDF5 printed: \(captured.prefix(2000))")
    FileHandle.standardError.write(Data(captured.utf8))
  }
}

/// Runs `body` with file descriptor 2 pointing at a temporary file and returns what was
/// written there.
func captureStandardError(_ body: () throws -> Void) throws -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent(
    "zoo-io-stderr-\(UUID().uuidString)"
  ).path
  let capture = open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600)
  guard capture >= 0 else { throw CocoaError(.fileWriteUnknown) }
  defer { unlink(path) }
  fflush(nil)
  let saved = dup(2)
  dup2(capture, 2)
  close(capture)
  do {
    try body()
  } catch {
    fflush(nil)
    dup2(saved, 2)
    close(saved)
    throw error
  }
  fflush(nil)
  dup2(saved, 2)
  close(saved)
  return try String(contentsOfFile: path, encoding: .utf8)
}

#if canImport(Glibc)
  import Glibc
#endif
