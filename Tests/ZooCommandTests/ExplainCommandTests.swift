import Foundation
import Testing
import ZooData

@Suite struct ExplainCommandTests {
  /// Two Fashion-MNIST test images as PNG files in `folder`.
  func writeImages(in folder: URL) throws -> [String] {
    let test = try FashionMNIST.load(.test).prefix(2)
    return try (0..<2).map { index in
      let url = folder.appendingPathComponent("image\(index).png")
      let pixels = Array(test.pixels[(index * 784)..<((index + 1) * 784)])
      try Data(
        ImageCodec.encodePNG(DecodedImage(width: 28, height: 28, channels: 1, pixels: pixels))
      ).write(to: url)
      return url.path
    }
  }

  /// Each image, method and class gets a heatmap, an overlay and a CSV of 28 rows of 28 values;
  /// several of them a grid.
  @Test(.enabled(if: FashionMNIST.isInstalled))
  func writesMapsOverlaysAndAGrid() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = repositoryRoot.appendingPathComponent("zoo/lenet5.h5")
    let out = folder.appendingPathComponent("maps")
    let result = try ZooProcess.run(
      ["explain", model.path] + (try writeImages(in: folder)) + [
        "--method", "gradcam", "--method", "integrated-gradients", "--class", "top:2",
        "--out-dir", out.path,
      ])
    #expect(result.status == 0, "\(result.stderr)")
    let files = try FileManager.default.contentsOfDirectory(atPath: out.path)
    #expect(files.filter { $0.hasSuffix(".overlay.png") }.count == 2 * 2 * 2)
    #expect(files.filter { $0.hasSuffix(".csv") }.count == 2 * 2 * 2)
    #expect(files.contains("grid.png"))
    let csv = try #require(files.first { $0.hasPrefix("image0.gradcam.") && $0.hasSuffix(".csv") })
    let rows = try String(contentsOf: out.appendingPathComponent(csv), encoding: .utf8)
      .split(separator: "\n")
    #expect(rows.count == 28)
    #expect(rows.allSatisfy { $0.split(separator: ",").count == 28 })
    #expect(result.stdout.contains("convergence delta"))
  }

  @Test func aBadLayerListsTheValidOnes() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let image = folder.appendingPathComponent("grey.png")
    try Data(
      ImageCodec.encodePNG(
        DecodedImage(width: 28, height: 28, channels: 1, pixels: [UInt8](repeating: 90, count: 784))
      )
    ).write(to: image)
    let model = repositoryRoot.appendingPathComponent("zoo/lenet5.h5")
    let result = try ZooProcess.run(
      ["explain", model.path, image.path, "--layer", "conv9", "--out-dir", folder.path])
    #expect(result.status != 0)
    #expect(
      result.stderr.contains(
        "layer 'conv9' is not a module with a feature-map output; valid layers: "),
      "\(result.stderr)")
  }
}
