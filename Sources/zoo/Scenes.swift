import ArgumentParser
import Foundation
import Zoo
import ZooData
import ZooPlot

/// `zoo scenes`: the built-in segmentation scenes written out as a mask folder.
struct Scenes: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write built-in Fashion-MNIST scenes as images/ and masks/ PNGs (a mask folder).",
    discussion:
      "The folder reads back with --data folder:DIR. Masks hold one class per pixel (0 background, k + 1 for Fashion-MNIST class k), or 0/255 with --binary. See Docs/segmentation.md."
  )

  @Option(help: ArgumentHelp("Folder to write images/ and masks/ into.", valueName: "dir"))
  var out: String

  @Option(help: "Split: train or held-out.")
  var split: String = FashionScenes.Split.heldOut.rawValue

  @Option(help: "Scenes to write, from the first.")
  var count = 8

  @Flag(help: "Binary masks (0 background, 255 garment).")
  var binary = false

  @Flag(help: "Also write each mask over its scene, 4x, into overlays/.")
  var overlays = false

  @Option(
    help: ArgumentHelp(
      "A segmentation model trained on the scenes: overlays show truth and prediction side by side, and its scores on these scenes are printed.",
      valueName: "model.h5"))
  var model: String?

  func validate() throws {
    guard FashionScenes.Split(rawValue: split) != nil else {
      throw ValidationError("--split must be train or held-out, got '\(split)'")
    }
    guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
  }

  func run() throws {
    try reportingErrors {
      let split = FashionScenes.Split(rawValue: split)!
      var scenes = try FashionScenes.make(
        split, garments: try FashionMNIST.load(.test), count: count)
      if binary { scenes = scenes.binary() }
      let segmenter = try model.map { path in
        let weights = try readWeightFile(path)
        return try namingWeightFile(path) { try TrainedSegmenter(weights: weights, source: path) }
      }
      let evaluation = try segmenter?.evaluate(scenes)
      let root = URL(fileURLWithPath: out)
      for folder in ["images", "masks"] + (overlays ? ["overlays"] : []) {
        try FileManager.default.createDirectory(
          at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
      }
      let size = FashionScenes.size
      for i in 0..<scenes.count {
        let name = String(format: "%@-%04d.png", split.rawValue, i)
        let mask = scenes.mask(i)
        try Data(
          try ImageCodec.encodePNG(
            DecodedImage(width: size, height: size, channels: 1, pixels: Array(scenes.image(i))))
        ).write(to: root.appendingPathComponent("images/\(name)"))
        try Data(
          try MaskFolder.encodePNG(
            mask, width: size, height: size, classCount: scenes.classCount)
        ).write(to: root.appendingPathComponent("masks/\(name)"))
        if overlays {
          let url = root.appendingPathComponent("overlays/\(name)")
          if let evaluation {
            try segmentationStrip(
              scenes, index: i, prediction: evaluation.prediction(i, plane: scenes.plane)
            ).write(to: url)
          } else {
            try overlay(
              pixels: Array(scenes.image(i)), channels: 1, width: size, height: size, mask: mask
            ).write(to: url)
          }
        }
      }
      print("wrote \(scenes.count) \(split.rawValue) scenes to \(root.path)")
      if let evaluation {
        print("\(model!) on these scenes: \(scoreLine(evaluation.scores))")
        for line in perClassLines(evaluation.scores, classNames: scenes.classNames) {
          print(line)
        }
      }
    }
  }
}
