import ArgumentParser
import Foundation
import Zoo
import ZooData
import ZooTensor

struct Predict: ParsableCommand, ImageListCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Classify images with a trained model, or segment them with a segmentation model.",
    discussion: """
      A classifier prints the most probable classes and their probabilities. Each image is \
      converted to the model's channels, resized to cover its input and centre cropped, then \
      normalised by the statistics stored in the weight file.

      A segmentation model prints each image's share of pixels per class and, with --out \
      (one image) or --out-dir, writes the predicted mask as a mask folder holds it (one \
      class number per pixel, 0/255 for two classes) and the mask over the image beside it \
      (MASK.overlay.png). Images keep their size, whose sides must be multiples of what the \
      model takes (16 for unet-tiny, 32 with a ResNet encoder).

      An image that cannot be read or taken is reported and the others are still processed; \
      the exit status is then 1.
      """)

  @Argument(help: "A weight file written by `zoo train`, or a shipped weight file's name.")
  var model: String

  @Argument(help: "JPEG or PNG images to classify.")
  var images: [String] = []

  @Option(help: "How many classes to show per image.")
  var top = 5

  @Option(
    help: ArgumentHelp(
      "Segmentation: the PNG to write one image's predicted mask to.", valueName: "mask.png"))
  var out: String?

  @Option(
    help: ArgumentHelp(
      "Segmentation: the folder to write each image's mask to (as STEM.png).", valueName: "dir"))
  var outDir: String?

  @Option(help: "Segmentation: each image pixel is this many pixels wide in the overlay.")
  var overlayScale = 4

  func validate() throws {
    guard !images.isEmpty else { throw ValidationError("give at least one image to classify") }
    guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") }
    guard overlayScale >= 1 else {
      throw ValidationError("--overlay-scale must be at least 1, got \(overlayScale)")
    }
    if let out {
      guard outDir == nil else { throw ValidationError("give --out or --out-dir, not both") }
      guard images.count == 1 else {
        throw ValidationError(
          "--out names one mask but \(images.count) images were given; use --out-dir")
      }
      guard out.lowercased().hasSuffix(".png") else {
        throw ValidationError("--out must name a .png file, got '\(out)'")
      }
    }
    if outDir != nil {
      var seen: [String: String] = [:]
      for path in images {
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        if let other = seen[stem] {
          throw ValidationError(
            "\(other) and \(path) would both write \(stem).png in --out-dir")
        }
        seen[stem] = path
      }
    }
  }

  func run() throws {
    try reportingErrors {
      let source = try PretrainedSource(model)
      if source.entry.task == .segmentation { return try predictSegmentation(source) }
      guard out == nil, outDir == nil else {
        throw ValidationErrorLine(
          message:
            "--out and --out-dir take masks of a segmentation model; \(source.entry.name) classifies"
        )
      }
      let trained = try TrainedModel(source)
      guard trained.entry.task == .classification, trained.inputShape.count == 3 else {
        throw ValidationErrorLine(
          message:
            "\(trained.entry.name) takes \(trained.inputShape.count == 1 ? "table rows" : "images per pixel"); predict classifies whole images"
        )
      }
      let shape = ImageShape(trained.inputShape)
      let (pixels, readable, failures) = try readImages(for: shape)
      let batch = LabeledImages(
        channels: shape.channels, height: shape.height, width: shape.width, pixels: pixels,
        labels: Array(repeating: 0, count: readable.count), classNames: trained.classNames)
      var paths = readable.makeIterator()
      for examples in trained.batches(.images(batch), batchSize: 64).evaluationBatches {
        let logits = try withoutGradients { try trained.model(examples.inputs) }
        for ranked in try topClasses(logits: logits, k: top) {
          print(paths.next()!)
          for choice in ranked {
            print(
              String(
                format: "  %6.2f%%  %@", 100 * choice.probability,
                trained.classNames[choice.classIndex]))
          }
        }
      }
      try endRun(failures: failures, couldNotBe: "read")
    }
  }
}
