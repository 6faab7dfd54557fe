import Foundation
import Testing
import ZooData
import ZooIO

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

  /// `zoo explain` of two test images with LeNet-5's Grad-CAM and Integrated Gradients, into
  /// `folder`/maps; checks that it succeeded.
  func explainTwoImages(in folder: URL, _ options: [String]) throws -> (ZooProcess.Result, URL) {
    let model = repositoryRoot.appendingPathComponent("zoo/lenet5.h5")
    let out = folder.appendingPathComponent("maps")
    let result = try ZooProcess.run(
      ["explain", model.path] + (try writeImages(in: folder)) + [
        "--method", "gradcam", "--method", "integrated-gradients", "--out-dir", out.path,
      ] + options)
    #expect(result.status == 0, "\(result.stderr)")
    return (result, out)
  }

  /// Each image, method and class gets a heatmap, an overlay and a CSV of 28 rows of 28 values;
  /// several of them a grid.
  @Test(.enabled(if: FashionMNIST.isInstalled))
  func writesMapsOverlaysAndAGrid() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (result, out) = try explainTwoImages(in: folder, ["--class", "top:2"])
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

  /// --raw h5: one dataset per image, method and class, with its attributes, in one file
  /// (Tools/check_explain_h5.py checks the same file with h5py).
  @Test(.enabled(if: FashionMNIST.isInstalled))
  func writesRawMapsAsHDF5() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (_, out) = try explainTwoImages(in: folder, ["--raw", "h5"])
    let model = repositoryRoot.appendingPathComponent("zoo/lenet5.h5")
    let files = try FileManager.default.contentsOfDirectory(atPath: out.path)
    #expect(!files.contains { $0.hasSuffix(".csv") })
    let file = try HDF5File.open(out.appendingPathComponent("maps.h5"))
    defer { try? file.close() }
    let paths = try file.root.datasetPaths().sorted()
    #expect(paths.count == 2 * 2)
    #expect(paths.allSatisfy { $0.split(separator: "/").count == 3 }, "\(paths)")
    let map = try #require(paths.first { $0.hasPrefix("image0/integrated-gradients/") })
    #expect(try file.root.readFloats(map).info.shape == [28, 28])
    let dataset = file.root.dataset(map)
    #expect(try dataset.attribute("method")?.values == .strings(["integrated-gradients"]))
    #expect(try dataset.attribute("layer")?.values == .strings(["input"]))
    #expect(try dataset.attribute("model")?.values == .strings([model.path]))
    #expect(try dataset.attribute("convergence_delta") != nil)
    let cam = try #require(paths.first { $0.hasPrefix("image1/gradcam/") })
    // Grad-CAM's default layer: LeNet-5's last convolutional stage.
    guard case .strings(let layer)? = try file.root.dataset(cam).attribute("layer")?.values else {
      Issue.record("no layer attribute on \(cam)")
      return
    }
    #expect(layer == ["features"])
    guard case .integers(let index)? = try file.root.dataset(cam).attribute("class_index")?.values,
      case .strings(let name)? = try file.root.dataset(cam).attribute("class")?.values
    else {
      Issue.record("class_index or class missing")
      return
    }
    #expect(cam.hasSuffix(name[0].lowercased().split { !$0.isLetter }.joined(separator: "-")))
    #expect((0..<10).contains(Int(index[0])))
  }

  /// An unreadable image is one line; the others are still explained and the exit is 1.
  @Test(.enabled(if: FashionMNIST.isInstalled))
  func anUnreadableImageIsReportedAndTheOthersExplained() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let broken = folder.appendingPathComponent("broken.png")
    try Data("not a picture".utf8).write(to: broken)
    let model = repositoryRoot.appendingPathComponent("zoo/lenet5.h5")
    let out = folder.appendingPathComponent("maps")
    let images = try writeImages(in: folder)
    let result = try ZooProcess.run(
      ["explain", model.path, images[0], broken.path, images[1], "--out-dir", out.path])
    #expect(result.status == 1)
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 2, "\(result.stderr)")
    #expect(lines.first?.contains(broken.path) == true, "\(result.stderr)")
    #expect(lines.last == "Error: 1 of 3 images could not be read")
    let files = try FileManager.default.contentsOfDirectory(atPath: out.path)
    #expect(
      files.filter { $0.hasSuffix(".overlay.png") }.sorted().map { $0.prefix(6) } == [
        "image0", "image1",
      ])
  }
}
