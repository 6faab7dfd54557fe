import Testing
import ZooPlot

@Suite struct ChartTests {
  @Test func confusionMatrixDiagonalIsDarkerWhenItHoldsMore() {
    let chart = ConfusionMatrixChart(counts: [[8, 2], [1, 9]], classNames: ["cat", "dog"])
    let canvas = chart.render()
    // Sample near a corner, away from the printed count.
    func shade(_ truth: Int, _ prediction: Int) -> Double {
      let cell = chart.cellFrame(truth: truth, prediction: prediction)
      return canvas[cell.x + 3, cell.y + 3].luminance
    }
    #expect(shade(0, 0) < shade(0, 1))
    #expect(shade(1, 1) < shade(1, 0))
    #expect(chart.accuracy == 17.0 / 20)
  }

  @Test func confusionMatrixColoursByRowShare() {
    // 10 of 100 and 1 of 10 are the same share of their rows, so the same colour.
    let chart = ConfusionMatrixChart(counts: [[90, 10], [1, 9]], classNames: ["a", "b"])
    let canvas = chart.render()
    let rare = chart.cellFrame(truth: 1, prediction: 0)
    let common = chart.cellFrame(truth: 0, prediction: 1)
    #expect(canvas[rare.x + 2, rare.y + 2] == canvas[common.x + 2, common.y + 2])
  }

  @Test func confusionMatrixCountsPairsAndSurvivesEmptyRows() {
    let chart = ConfusionMatrixChart(
      truth: [0, 0, 1, 2], predictions: [0, 1, 1, 1], classNames: ["a", "b", "c", "d"])
    #expect(chart.counts == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
    #expect(chart.correct == 2 && chart.total == 4)
    #expect(chart.rowFraction(truth: 3, prediction: 3) == 0)
    let canvas = chart.render()
    let empty = chart.cellFrame(truth: 3, prediction: 0)
    #expect(canvas[empty.x + 2, empty.y + 2] == Palette.heat(0))
  }

  @Test func overlayLeavesBackgroundPixelsUnchanged() {
    let pixels: [UInt8] = (0..<(4 * 3 * 3)).map { UInt8($0 * 7) }
    let image = PlotImage(width: 4, height: 3, channels: 3, pixels: pixels, layout: .hwc)
    let mask = [0, 1, 2, 0, 0, 0, 1, 1, 3, 0, 0, 0]
    let canvas = MaskOverlay(image: image, mask: mask, opacity: 0.5, scale: 2).render()
    #expect((canvas.width, canvas.height) == (8, 6))
    for y in 0..<3 {
      for x in 0..<4 {
        let original = image.color(x: x, y: y)
        let expected =
          Palette.maskColor(mask[y * 4 + x]).map { original.mixed(with: $0, amount: 0.5) }
          ?? original
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
          #expect(canvas[2 * x + dx, 2 * y + dy] == expected, "pixel (\(x), \(y))")
        }
        if mask[y * 4 + x] != 0 { #expect(canvas[2 * x, 2 * y] != original) }
      }
    }
  }

  @Test func segmentationStripScoresAndLaysOutThreePanels() {
    let image = PlotImage(
      width: 4, height: 1, channels: 1, pixels: [10, 20, 30, 40], layout: .hwc)
    let strip = SegmentationStrip(
      image: image, truth: [0, 1, 1, 2], prediction: [0, 1, 2, 2], classNames: ["bg", "a", "b"],
      scale: 10)
    #expect(strip.pixelAccuracy == 0.75)
    // IoU: background 1/1, class 1 1/2, class 2 1/2.
    #expect(abs(strip.meanIoU - 2.0 / 3) < 1e-12)
    #expect(strip.render().width >= 3 * 40)
  }

  @Test func imageGridDrawsScaledImagesAndColoursCaptions() {
    let dark = PlotImage(width: 2, height: 2, channels: 1, pixels: [0, 50, 100, 150], layout: .hwc)
    let grid = ImageGrid(
      cells: [
        .prediction(image: dark, predicted: "Sneaker", confidence: 0.968, truth: "Sneaker"),
        .prediction(image: dark, predicted: "Shirt", confidence: 0.61, truth: "Coat"),
        ImageGrid.Cell(image: dark, caption: "plain"),
      ], columns: 2, scale: 5)
    #expect(grid.cells[0].caption == "Sneaker 97%" && grid.cells[0].captionColor == .correct)
    #expect(
      grid.cells[1].caption == "Shirt 61%\ntrue: Coat" && grid.cells[1].captionColor == .wrong)
    let canvas = grid.render()
    let frame = grid.imageFrame(1)
    #expect((frame.width, frame.height) == (10, 10))
    #expect(canvas[frame.x + 7, frame.y + 2] == RGBColor(grey: 50))
    #expect(canvas[frame.x + 2, frame.y + 9] == RGBColor(grey: 100))
    #expect(grid.imageFrame(2).y > frame.maxY && grid.imageFrame(2).x == grid.imageFrame(0).x)
    #expect(contains(canvas, .correct))
    #expect(contains(canvas, .wrong))
  }

  @Test func lineChartDrawsASinglePointAndEmptyPanels() {
    let chart = LineChart(
      title: "one point",
      panels: [
        .init(title: "a", yLabel: "y", series: [.init("only", values: [0.7], color: .wrong)]),
        .init(title: "b", yLabel: "y", series: []),
      ])
    let canvas = chart.render()
    #expect(canvas.width == 2 * chart.panelWidth + 24)
    #expect(contains(canvas, .wrong))
  }

  @Test func trainingCurvesLeaveOutMissingPanels() {
    let lossOnly = LineChart.trainingCurves(title: "t", trainLoss: [1, 0.8])
    #expect(lossOnly.panels.count == 1 && lossOnly.panels[0].series.map(\.name) == ["train"])
    let full = LineChart.trainingCurves(
      title: "t", trainLoss: [1, 0.8], validationLoss: [1.1, 0.9], trainAccuracy: [0.5, 0.6],
      validationAccuracy: [0.25, 0.5])
    #expect(full.panels.map { $0.series.count } == [2, 2])
    #expect(full.panels[1].series[1].values == [25, 50])
  }

  @Test func renderingIsDeterministic() throws {
    let chart = LineChart.trainingCurves(
      title: "again", trainLoss: [0.9, 0.61, 0.47, 0.4], validationLoss: [0.8, 0.66, 0.6, 0.61])
    #expect(try chart.render().png() == chart.render().png())
    let matrix = ConfusionMatrixChart(counts: [[5, 1], [2, 7]], classNames: ["x", "y"])
    #expect(try matrix.render().png() == matrix.render().png())
  }

  private func contains(_ canvas: Canvas, _ color: RGBColor) -> Bool {
    (0..<canvas.height).contains { y in (0..<canvas.width).contains { canvas[$0, y] == color } }
  }
}
