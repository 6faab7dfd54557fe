import ArgumentParser
import Explain
import Foundation
import Zoo
import ZooData
import ZooPlot
import ZooTensor

extension MethodName: ExpressibleByArgument {}

struct ExplainCommand: ParsableCommand, ImageListCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Show why a model predicted what it did: heatmaps of the evidence per pixel.",
    discussion: """
      For each image, each method and each class asked for, writes to --out-dir the heatmap \
      (STEM.METHOD.CLASS.png, with a legend of its range), the heatmap over the image \
      (STEM.METHOD.CLASS.overlay.png) and the raw map, one row of values per image row \
      (STEM.METHOD.CLASS.csv); with several images, methods or classes also grid.png, the \
      overlays side by side. With --raw h5 the raw maps go into one HDF5 file instead \
      (--out-dir/maps.h5, or the file --raw names): a dataset STEM/METHOD/CLASS per map with \
      attributes image, method, class, class_index, layer, model (and convergence_delta). \
      Images are prepared as `zoo predict` prepares them; an image that cannot be read is \
      reported and the others are still explained, the exit status then being 1.

      Methods: gradcam and gradcam++ (at --layer, by default the last convolutional stage), \
      saliency (|gradient|), smoothgrad (gradients of noisy copies averaged), \
      integrated-gradients (from a baseline image of --baseline, --steps Gauss-Legendre \
      points, doubled up to 800 while |delta| exceeds --completeness times \
      |f(x) - f(baseline)|; prints its convergence delta), occlusion (a --window square sliding by --stride), kernelshap \
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

  @Option(
    help: ArgumentHelp(
      "The raw maps: a CSV file per map, or all in one HDF5 file.", valueName: "csv|h5|file.h5"))
  var raw = "csv"

  @Option(help: "Integrated Gradients: points on the path from the baseline.")
  var steps = 50

  @Option(
    help: ArgumentHelp(
      "Integrated Gradients: double --steps (up to 800) until |delta| is at most this fraction of |f(x) - f(baseline)|.",
      valueName: "fraction"))
  var completeness: Float?

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
    _ = try RawMapFormat(raw, outDir: outDir)
    guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
    if let completeness, !(completeness > 0) {
      throw ValidationError("--completeness must be above 0, got \(completeness)")
    }
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
    settings.completenessTolerance = completeness
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
      let (pixels, readable, failures) = try readImages(for: shape)
      if !readable.isEmpty {
        try explain(trained, readable, pixels: pixels, shape: shape)
      }
      try endRun(failures: failures, couldNotBe: "read")
    }
  }

  /// Explains the images that could be read (`paths`, their prepared `pixels`).
  func explain(_ trained: TrainedModel, _ paths: [String], pixels: [UInt8], shape: ImageShape)
    throws
  {
    let prepared = LabeledImages(
      channels: shape.channels, height: shape.height, width: shape.width, pixels: pixels,
      labels: Array(repeating: 0, count: paths.count), classNames: trained.classNames)
    let inputs = trained.batches(.images(prepared), batchSize: paths.count)
      .evaluationBatches[0].inputs
    let output = try withoutGradients { try trained.model(inputs) }
    let choice = try ClassChoice(parsing: classChoice)
    // One row per image and class explained.
    var rows: [(image: Int, classIndex: Int)] = []
    for image in paths.indices {
      for k in try choice.classes(output: output, row: image, classNames: trained.classNames) {
        rows.append((image, k))
      }
    }
    let size = inputs.count / paths.count
    let expanded = Tensor(
      shape: [rows.count] + inputs.shape.dropFirst(),
      scalars: rows.flatMap { inputs.scalars[($0.image * size)..<(($0.image + 1) * size)] })
    let folder = URL(fileURLWithPath: outDir)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var rawMaps = RawMapWriter(
      format: try RawMapFormat(raw, outDir: outDir), folder: folder, model: model,
      height: shape.height, width: shape.width)
    var overlays: [[PlotImage]] = rows.map { [PlotImage(prepared, index: $0.image)] }
    var captions: [[String]] = rows.map { row in
      ["\(stem(paths[row.image])): \(trained.classNames[row.classIndex])"]
    }
    for name in methods {
      let method = name.method(settings)
      let attribution = try method.attribute(
        trained.model, inputs: expanded, classes: rows.map(\.classIndex))
      let layerPath =
        method is GradCAM
        ? try TargetLayer(layer, in: trained.model, inputShape: trained.inputShape).path
        : "input"
      for (index, row) in rows.enumerated() {
        let className = trained.classNames[row.classIndex]
        let map = RawMap(
          image: paths[row.image], stem: stem(paths[row.image]), method: name.rawValue,
          className: className, classFileName: fileName(className), classIndex: row.classIndex,
          layer: layerPath, convergenceDelta: attribution.convergenceDelta?[index],
          values: attribution.heatmap(row: index))
        let heatmap = Heatmap(
          width: shape.width, height: shape.height, values: map.values,
          isSigned: method.isSigned, scale: scale, title: "\(name.rawValue): \(className)")
        var overlay = heatmap
        overlay.image = PlotImage(prepared, index: row.image)
        try heatmap.render().write(to: folder.appendingPathComponent(map.name + ".png"))
        let overlayCanvas = overlay.render()
        try overlayCanvas.write(to: folder.appendingPathComponent(map.name + ".overlay.png"))
        try rawMaps.add(map)
        overlays[index].append(plotImage(overlayCanvas))
        captions[index].append(name.rawValue)
        var line = "\(map.image): \(name.rawValue) for \(className) -> \(map.name).png"
        if let delta = map.convergenceDelta {
          line += String(format: " (convergence delta %.3g)", Double(delta))
        }
        print(line)
      }
    }
    if let path = try rawMaps.finish() { print("raw maps -> \(path)") }
    if rows.count > 1 || methods.count > 1 {
      try writeOverlayGrid(
        overlays, captions: captions, scale: scale, title: "zoo explain \(model)",
        to: folder.appendingPathComponent("grid.png"))
    }
  }

  func stem(_ path: String) -> String {
    URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
  }

  /// A class name as part of a file name: lower case, runs of other characters as `-`.
  func fileName(_ className: String) -> String {
    className.lowercased().split { !($0.isLetter || $0.isNumber) }.joined(separator: "-")
  }
}
