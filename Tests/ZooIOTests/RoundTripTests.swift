import Foundation
import Testing
import Zoo
import ZooIO
import ZooNN
import ZooTensor

/// Export then import gives back every parameter and buffer bit for bit, for every
/// architecture in the registry. One model at a time: the VGGs hold 0.5 GB each, and the
/// original, the file's tensors and the copy are alive together.
///
/// Every architecture goes through the native (Keras legacy) layout; all but the 130M-value
/// VGGs through Keras 3's as well. The VGGs' layers take the same paths through the Keras 3
/// writer and reader as vgg-lite's and the narrow VGG16's (`KerasInteropTests`), and each
/// would add half a gigabyte of writing and reading to the suite.
@Suite(.serialized) struct RegistryRoundTripTests {
  static let cases: [(String, WeightFileFormat)] =
    ModelRegistry.names.map { ($0, .keras) }
    + ModelRegistry.entries.filter { $0.parameterCount < 100_000_000 }.map { ($0.name, .keras3) }

  @Test(arguments: zip(cases.map(\.0), cases.map(\.1)))
  func exportThenImportIsExact(_ name: String, _ format: WeightFileFormat) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let entry = try ModelRegistry.entry(named: name)
    let file = format == .keras ? "\(name).h5" : "\(name).weights.h5"
    let url = folder.file(file)
    let metadata = WeightFileMetadata(
      architecture: name, classCount: entry.defaultClassCount, inputShape: entry.inputShape)
    let start = Date()
    // The original (seed 1) and the copy to load into (seed 2), built side by side: drawing
    // the initial weights is most of the time for the VGGs.
    let (original, copy) = buildTwo(entry)
    try WeightFile.write(original, metadata: metadata, format: format, to: url)
    let loaded = try WeightFile.read(contentsOf: url)
    #expect(loaded.metadata == metadata)
    #expect(loaded.layout == (format == .keras ? .keras : .keras3))
    #expect(try folder.contents() == [file])

    #expect(firstDifference(original, copy) != nil, "\(name): both seeds built the same model")
    let report = try loaded.load(into: copy)
    #expect(report.loaded == copy.stateDict().map(\.path))
    #expect(report.skippedInModel.isEmpty && report.skippedInFile.isEmpty)
    let difference = firstDifference(original, copy)
    #expect(difference == nil, "\(name): \(difference ?? "") differs after the round trip")
    let megabytes =
      (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int)
      / 1_000_000
    print(
      "\(name) (\(format)): \(report.loaded.count) tensors, \(megabytes) MB, bit-identical after the round"
        + " trip (\(String(format: "%.1f", Date().timeIntervalSince(start))) s)")
  }
}

/// Two builds of `entry` with seeds 1 and 2, each with its one-dimensional tensors randomised,
/// made on two threads.
private func buildTwo(_ entry: ModelEntry) -> (Module, Module) {
  nonisolated(unsafe) let models = UnsafeMutableBufferPointer<Module?>.allocate(capacity: 2)
  models.initialize(repeating: nil)
  defer { models.deallocate() }
  DispatchQueue.concurrentPerform(iterations: 2) { index in
    let model = entry.build(rng: RandomStream(seed: UInt64(index + 1)))
    randomize(model, seed: UInt64(11 * (index + 1)))
    models[index] = model
  }
  defer { _ = models.deinitialize() }
  return (models[0]!, models[1]!)
}

/// Layouts, metadata, names and the one explicit relaxation, on small models.
struct WeightFileTests {
  @Test func kerasLayoutsInTheFile() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let model = TestModels.everyKind()
    let url = folder.file("every-kind.h5")
    try WeightFile.write(model, to: url)

