import Foundation
import Testing
import Zoo
import ZooData
import ZooIO
import ZooTensor

@Suite struct PredictCommandTests {
  /// Test images written as PNG and JPEG files: a lossless 28x28 grey PNG must get exactly the
  /// probabilities the model gives the original pixels; an enlarged RGB JPEG is converted and
  /// resized; a broken file is reported by path while the others are still classified.
  @Test(.enabled(if: FashionMNIST.isInstalled))
  func classifiesImageFiles() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let test = try FashionMNIST.load(.test).prefix(3)
    var paths: [String] = []
    for index in 0..<3 {
      let pixels = Array(test.pixels[(index * 784)..<((index + 1) * 784)])
      let url = folder.appendingPathComponent("image\(index).png")
      try Data(
        ImageCodec.encodePNG(DecodedImage(width: 28, height: 28, channels: 1, pixels: pixels))
      )
      .write(to: url)
      paths.append(url.path)
    }
    // The first image, 56x56 in RGB, as a JPEG.
    let first = Array(test.pixels[0..<784])
    var rgb: [UInt8] = []
    for y in 0..<56 {
      for x in 0..<56 { rgb += Array(repeating: first[(y / 2) * 28 + x / 2], count: 3) }
    }
    let jpeg = folder.appendingPathComponent("large.jpg")
    try Data(
      ImageCodec.encodeJPEG(
        DecodedImage(width: 56, height: 56, channels: 3, pixels: rgb), quality: 95)
    )
    .write(to: jpeg)
    let broken = folder.appendingPathComponent("broken.png")
    try Data("not an image".utf8).write(to: broken)

    let model = repositoryRoot.appendingPathComponent("zoo/lenet5.h5")
    let result = try ZooProcess.run(
      ["predict", model.path] + paths + [broken.path, jpeg.path, "--top", "3"])
    #expect(result.status == 1)
    #expect(result.stderr.contains("\(broken.path): not a JPEG or PNG image"), "\(result.stderr)")

    // The same images through the library.
    let weights = try WeightFile.read(contentsOf: model)
    let lenet = try ModelRegistry.entry(named: "lenet5").buildClassifier(classCount: 10)
    try weights.load(into: lenet)
    lenet.setTraining(false)
    let normalization = Normalization(
      mean: try #require(weights.metadata.normalizationMean),
      std: try #require(weights.metadata.normalizationStd))
    let batch = ImageBatches(test, normalization: normalization, batchSize: 3).evaluationBatches[0]
    let expected = try topClasses(logits: try withoutGradients { try lenet(batch.inputs) }, k: 3)

    let lines = result.stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == 4 * 4, "\(result.stdout)")
    for (index, path) in paths.enumerated() {
      let start = try #require(lines.firstIndex(of: path))
      for (rank, choice) in expected[index].enumerated() {
        let line = lines[start + 1 + rank].trimmingCharacters(in: .whitespaces)
        let percent = try #require(Float(line.prefix { $0 != "%" }))
        #expect(abs(percent - 100 * choice.probability) < 0.006, "\(line)")
        #expect(line.hasSuffix("  " + FashionMNIST.classNames[choice.classIndex]), "\(line)")
      }
    }
    let large = try #require(lines.firstIndex(of: jpeg.path))
    #expect(lines[large + 1].hasSuffix(FashionMNIST.classNames[expected[0][0].classIndex]))
  }

  @Test func noImagesIsAUsageError() throws {
    let result = try ZooProcess.run(["predict", "model.h5"])
    #expect(result.status != 0)
    #expect(result.stderr.contains("give at least one image to classify"), "\(result.stderr)")
  }
}
