import ArgumentParser
import Foundation
import Zoo
import ZooData
import ZooPlot
import ZooTensor

struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Images from a trained autoencoder or VAE: samples, a latent walk, the latent plane.",
    discussion: """
      Samples decode codes drawn from the prior N(0, 1) (a VAE) or from a Gaussian fitted to the \
      codes of the test images (a plain autoencoder). --interpolate walks the straight line \
      between the codes of two test images. A model with a 2-D code also draws its latent \
      plane (--manifold) and the posterior means of the test images by class (--scatter).
      """)

  @Argument(help: "A shipped weight file's name (see `zoo list`) or a weight file path.")
  var source: String

  @Option(help: "Samples to draw.")
  var count = 64

  @Option(help: ArgumentHelp("Walk between test images A and B (indices).", valueName: "A,B"))
  var interpolate: String?

  @Option(help: "Images along the walk, both ends included.")
  var steps = 10

  @Flag(help: "2-D code: decode a grid over [-2, 2]^2 of the latent plane.")
  var manifold = false

  @Option(help: "Images per side of the --manifold grid.")
  var side = 20

  @Flag(help: "2-D code: plot the posterior means of the test images, coloured by class.")
  var scatter = false

  @Option(help: "Data the test images come from.")
  var data = "fashion-mnist"

  @Option(help: "Seed of the sampled codes.")
  var seed: UInt64 = 0

  @Option(help: ArgumentHelp("Write the PNG here.", valueName: "samples.png"))
  var out = "samples.png"

  func validate() throws {
    guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
    guard steps >= 2 else { throw ValidationError("--steps must be at least 2, got \(steps)") }
    guard side >= 2 else { throw ValidationError("--side must be at least 2, got \(side)") }
    let modes = [interpolate != nil, manifold, scatter].filter { $0 }.count
    guard modes <= 1 else {
      throw ValidationError("choose one of --interpolate, --manifold and --scatter")
    }
  }

  func run() throws {
    try reportingErrors {
      let trained = try TrainedModel(source)
      guard let model = trained.model as? ConvAutoencoder else {
        throw ValidationErrorLine(
          message:
            "\(trained.entry.name) is a \(trained.entry.task.rawValue) model; zoo generate needs an autoencoder or a VAE"
        )
      }
      if (manifold || scatter) && model.latentSize != 2 {
        throw ValidationErrorLine(
          message:
            "--\(manifold ? "manifold" : "scatter") needs a 2-D latent code; \(trained.url.lastPathComponent) has \(model.latentSize) (train with --latent 2)"
        )
      }
      let canvas: Canvas
      let name = trained.url.lastPathComponent
      if let interpolate {
        canvas = try walk(model, trained, interpolate)
      } else if manifold {
        canvas = grid(
          try model.latentPlane(side: side), columns: side, scale: 1,
          title: "\(name): latent plane [-2, 2]^2")
      } else if scatter {
        canvas = try means(model, trained)
      } else {
        let spread: (mean: [Float], std: [Float])? =
          model.kind == .variational
          ? nil : ConvAutoencoder.spread(of: try codes(model, trained).codes)
        let samples = try model.sample(
          count: count, mean: spread?.mean, std: spread?.std, random: RandomStream(seed: seed))
        canvas = grid(samples, columns: 8, scale: 2, title: "\(name): \(count) samples")
      }
      let url = URL(fileURLWithPath: out)
      try canvas.write(to: url)
      print("wrote \(url.path)")
    }
  }

  /// The test images of `--data` as the model's batches.
  private func testImages(_ trained: TrainedModel) throws -> any ExampleSource {
    let loaded = try DataSource(parsing: data).load(
      DataOptions(imageShape: ImageShape(trained.inputShape), seed: 0))
    return trained.batches(loaded.validation)
  }

  /// The posterior means of every test image and their labels.
  private func codes(_ model: ConvAutoencoder, _ trained: TrainedModel) throws -> (
    codes: Tensor, labels: [Int]
  ) {
    var (codes, labels) = ([Float](), [Int]())
    try withoutGradients {
      for batch in try testImages(trained).evaluationBatches.prefetched() {
        codes += try model.encode(batch.inputs).mean.scalars
        labels += batch.labels
      }
    }
    return (Tensor(shape: [labels.count, model.latentSize], scalars: codes), labels)
  }

  private func walk(_ model: ConvAutoencoder, _ trained: TrainedModel, _ pair: String) throws
    -> Canvas
  {
    let parts = pair.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    let images = try testImages(trained)
    guard parts.count == 2, let a = parts[0], let b = parts[1],
      (0..<images.count).contains(a), (0..<images.count).contains(b)
    else {
      throw ValidationErrorLine(
        message:
          "--interpolate takes two test image indices A,B in 0..<\(images.count), got '\(pair)'")
    }
    let ends = images.batch(of: [a, b], augmentation: nil).inputs
    let size = ends.count / 2
    let first = Tensor(shape: [1] + ends.shape.dropFirst(), scalars: Array(ends.scalars[..<size]))
    let last = Tensor(shape: [1] + ends.shape.dropFirst(), scalars: Array(ends.scalars[size...]))
    let path = try model.interpolate(from: first, to: last, steps: steps)
    let row = Tensor(
      shape: [steps + 2] + ends.shape.dropFirst(),
      scalars: first.scalars + path.scalars + last.scalars)
    return grid(
      row, columns: steps + 2, scale: 3,
      title: "test image \(a) -> \(b) (the ends are the images, between them the decoded walk)")
  }

  private func means(_ model: ConvAutoencoder, _ trained: TrainedModel) throws -> Canvas {
    let (codes, labels) = try self.codes(model, trained)
    let classNames =
      trained.card?.classes.count == 10 ? trained.card!.classes : FashionMNIST.classNames
    let series = Set(labels).sorted().map { label in
      let members = labels.indices.filter { labels[$0] == label }
      return LineChart.Series(
        label < classNames.count ? classNames[label] : "class \(label)",
        values: members.map { Double(codes.scalars[2 * $0 + 1]) },
        xs: members.map { Double(codes.scalars[2 * $0]) }, connected: false)
    }
    var chart = LineChart(
      title: "posterior means of \(labels.count) test images",
      panels: [
        .init(title: trained.url.lastPathComponent, xLabel: "z1", yLabel: "z2", series: series)
      ])
    chart.panelWidth = 760
    chart.panelHeight = 640
    return chart.render()
  }

  /// Images (N, C, H, W) in [0, 1] as a grid.
  private func grid(_ images: Tensor, columns: Int, scale: Int, title: String) -> Canvas {
    let (c, h, w) = (images.shape[1], images.shape[2], images.shape[3])
    let cells = (0..<images.shape[0]).map { i in
      ImageGrid.Cell(
        image: PlotImage(
          width: w, height: h, channels: c,
          values: Array(images.scalars[(i * c * h * w)..<((i + 1) * c * h * w)]), layout: .chw))
    }
    return ImageGrid(cells: cells, columns: columns, scale: scale, title: title).render()
  }
}
