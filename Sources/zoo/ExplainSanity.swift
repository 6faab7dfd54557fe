import ArgumentParser
import Explain
import Foundation
import Zoo
import ZooData
import ZooNN
import ZooPlot
import ZooTensor

struct ExplainSanity: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain-sanity",
    abstract: "Sanity checks of the explanation methods on Fashion-MNIST test images.",
    discussion: """
      For the first --count test images of the model's classes, explains each image's \
      predicted class with every method and measures: the model-parameter randomisation test \
      (Adebayo et al. 2018: Spearman rank correlation between the maps of the trained model and \
      of the same architecture with freshly initialised weights; a method that explains the \
      model has a low one), and the deletion and insertion AUC (Petsiuk et al. 2018: class \
      probability as the most attributed pixels are removed, or inserted into a blurred copy; \
      lower deletion and higher insertion is better) against a random map. Prints a table and \
      writes example grids to --out-dir (trained.png, randomised.png).

      --cascade instead runs the cascading randomisation test (Adebayo et al. 2018): the \
      layers re-initialised from the output back (fc, then each residual block, then the \
      stem), one more at each step, with the mean rank correlation of each method's maps \
      with the trained model's after each step; writes cascade.png (the first image's maps \
      at each step) to --out-dir.

      --completeness instead measures Integrated Gradients' completeness on those images: \
      |delta| / |f(x) - f(baseline)| at 50 Gauss-Legendre points, and with the points doubled \
      (up to 800) until it is within 1%.

      --cost instead times Grad-CAM of --cost-model at --cost-size px against one forward and \
      backward pass with weight gradients, both in inference mode as Grad-CAM runs.
      """)

  @Argument(help: "A weight file trained on Fashion-MNIST, or a shipped weight file's name.")
  var model = "resnet20-fashion-mnist-0-4"

  @Option(help: "Test images to measure on.")
  var count = 200

  @Option(help: ArgumentHelp("The folder for the example grids.", valueName: "dir"))
  var outDir: String?

  @Option(help: "KernelSHAP's coalitions per image (its 4x4 grid has 65,534 in all).")
  var coalitions = 128

  @Option(help: "Images in the example grids.")
  var examples = 6

  @Flag(help: "Run the cascading randomisation test instead.")
  var cascade = false

  @Flag(help: "Measure Integrated Gradients' completeness instead.")
  var completeness = false

  @Flag(help: "Time Grad-CAM against a forward and backward pass instead.")
  var cost = false

  @Option(help: "The architecture --cost times (random weights).")
  var costModel = "resnet18"

  @Option(help: "The input side --cost times at.")
  var costSize = 224

  func validate() throws {
    guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
    guard (0...count).contains(examples) else {
      throw ValidationError("--examples must be in 0...\(count) (--count), got \(examples)")
    }
    guard coalitions >= 1 else {
      throw ValidationError("--coalitions must be at least 1, got \(coalitions)")
    }
    guard costSize >= 32 else {
      throw ValidationError("--cost-size must be at least 32, got \(costSize)")
    }
  }

  func run() throws {
    try reportingErrors {
      if cost { return try measureCost() }
      let trained = try TrainedModel(model)
      guard FashionMNIST.isInstalled else {
        throw ValidationErrorLine(message: "Fashion-MNIST is not installed (Tools/install-deps)")
      }
      let classes = Array(0..<trained.classNames.count)
      let test = try FashionMNIST.load(.test).subset(classes: classes).prefix(count)
      let inputs = trained.batches(.images(test), batchSize: test.count).evaluationBatches[0].inputs
      let logits = try withoutGradients { try trained.model(inputs) }
      let predicted = (0..<test.count).map { row in
        classes.max {
          logits.scalars[row * classes.count + $0] < logits.scalars[row * classes.count + $1]
        }!
      }
      if completeness { return try measureCompleteness(trained.model, inputs, predicted) }
      if cascade { return try measureCascade(trained, test, inputs, predicted) }
      let randomised = trained.entry.build(
        classCount: trained.classNames.count, inputChannels: trained.inputShape[0],
        rng: RandomStream(seed: 1))
      randomised.setTraining(false)
      let metric = DeletionInsertion()
      print("\(trained.entry.name) (\(model)), \(test.count) test images, predicted classes")
      print(
        "method                rank corr. trained/random   deletion AUC   insertion AUC   seconds")
      let shown = min(examples, test.count)
      var trainedCells: [[PlotImage]] = (0..<shown).map { [PlotImage(test, index: $0)] }
      var randomCells = trainedCells
      var titles = ["image"]
      var generator = SeededGenerator(seed: 3)
      var completeness = ""
      let noise = Tensor(
        shape: [test.count, test.height, test.width],
        scalars: (0..<(test.count * test.width * test.height)).map { _ in generator.nextUniform() })
      let (deletion, insertion) = try metric.areas(
        trained.model, inputs: inputs, classes: predicted, heatmaps: noise)
      print(row("random map", nil, mean(deletion), mean(insertion), 0))
      for name in MethodName.allCases {
        let start = Date()
        var settings = MethodSettings()
        settings.coalitions = coalitions
        let method = name.method(settings)
        let ours = try method.attribute(trained.model, inputs: inputs, classes: predicted)
        let theirs = try method.attribute(randomised, inputs: inputs, classes: predicted)
        let correlation = (0..<test.count).map {
          rankCorrelation(ours.heatmap(row: $0), theirs.heatmap(row: $0))
        }
        let (deletion, insertion) = try metric.areas(
          trained.model, inputs: inputs, classes: predicted, heatmaps: ours.heatmap)
        print(
          row(
            name.rawValue, mean(correlation), mean(deletion), mean(insertion),
            Date().timeIntervalSince(start)))
        if name == .integratedGradients, let deltas = ours.convergenceDelta {
          completeness = completenessSummary(ours, deltas)
        }
        titles.append(name.rawValue)
        for index in 0..<shown {
          trainedCells[index].append(overlay(ours, index, test, method.isSigned))
          randomCells[index].append(overlay(theirs, index, test, method.isSigned))
        }
      }
      print(completeness)
      if let outDir, shown > 0 {
        let folder = URL(fileURLWithPath: outDir)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let captions = (0..<shown).map { index in
          titles.enumerated().map { $0 == 0 ? trained.classNames[predicted[index]] : $1 }
        }
        try writeOverlayGrid(
          trainedCells, captions: captions, scale: 4, title: "\(model): trained",
          to: folder.appendingPathComponent("trained.png"))
        try writeOverlayGrid(
          randomCells, captions: captions, scale: 4, title: "\(model): randomised weights",
          to: folder.appendingPathComponent("randomised.png"))
      }
    }
  }

  func overlay(_ attribution: Attribution, _ index: Int, _ images: LabeledImages, _ signed: Bool)
    -> PlotImage
  {
    var heatmap = Heatmap(
      width: images.width, height: images.height, values: attribution.heatmap(row: index),
      isSigned: signed, image: PlotImage(images, index: index), scale: 4)
    heatmap.textScale = 1
    return plotImage(heatmap.render())
  }

  func row(
    _ name: String, _ correlation: Double?, _ deletion: Double, _ insertion: Double,
    _ seconds: Double
  )
    -> String
  {
    let padded = name.padding(toLength: 22, withPad: " ", startingAt: 0)
    let corr = correlation.map { String(format: "%6.3f", $0) } ?? "     -"
    return padded
      + String(
        format: "%@                     %6.3f          %6.3f      %6.1f", corr, deletion, insertion,
        seconds)
  }

  /// The cascading randomisation test: per method, the mean rank correlation with the trained
  /// model's maps after each unit (and every unit above it) is re-initialised.
  func measureCascade(
    _ trained: TrainedModel, _ test: LabeledImages, _ inputs: Tensor, _ predicted: [Int]
  ) throws {
    func build(seed: UInt64) -> Module {
      let model = trained.entry.build(
        classCount: trained.classNames.count, inputChannels: trained.inputShape[0],
        rng: RandomStream(seed: seed))
      model.setTraining(false)
      return model
    }
    let fresh = build(seed: 1)
    let cascaded = build(seed: 2)
    let units = CascadingRandomisation.units(of: trained.model)
    print(
      "\(trained.entry.name) (\(model)), \(test.count) test images; mean rank correlation with the trained model's maps, layers re-initialised from the top down to:"
    )
    var table: [[Double]] = []
    var cells: [[PlotImage]] = []
    var settings = MethodSettings()
    settings.coalitions = coalitions
    for name in MethodName.allCases {
      let method = name.method(settings)
      CascadingRandomisation.copy("", from: trained.model, into: cascaded)
      let ours = try method.attribute(trained.model, inputs: inputs, classes: predicted)
      var row: [Double] = []
      var pictures = [PlotImage(test, index: 0), overlay(ours, 0, test, method.isSigned)]
      for unit in units {
        CascadingRandomisation.copy(unit, from: fresh, into: cascaded)
        let theirs = try method.attribute(cascaded, inputs: inputs, classes: predicted)
        row.append(
          mean(
            (0..<test.count).map { rankCorrelation(ours.heatmap(row: $0), theirs.heatmap(row: $0)) }
          ))
        pictures.append(overlay(theirs, 0, test, method.isSigned))
      }
      print(
        name.rawValue + ": "
          + zip(units, row).map { String(format: "%@ %.3f", $0, $1) }.joined(separator: ", "))
      table.append(row)
      cells.append(pictures)
    }
    print(
      "| re-initialised down to | " + MethodName.allCases.map(\.rawValue).joined(separator: " | ")
        + " |")
    for (step, unit) in units.enumerated() {
      print(
        "| \(unit) | " + table.map { String(format: "%.3f", $0[step]) }.joined(separator: " | ")
          + " |")
    }
    if let outDir {
      let folder = URL(fileURLWithPath: outDir)
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let captions = MethodName.allCases.map { [$0.rawValue, "trained"] + units }
      try writeOverlayGrid(
        cells, captions: captions, scale: 4,
        title: "\(model): cascading randomisation, top layer first",
        to: folder.appendingPathComponent("cascade.png"))
    }
  }

  /// Integrated Gradients' completeness at 50 points, then with points doubled to reach 1%.
  func measureCompleteness(_ model: Module, _ inputs: Tensor, _ classes: [Int]) throws {
    for tolerance in [nil, 0.01] as [Float?] {
      let start = Date()
      let attribution = try IntegratedGradients(steps: 50, tolerance: tolerance).attribute(
        model, inputs: inputs, classes: classes)
      let points = attribution.pathPoints ?? []
      let counts = Dictionary(grouping: points, by: { $0 }).mapValues(\.count)
      print(completenessSummary(attribution, attribution.convergenceDelta ?? []))
      print(
        String(
          format: "  %@: points per image %@, mean %.0f, %.0f s",
          tolerance == nil ? "fixed" : "doubling to 1%",
          counts.keys.sorted().map { "\($0): \(counts[$0]!)" }.joined(separator: ", "),
          Double(points.reduce(0, +)) / Double(max(points.count, 1)),
          Date().timeIntervalSince(start)))
    }
  }

  /// How far Integrated Gradients' attributions are from f(x) - f(baseline), relatively.
  func completenessSummary(_ attribution: Attribution, _ deltas: [Float]) -> String {
    let size = attribution.values.count / deltas.count
    let relative = deltas.enumerated().map { row, delta in
      let sum = attribution.values.scalars[(row * size)..<((row + 1) * size)].reduce(0, +)
      return Double(abs(delta / (sum - delta)))
    }.sorted()
    let within = relative.filter { $0 <= 0.01 }.count
    return String(
      format:
        "integrated gradients: |delta| / |f(x) - f(baseline)| median %.4f, 90th percentile %.4f, max %.4f; within 1%%: %d of %d",
      relative[relative.count / 2], relative[relative.count * 9 / 10], relative.last!, within,
      relative.count)
  }

  func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }

  /// Median seconds of Grad-CAM and of a forward and backward pass with weight gradients,
  /// batch of one, both in inference mode (batch norm on running statistics) as Grad-CAM runs.
  func measureCost() throws {
    let entry = try ModelRegistry.entry(named: costModel)
    let network = entry.build(rng: RandomStream(seed: 0))
    network.setTraining(false)
    var generator = SeededGenerator(seed: 0)
    let shape = [1, entry.inputShape[0], costSize, costSize]
    let input = Tensor(
      shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in generator.nextNormal() })
    func median(_ body: () throws -> Void) rethrows -> Double {
      var times: [Double] = []
      for _ in 0..<5 {
        let start = Date()
        try body()
        times.append(Date().timeIntervalSince(start))
      }
      return times.sorted()[2]
    }
    let pass = try median {
      let logits = try network(input)
      try crossEntropy(logits: logits, labels: [0]).backward()
      network.zeroGrad()
    }
    let forward = try median { _ = try withoutGradients { try network(input) } }
    let gradCAM = GradCAM()
    let cam = try median { _ = try gradCAM.attribute(network, inputs: input, classes: [0]) }
    print(
      String(
        format:
          "%@ at %d px, batch 1: forward %.3f s, forward+backward %.3f s, Grad-CAM %.3f s = %.2fx forward+backward",
        costModel, costSize, forward, pass, cam, cam / pass))
  }
}
