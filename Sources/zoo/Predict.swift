import ArgumentParser
import Foundation
import Zoo
import ZooData
import ZooTensor

struct Predict: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Classify images with a trained model: the most probable classes and their probabilities.",
    discussion: """
      Each image is converted to the model's channels, resized to cover its input and centre \
      cropped, then normalised by the statistics stored in the weight file. An image that \
      cannot be read is reported and the others are still classified; the exit status is then 1.
      """)

  @Argument(help: "A weight file written by `zoo train`, or a shipped weight file's name.")
  var model: String

  @Argument(help: "JPEG or PNG images to classify.")
  var images: [String] = []

  @Option(help: "How many classes to show per image.")
  var top = 5

  func validate() throws {
    guard !images.isEmpty else { throw ValidationError("give at least one image to classify") }
    guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") }
  }

  func run() throws {
    try reportingErrors {
      let trained = try TrainedModel(model)
      guard trained.entry.task == .classification, trained.inputShape.count == 3 else {
        throw ValidationErrorLine(
          message:
            "\(trained.entry.name) takes \(trained.inputShape.count == 1 ? "table rows" : "images per pixel"); predict classifies whole images"
        )
      }
      let shape = ImageShape(trained.inputShape)
      var pixels: [UInt8] = []
      var readable: [String] = []
      var failures = 0
      for path in images {
        do {
          let image = try ImageCodec.decode(contentsOf: URL(fileURLWithPath: path))
          pixels += ImageTransforms.prepare(image, for: shape)
          readable.append(path)
        } catch let error as ImageError {
          FileHandle.standardError.write(Data("error: \(error.errorDescription!)\n".utf8))
          failures += 1
        }
      }
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
      if failures > 0 {
        throw ValidationErrorLine(
          message: "\(failures) of \(images.count) images could not be read")
      }
    }
  }
}
