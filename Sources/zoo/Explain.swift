import ArgumentParser
import Explain
import Foundation
import Zoo
import ZooData
import ZooPlot
import ZooTensor

extension MethodName: ExpressibleByArgument {}

struct ExplainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Show why a model predicted what it did: heatmaps of the evidence per pixel.",
    discussion: """
      For each image, each method and each class asked for, writes to --out-dir the heatmap \
      (STEM.METHOD.CLASS.png, with a legend of its range), the heatmap over the image \
      (STEM.METHOD.CLASS.overlay.png) and the raw map, one row of values per image row \
      (STEM.METHOD.CLASS.csv); with several images, methods or classes also grid.png, the \
      overlays side by side. Images are prepared as `zoo predict` prepares them.

      Methods: gradcam and gradcam++ (at --layer, by default the last convolutional stage), \
      saliency (|gradient|), smoothgrad (gradients of noisy copies averaged), \
      integrated-gradients (from a baseline image of --baseline, --steps points; prints its \
      convergence delta), occlusion (a --window square sliding by --stride), kernelshap \
      (Shapley values of a --grid x --grid patch grid, or of about --superpixels SLIC \
      superpixels, from --coalitions samples; regions left out take --baseline or, with \
      --blur, the blurred image).
      """)

  @Argument(help: "A weight file written by `zoo train`, or a shipped weight file's name.")
  var model: String

  @Argument(help: "JPEG or PNG images to explain.")
  var images: [String] = []

  @Option(name: .customLong("method"), help: "A method; repeat for several (default gradcam).")
  var methods: [MethodName] = [.gradcam]

  @Option(help: "Grad-CAM's target layer by parameter path (`layer3`); a bad one lists the valid.")
  var layer: String?

  @Option(
    name: .customLong("class"),
    help: ArgumentHelp("The class to explain: a class name, or top:K.", valueName: "NAME|top:K"))
  var classChoice = "top:1"

  @Option(help: ArgumentHelp("The folder to write the maps to.", valueName: "dir"))
  var outDir: String

  @Option(help: "Integrated Gradients: points on the path from the baseline.")
  var steps = 50

  @Option(help: "Value (after normalisation) of removed pixels and of the IG baseline.")
  var baseline: Float = 0

  @Option(help: "Occlusion: side of the sliding square.")
  var window = 4

  @Option(help: "Occlusion: step of the sliding square.")
  var stride = 2

  @Option(help: "KernelSHAP: patches per side.")
  var grid = 4

  @Option(help: "KernelSHAP: about this many SLIC superpixels instead of the grid.")
  var superpixels: Int?

  @Option(help: "KernelSHAP: coalitions evaluated per image.")
  var coalitions = 512

  @Option(help: "KernelSHAP: mask left-out patches by blurring with this radius.")
  var blur: Int?

  @Option(help: "SmoothGrad: noisy copies per image.")
  var samples = 25

  @Option(help: "Each image pixel is this many pixels wide in the PNGs.")
  var scale = 8

  func validate() throws {
    guard !images.isEmpty else { throw ValidationError("give at least one image to explain") }
    guard scale >= 1 else { throw ValidationError("--scale must be at least 1, got \(scale)") }
    _ = try ClassChoice(parsing: classChoice)
    var seen: [String: String] = [:]
    for path in images {
      let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
      if let other = seen[stem] {
        throw ValidationError("\(other) and \(path) would both write \(stem).* in --out-dir")
      }
      seen[stem] = path
    }
  }

  var settings: MethodSettings {
    var settings = MethodSettings()
    settings.layerPath = layer
    settings.steps = steps
    settings.baseline = baseline
    settings.window = window
    settings.stride = stride
    settings.grid = grid
    settings.superpixels = superpixels
    settings.coalitions = coalitions
    settings.blurRadius = blur
    settings.noisySamples = samples
    return settings
  }

  func run() throws {
    try reportingErrors {
      let trained = try TrainedModel(model)
      guard trained.inputShape.count == 3 else {
        throw ValidationErrorLine(
          message: "\(trained.entry.name) takes table rows; explain takes image models")
      }
      let shape = ImageShape(trained.inputShape)
      var pixels: [UInt8] = []
      for path in images {
        let image = try ImageCodec.decode(contentsOf: URL(fileURLWithPath: path))
        pixels += ImageTransforms.prepare(image, for: shape)
      }
      let prepared = LabeledImages(
        channels: shape.channels, height: shape.height, width: shape.width, pixels: pixels,
        labels: Array(repeating: 0, count: images.count), classNames: trained.classNames)
      let inputs = trained.batches(.images(prepared), batchSize: images.count)
        .evaluationBatches[0].inputs
      let output = try withoutGradients { try trained.model(inputs) }
      let choice = try ClassChoice(parsing: classChoice)
      // One row per image and class explained.
      var rows: [(image: Int, classIndex: Int)] = []
      for image in images.indices {
        for k in try choice.classes(output: output, row: image, classNames: trained.classNames) {
          rows.append((image, k))
        }
      }
      let size = inputs.count / images.count
      let expanded = Tensor(
        shape: [rows.count] + inputs.shape.dropFirst(),
        scalars: rows.flatMap { inputs.scalars[($0.image * size)..<(($0.image + 1) * size)] })
      let folder = URL(fileURLWithPath: outDir)
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      var overlays: [[PlotImage]] = rows.map { [PlotImage(prepared, index: $0.image)] }
      var captions: [[String]] = rows.map { row in
        ["\(stem(row.image)): \(trained.classNames[row.classIndex])"]
      }
      for name in methods {
        let method = name.method(settings)
        let attribution = try method.attribute(
          trained.model, inputs: expanded, classes: rows.map(\.classIndex))
        for (index, row) in rows.enumerated() {
          let base =
            "\(stem(row.image)).\(name.rawValue).\(fileName(trained.classNames[row.classIndex]))"
          let map = attribution.heatmap(row: index)
          let heatmap = Heatmap(
            width: shape.width, height: shape.height, values: map, isSigned: method.isSigned,
            scale: scale, title: "\(name.rawValue): \(trained.classNames[row.classIndex])")
          var overlay = heatmap
          overlay.image = PlotImage(prepared, index: row.image)
          try heatmap.render().write(to: folder.appendingPathComponent(base + ".png"))
          let overlayCanvas = overlay.render()
          try overlayCanvas.write(to: folder.appendingPathComponent(base + ".overlay.png"))
          try writeCSV(map, width: shape.width, to: folder.appendingPathComponent(base + ".csv"))
          overlays[index].append(plotImage(overlayCanvas))
          captions[index].append(name.rawValue)
          var line =
            "\(images[row.image]): \(name.rawValue) for \(trained.classNames[row.classIndex]) -> \(base).png"
          if let delta = attribution.convergenceDelta?[index] {
            line += String(format: " (convergence delta %.3g)", Double(delta))
          }
          print(line)
        }
      }
      if rows.count > 1 || methods.count > 1 {
        try writeOverlayGrid(
          overlays, captions: captions, scale: scale, title: "zoo explain \(model)",
          to: folder.appendingPathComponent("grid.png"))
      }
    }
  }

  func stem(_ image: Int) -> String {
    URL(fileURLWithPath: images[image]).deletingPathExtension().lastPathComponent
  }

  /// A class name as part of a file name: lower case, runs of other characters as `-`.
  func fileName(_ className: String) -> String {
    className.lowercased().split { !($0.isLetter || $0.isNumber) }.joined(separator: "-")
  }

  func writeCSV(_ values: [Float], width: Int, to url: URL) throws {
    var text = ""
    for start in Swift.stride(from: 0, to: values.count, by: width) {
      text += values[start..<(start + width)].map { "\($0)" }.joined(separator: ",") + "\n"
    }
    try writeAtomically(Array(text.utf8), to: url)
  }
}