    let file = try HDF5File.open(url)
    defer { try? file.close() }
    func dataset(_ path: String) throws -> (shape: [Int], values: [Float]) {
      let (info, values) = try file.root.readFloats(path)
      #expect(info.elementType == .float32, "\(path)")
      return (info.shape, values)
    }
    // Conv2d (O, I, kh, kw) -> (kh, kw, I, O).
    let conv = model.child(at: "conv1") as! Conv2d
    let kernel = try dataset("conv1/conv1/kernel:0")
    #expect(kernel.shape == [3, 3, 2, 4])
    for o in 0..<4 {
      for i in 0..<2 {
        for h in 0..<3 {
          for w in 0..<3 {
            #expect(
              kernel.values[((h * 3 + w) * 2 + i) * 4 + o]
                == conv.weight.scalars[((o * 2 + i) * 3 + h) * 3 + w])
          }
        }
      }
    }
    // ConvTranspose2d (I, O, kh, kw) -> (kh, kw, O, I).
    let up = model.child(at: "up") as! ConvTranspose2d
    let upKernel = try dataset("up/up/kernel:0")
    #expect(upKernel.shape == [2, 2, 3, 4])
    for i in 0..<4 {
      for o in 0..<3 {
        for h in 0..<2 {
          for w in 0..<2 {
            #expect(
              upKernel.values[((h * 2 + w) * 3 + o) * 4 + i]
                == up.weight.scalars[((i * 3 + o) * 2 + h) * 2 + w])
          }
        }
      }
    }
    // Linear (O, I) -> (I, O).
    let fc = model.child(at: "fc") as! Linear
    let dense = try dataset("fc/fc/kernel:0")
    #expect(dense.shape == [80, 3])
    for o in 0..<3 {
      for i in 0..<80 { #expect(dense.values[i * 3 + o] == fc.weight.scalars[o * 80 + i]) }
    }
    // Batch norm under Keras's names, in Keras's order, with eps kept.
    let bn = model.child(at: "bn1") as! BatchNorm
    let group = file.root.group("bn1")
    #expect(
      try group.attribute("weight_names")?.values
        == .strings([
          "bn1/gamma:0", "bn1/beta:0", "bn1/moving_mean:0", "bn1/moving_variance:0",
        ]))
    #expect(try group.attribute("zoo_layer")?.values == .strings(["BatchNorm"]))
    #expect(try group.attribute("zoo_eps")?.values == .floats([Double(Float(1e-5))]))
    #expect(try dataset("bn1/bn1/gamma:0").values == bn.weight.scalars)
    #expect(try dataset("bn1/bn1/moving_variance:0").values == bn.runningVar.scalars)
    // Layers without tensors are not written; a convolution without bias has only a kernel.
    #expect(
      try file.root.attribute("layer_names")?.values
        == .strings(["conv1", "bn1", "up", "proj", "fc"]))
    #expect(
      try file.root.group("proj").attribute("weight_names")?.values == .strings(["proj/kernel:0"]))
    #expect(try file.root.attribute("backend")?.values == .strings(["tensorflow"]))
    #expect(try file.root.attribute("keras_version")?.values == .strings(["2.15.0"]))
  }

  @Test func metadataAndLayerKindsRoundTrip() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let metadata = WeightFileMetadata(
      architecture: "every-kind", classCount: 3, inputShape: [2, 2, 2],
      classNames: ["T-shirt/top", "Trouser", "Ankle boot"], normalizationMean: [0.2860, 0.5],
      normalizationStd: [0.3530, 0.25],
      modelCard: #"{"data": "Fashion-MNIST", "accuracy": 0.91, "seed": 7}"#)
    let model = TestModels.everyKind()
    let url = folder.file("every-kind.h5")
    try WeightFile.write(model, metadata: metadata, to: url)
    let loaded = try WeightFile.read(contentsOf: url)
    #expect(loaded.metadata == metadata)
    #expect(loaded.layers.map(\.kind) == [.conv2d, .batchNorm, .convTranspose2d, .conv2d, .linear])
    #expect(loaded.layers.allSatisfy { $0.kindIsRecorded })
    #expect(loaded.layers[1].eps == 1e-5)
    #expect(loaded.paths == model.stateDict().map(\.path))

    let copy = TestModels.everyKind(seed: 99)
    try loaded.load(into: copy)
    #expect(firstDifference(model, copy) == nil)
    let x = Tensor(shape: [2, 2, 2, 2], scalars: (0..<16).map { sin(Float($0)) })
    model.setTraining(false)
    copy.setTraining(false)
    #expect(try model(x).scalars == copy(x).scalars)
  }

  @Test func longStringListsAreSplitAsKerasSplitsThem() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    // 5000 names of 20 bytes: 100 000 bytes, over the 64512-byte limit, so two chunks.
    let names = (0..<5000).map { "class number \(String(format: "%06d", $0))" }
    let metadata = WeightFileMetadata(classCount: 5000, classNames: names)
    let url = folder.file("many-classes.h5")
    try WeightFile.write(TestModels.everyKind(), metadata: metadata, to: url)

    let file = try HDF5File.open(url)
    #expect(try file.root.hasAttribute("zoo_class_names") == false)
    guard case .strings(let first)? = try file.root.attribute("zoo_class_names0")?.values,
      case .strings(let second)? = try file.root.attribute("zoo_class_names1")?.values
    else {
      Issue.record("zoo_class_names0 and zoo_class_names1 are missing")
      return
    }
    #expect(first.count == 2500 && second.count == 2500)
    #expect(try file.root.hasAttribute("zoo_class_names2") == false)
    try file.close()
    #expect(try WeightFile.read(contentsOf: url).metadata.classNames == names)
  }

  @Test func unicodeLayerNamesRoundTrip() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let rng = RandomStream(seed: 3)
    func build() -> Module {
      NamedSequence([
        ("卷积", Conv2d(1, 2, kernelSize: 3, rng: rng)),
        ("schicht_ü", NamedSequence([("норма", BatchNorm(2))])),
      ])
    }
    let model = build()
    randomize(model, seed: 4)
    let url = folder.file("ünïcode.h5")
    try WeightFile.write(model, to: url)
    let loaded = try WeightFile.read(contentsOf: url)
    #expect(
      loaded.paths == [
        "卷积.weight", "卷积.bias", "schicht_ü.норма.weight", "schicht_ü.норма.bias",
        "schicht_ü.норма.running_mean", "schicht_ü.норма.running_var",
      ])
    let copy = build()
    try loaded.load(into: copy)
    #expect(firstDifference(model, copy) == nil)
  }

  /// Keras 3 (since 3.3) drops the `:0`, and h5py writes Python strings as variable-length;
  /// a file written by Keras has no `zoo_layer`, so kinds are inferred.
  @Test func readsKeras3NamesAndVariableLengthStrings() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("keras3.h5")
    let file = try HDF5File.create(url)
    let root = file.root
    try root.setAttribute("layer_names", strings: ["dense", "norm"], variableLength: false)
    try root.setAttribute("backend", strings: ["jax"], scalar: true, variableLength: true)
    let dense = try root.createGroup("dense")
    try dense.setAttribute(
      "weight_names", strings: ["dense/kernel", "dense/bias"], variableLength: true)
    let kernel: [Float] = [1, 2, 3, 4, 5, 6]  // (in 3, out 2)
    try dense.createDataset("dense/kernel", shape: [3, 2], floats: kernel)
    try dense.createDataset("dense/bias", shape: [2], floats: [0.5, -0.5])
    let norm = try root.createGroup("norm")
    try norm.setAttribute(
      "weight_names",
      strings: ["norm/gamma", "norm/beta", "norm/moving_mean", "norm/moving_variance"],
      variableLength: true)
    for (index, name) in ["gamma", "beta", "moving_mean", "moving_variance"].enumerated() {
      try norm.createDataset("norm/\(name)", shape: [2], floats: [Float(index), 1])
    }
    try file.close()

    let loaded = try WeightFile.read(contentsOf: url)
    #expect(loaded.layers.map(\.kind) == [.linear, .batchNorm])
    #expect(!loaded.layers[0].kindIsRecorded && loaded.layers[1].eps == nil)
    #expect(loaded.metadata == WeightFileMetadata())
    let model = NamedSequence([("dense", Linear(3, 2)), ("norm", BatchNorm(2))])
    try loaded.load(into: model)
    let linear = model.child(at: "dense") as! Linear
    #expect(linear.weight.shape == [2, 3])
    #expect(linear.weight.scalars == [1, 3, 5, 2, 4, 6])
    #expect(linear.bias!.scalars == [0.5, -0.5])
    #expect((model.child(at: "norm") as! BatchNorm).runningVar.scalars == [3, 1])
  }

  @Test func skippingTheClassifierLoadsTheRestAndSaysWhat() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let entry = try ModelRegistry.entry(named: "resnet20")
    let source = try entry.buildClassifier(classCount: 10, rng: RandomStream(seed: 1))
    randomize(source, seed: 1)
    let url = folder.file("resnet20.h5")
    try WeightFile.write(source, to: url)
    let loaded = try WeightFile.read(contentsOf: url)

    let target = try entry.buildClassifier(classCount: 5, rng: RandomStream(seed: 2))
    #expect(
      throws: WeightFileError.shapeMismatch(path: "fc.weight", expected: [5, 64], found: [10, 64])
    ) {
      try loaded.load(into: target)
    }
    let head = snapshot(target.child(at: "fc")!)
    let report = try loaded.load(into: target, skipping: target.classifierPath)
    #expect(report.skippedInModel == ["fc.weight", "fc.bias"])
    #expect(report.skippedInFile == ["fc.weight", "fc.bias"])
    #expect(report.loaded.count == source.stateDict().count - 2)
    #expect(
      report.description
        == "loaded \(report.loaded.count) tensors; skipped fc.weight, fc.bias in the model"
        + " (kept) and fc.weight, fc.bias in the file (unused)")
    #expect(unchanged(target.child(at: "fc")!, since: head))
    let sourceState = Dictionary(uniqueKeysWithValues: source.stateDict())
    for (path, tensor) in target.stateDict() where !path.hasPrefix("fc.") {
      #expect(identical(tensor, sourceState[path]!), "\(path)")
    }
  }

  @Test func errorsStateContractThenWhatWasFound() {
    #expect(
      WeightFileError.shapeMismatch(
        path: "layer4.1.conv2.weight", expected: [512, 512, 3, 3], found: [256, 256, 3, 3]
      ).localizedDescription
        == "layer4.1.conv2.weight: expected [512, 512, 3, 3], file has [256, 256, 3, 3]")
    let mismatch = WeightFileError.tensorMismatch(
      missing: ["fc.weight", "fc.bias"], unexpected: (0..<7).map { "extra\($0).weight" })
    #expect(
      mismatch.localizedDescription
        == "strict loading needs the same tensors in the model and the file: the file lacks"
        + " 2 tensors (fc.weight, fc.bias), which the model has; the file has 7 tensors"
        + " (extra0.weight, extra1.weight, extra2.weight, extra3.weight, extra4.weight, ...),"
        + " which the model lacks. Is the file for another architecture? To keep the model's"
        + " own classifier, load with skipping: its path")
  }
}
