import Foundation
import Testing
import ZooData
import ZooPlot

/// Sample charts for looking at by eye. Set ZOOPLOT_EXAMPLES to a folder to write them there.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ZOOPLOT_EXAMPLES"] != nil))
struct ExampleImages {
  let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment["ZOOPLOT_EXAMPLES"] ?? ".")

  @Test func trainingCurves() throws {
    let epochs = (1...15).map(Double.init)
    let trainLoss = epochs.map { 0.22 + 0.75 * exp(-$0 / 3) }
    let validationLoss = epochs.map {
      0.30 + 0.6 * exp(-$0 / 3.5) + 0.004 * $0 + 0.01 * sin(3 * $0)
    }
    let trainAccuracy = trainLoss.map { 1.02 - 0.55 * $0 }
    let validationAccuracy = validationLoss.map { 1.0 - 0.5 * $0 }
    let chart = LineChart.trainingCurves(
      title: "LeNet-5 on Fashion-MNIST", trainLoss: trainLoss, validationLoss: validationLoss,
      trainAccuracy: trainAccuracy, validationAccuracy: validationAccuracy)
    try chart.render().write(to: folder.appendingPathComponent("training-curves.png"))
    let single = LineChart.trainingCurves(
      title: "After one epoch", trainLoss: [0.61], validationLoss: [0.55], trainAccuracy: [0.78],
      validationAccuracy: [0.8])
    try single.render().write(to: folder.appendingPathComponent("training-curves-one-epoch.png"))
  }

  @Test func confusionMatrix() throws {
    // A plausible test-set matrix: shirts, T-shirts, pullovers and coats get mixed up.
    let confusions: [Int: [Int: Int]] = [
      0: [6: 95, 3: 20, 2: 10], 1: [3: 12], 2: [4: 70, 6: 60], 3: [4: 25, 0: 15, 6: 20],
      4: [2: 80, 6: 50, 3: 22], 5: [7: 25, 9: 10], 6: [0: 120, 2: 75, 4: 60, 3: 20],
      7: [5: 22, 9: 28], 8: [6: 8, 4: 4], 9: [7: 30, 5: 5],
    ]
    let counts = (0..<10).map { truth in
      var row = (0..<10).map { confusions[truth]?[$0] ?? 0 }
      row[truth] = 1000 - row.reduce(0, +)
      return row
    }
    let chart = ConfusionMatrixChart(
      counts: counts, classNames: FashionMNIST.classNames, title: "LeNet-5, Fashion-MNIST test")
    try chart.render().write(to: folder.appendingPathComponent("confusion-matrix.png"))
  }

  @Test func predictionGrid() throws {
    let cells: [ImageGrid.Cell]
    if FashionMNIST.isInstalled {
      let test = try FashionMNIST.load(.test)
      cells = (0..<24).map { index in
        let truth = test.labels[index]
        let wrong = index % 7 == 3
        let predicted = wrong ? (truth + 4) % 10 : truth
        return .prediction(
          image: PlotImage(test, index: index), predicted: test.classNames[predicted],
          confidence: wrong ? 0.55 + 0.01 * Double(index) : 0.99 - 0.005 * Double(index),
          truth: test.classNames[truth])
      }
    } else {
      cells = (0..<24).map { index in
        let pixels = (0..<(28 * 28)).map { UInt8(($0 * (index + 1)) % 256) }
        return .prediction(
          image: PlotImage(width: 28, height: 28, channels: 1, pixels: pixels, layout: .hwc),
          predicted: "class \(index % 5)", confidence: 0.9, truth: "class \(index % 3)")
      }
    }
    let grid = ImageGrid(cells: cells, columns: 8, scale: 3, title: "Test predictions")
    try grid.render().write(to: folder.appendingPathComponent("prediction-grid.png"))
  }

  @Test func segmentationStrip() throws {
    let size = 48
    var pixels: [UInt8] = []
    var truth: [Int] = []
    var prediction: [Int] = []
    for y in 0..<size {
      for x in 0..<size {
        let disk = (x - 16) * (x - 16) + (y - 16) * (y - 16)
        let ground = y >= 38
        let box = (26..<42).contains(x) && (18..<36).contains(y)
        pixels.append(UInt8(ground ? 90 : (disk < 100 ? 220 : (box ? 160 : 40 + 2 * y))))
        truth.append(ground ? 3 : (disk < 100 ? 1 : (box ? 2 : 0)))
        let predictedBox = (28..<42).contains(x) && (16..<37).contains(y)
        prediction.append(y >= 37 ? 3 : (disk < 120 ? 1 : (predictedBox ? 2 : 0)))
      }
    }
    let image = PlotImage(width: size, height: size, channels: 1, pixels: pixels, layout: .hwc)
    let strip = SegmentationStrip(
      image: image, truth: truth, prediction: prediction,
      classNames: ["background", "sun", "house", "ground"], scale: 4)
    try strip.render().write(to: folder.appendingPathComponent("segmentation-strip.png"))
  }

  @Test func fontSheet() throws {
    let lines = stride(from: 32, to: 127, by: 24).map { start in
      String((start..<min(start + 24, 127)).map { Character(UnicodeScalar(UInt8($0))) })
    }
    var canvas = Canvas(width: 24 * 6 * 3 + 20, height: lines.count * 30 + 20)
    for (row, line) in lines.enumerated() {
      canvas.drawText(line, x: 10, y: 10 + row * 30, color: .ink, scale: 3)
    }
    try canvas.write(to: folder.appendingPathComponent("font.png"))
  }
}
