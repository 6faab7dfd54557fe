import Testing
import Zoo

extension KerasFixture {
  /// VGG19's blocks of 2, 2, 4, 4, 4 convolutions at vgg16_narrow's widths 4, 8, 8, 8, 8.
  static let narrowVGG19 = VGGConfiguration(
    layers: [4, 4, nil, 8, 8, nil, 8, 8, 8, 8, nil, 8, 8, 8, 8, nil, 8, 8, 8, 8, nil].map {
      $0.map(VGGLayer.conv) ?? .pool
    }, batchNorm: false, pooledSize: 3, hidden: [16, 16])
}

/// Files Keras wrote from the narrow VGG19 load through VGG19's table and give Keras's logits.
@Suite struct KerasVGG19Tests {
  @Test(arguments: KerasFixture.files.map(\.suffix))
  func committedKerasVGG19FileGivesKerasLogits(_ suffix: String) throws {
    try KerasInteropTests.check(
      KerasInteropTests.fixtures.appendingPathComponent("vgg19_narrow.json"), suffix: suffix)
  }
}
