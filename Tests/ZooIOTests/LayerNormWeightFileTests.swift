import Foundation
import Testing
import ZooIO
import ZooNN
import ZooTensor

/// ConvNeXt's layer norms and layer scales in Keras's layouts: a `LayerNormalization`'s gamma
/// and beta with the eps recorded, and a `LayerScale`'s gamma (C) for the zoo's (C, 1, 1).
struct LayerNormWeightFileTests {
  /// A layer norm and a layer-scaled block of 3 channels, with random values in both.
  static func model(eps: Float = 1e-6, seed: UInt64 = 1) -> NamedSequence {
    let rng = RandomStream(seed: seed)
    let model = NamedSequence([
      ("norm", LayerNorm2d(3, eps: eps)),
      (
        "block",
        LayerScaledResidual(
          Linear(3, 3, overChannels: true, rng: rng), channels: 3, initialScale: 1e-6,
          dropProbability: 0, rng: rng)
      ),
    ])
    randomize(model, seed: seed)
    return model
  }

  @Test func bothKerasLayoutsHoldKerasShapesAndRoundTripExactly() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let model = Self.model()
    let scale = (model.child(at: "block") as! LayerScaledResidual).layerScale.scalars
    let legacy = folder.file("ln.h5")
    let keras3 = folder.file("ln.weights.h5")
    try WeightFile.write(model, format: .keras, to: legacy)
    try WeightFile.write(model, format: .keras3, to: keras3)
    do {
      let file = try HDF5File.open(legacy)
      defer { try? file.close() }
      #expect(
        try file.root.attribute("layer_names")?.values
          == .strings(["norm", "block", "block.block"]))
      #expect(try file.root.group("norm").attribute("zoo_layer")?.values == .strings(["LayerNorm"]))
      #expect(
        try file.root.group("norm").attribute("zoo_eps")?.values == .floats([Double(Float(1e-6))]))
      #expect(try file.root.readFloats("norm/norm/gamma:0").0.shape == [3])
      let gamma = try file.root.readFloats("block/block/gamma:0")
      #expect(gamma.0.shape == [3] && gamma.1 == scale)
      #expect(
        try file.root.group("block").attribute("zoo_layer")?.values == .strings(["LayerScale"]))
    }
    do {
      let file = try HDF5File.open(keras3)
      defer { try? file.close() }
      #expect(
        try file.root.group("layers").memberNames().sorted()
          == ["dense", "layer_normalization", "layer_scale"])
      let gamma = try file.root.readFloats("layers/layer_scale/vars/0")
      #expect(gamma.0.shape == [3] && gamma.1 == scale)
    }
    for url in [legacy, keras3] {
      let copy = Self.model(seed: 2)
      try WeightFile.load(contentsOf: url, into: copy)
      #expect(firstDifference(model, copy) == nil, "\(url.lastPathComponent)")
    }
  }

  @Test func aLayerNormOfAnotherEpsIsRefused() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("ln.h5")
    try WeightFile.write(Self.model(), to: url)
    #expect(throws: WeightFileError.epsMismatch(layer: "norm", model: 1e-5, file: 1e-6)) {
      try WeightFile.load(contentsOf: url, into: Self.model(eps: 1e-5))
    }
  }
}
