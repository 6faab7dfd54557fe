/// Training curves: panels side by side, each with named series over epochs, axes with
/// labelled ticks, grid lines and a legend placed in the corner the curves leave most empty.
///
/// Input contract: every value and x must be finite. A diverged run should be cut before its
/// first NaN; a NaN or infinity stops the program with a precondition failure. Series may have
/// different lengths; a series with one point draws as a dot, an empty one only in the legend.
public struct LineChart: Sendable {
  public struct Series: Sendable {
    public var name: String
    public var values: [Double]
    /// The x of each value; nil means epochs 1, 2, 3, ...
    public var xs: [Double]?
    /// Nil takes the palette colour of the series' position in its panel, so "train" and
    /// "validation" keep their colours from panel to panel.
    public var color: RGBColor?
    /// False draws the points as small dots without a line: a scatter plot.
    public var connected: Bool

    public init(
      _ name: String, values: [Double], xs: [Double]? = nil, color: RGBColor? = nil,
      connected: Bool = true
    ) {
      precondition(
        xs == nil || xs!.count == values.count,
        "series \(name): \(values.count) values but \(xs!.count) xs")
      self.name = name
      self.values = values
      self.xs = xs
      self.color = color
      self.connected = connected
    }

    var points: [(x: Double, y: Double)] {
      values.indices.map { (x: xs?[$0] ?? Double($0 + 1), y: values[$0]) }
    }
  }

  public struct Panel: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// A range the y axis must cover besides the data (e.g. 0...100 for accuracy on its full
    /// scale); nil fits the data alone.
    public var yRange: ClosedRange<Double>?

    public init(
      title: String, xLabel: String = "epoch", yLabel: String, series: [Series],
      yRange: ClosedRange<Double>? = nil
    ) {
      self.title = title
      self.xLabel = xLabel
      self.yLabel = yLabel
      self.series = series
      self.yRange = yRange
    }

    /// The axes that fit this panel's data. The x axis keeps whole-number ticks when every x
    /// is a whole number (epochs).
    public var scales: (x: AxisScale, y: AxisScale) {
      for line in series {
        precondition(
          line.values.allSatisfy(\.isFinite) && (line.xs ?? []).allSatisfy(\.isFinite),
          "series \(line.name): a line chart needs finite values and xs, got NaN or infinity; "
            + "cut a diverged run before its first NaN")
      }
      let points = series.flatMap(\.points)
      let xs = points.map(\.x)
      let ys = points.map(\.y) + (yRange.map { [$0.lowerBound, $0.upperBound] } ?? [])
      return (
        AxisScale.covering(xs, integerSteps: xs.allSatisfy { $0.rounded() == $0 }),
        AxisScale.covering(ys)
      )
    }
  }

  public var title: String
  public var panels: [Panel]
  public var panelWidth = 520
  public var panelHeight = 380
  /// Font scale of labels; the title is one step larger.
  public var textScale = 2

  public init(title: String, panels: [Panel]) {
    self.title = title
    self.panels = panels
  }

  /// Loss on the left and accuracy (given as fractions, shown in percent) on the right, training
  /// and validation in each. Empty arrays leave a series out, and the accuracy panel when both
  /// accuracies are empty.
  public static func trainingCurves(
    title: String, trainLoss: [Double], validationLoss: [Double] = [],
    trainAccuracy: [Double] = [], validationAccuracy: [Double] = []
  ) -> LineChart {
    func pair(_ train: [Double], _ validation: [Double]) -> [Series] {
      [Series("train", values: train, color: Palette.categorical(0))]
        + (validation.isEmpty
          ? [] : [Series("validation", values: validation, color: Palette.categorical(1))])
    }
    var panels = [
      Panel(title: "Loss", yLabel: "loss", series: pair(trainLoss, validationLoss))
    ]
    if !trainAccuracy.isEmpty || !validationAccuracy.isEmpty {
      panels.append(
        Panel(
          title: "Accuracy", yLabel: "accuracy (%)",
          series: pair(trainAccuracy.map { $0 * 100 }, validationAccuracy.map { $0 * 100 })
            .filter { !$0.values.isEmpty }))
    }
    return LineChart(title: title, panels: panels)
  }

  public func render() -> Canvas {
    let margin = 12
    let titleHeight = title.isEmpty ? 0 : Canvas.textSize(title, scale: textScale + 1).height + 12
    var canvas = Canvas(
      width: max(panels.count, 1) * panelWidth + 2 * margin,
      height: titleHeight + panelHeight + 2 * margin)
    canvas.drawText(
      title, x: (canvas.width - Canvas.textSize(title, scale: textScale + 1).width) / 2,
      y: margin, color: .ink, scale: textScale + 1)
    for (index, panel) in panels.enumerated() {
      canvas.draw(
        render(panel), x: margin + index * panelWidth, y: margin + titleHeight)
    }
    return canvas
  }

  /// One panel: title, plot frame with grid and ticks, axis labels, curves, legend.
  private func render(_ panel: Panel) -> Canvas {
    var canvas = Canvas(width: panelWidth, height: panelHeight)
    let (xScale, yScale) = panel.scales
    let s = textScale
    let lineHeight = Canvas.textSize("0", scale: s).height
    let tickLength = 5
    let gap = 2 * s + 2

    let yTickWidth = yScale.ticks.map { Canvas.textSize(yScale.label($0), scale: s).width }.max()!
    let left = lineHeight + gap + yTickWidth + gap + tickLength
    let top = lineHeight + 2 * gap
    let right = max(2 * gap, Canvas.textSize(xScale.label(xScale.upper), scale: s).width / 2 + 2)
    let bottom = tickLength + gap + lineHeight + gap + lineHeight + gap
    let frame = Rect(
      x: left, y: top, width: panelWidth - left - right, height: panelHeight - top - bottom)

    // The axis ends sit a few pixels inside the frame, so points on them stay visible.
    let inner = 8
    func px(_ x: Double) -> Double {
      Double(frame.x + inner) + xScale.fraction(x) * Double(frame.width - 1 - 2 * inner)
    }
    func py(_ y: Double) -> Double {
      Double(frame.maxY - 1 - inner) - yScale.fraction(y) * Double(frame.height - 1 - 2 * inner)
    }

    drawCentered(panel.title, in: &canvas, centerX: frame.x + frame.width / 2, y: 0, scale: s)

    // Grid, ticks and tick labels.
    for tick in xScale.ticks {
      let x = Int(px(tick).rounded())
      canvas.fill(Rect(x: x, y: frame.y, width: 1, height: frame.height), with: .grid)
      canvas.fill(Rect(x: x, y: frame.maxY, width: 1, height: tickLength), with: .mutedInk)
      drawCentered(
        xScale.label(tick), in: &canvas, centerX: x, y: frame.maxY + tickLength + gap, scale: s,
        color: .mutedInk)
    }
    for tick in yScale.ticks {
      let y = Int(py(tick).rounded())
      canvas.fill(Rect(x: frame.x, y: y, width: frame.width, height: 1), with: .grid)
      canvas.fill(
        Rect(x: frame.x - tickLength, y: y, width: tickLength, height: 1), with: .mutedInk)
      let label = yScale.label(tick)
      let size = Canvas.textSize(label, scale: s)
      canvas.drawText(
        label, x: frame.x - tickLength - gap - size.width,
        y: y - BitmapFont.ascent * s / 2, color: .mutedInk, scale: s)
    }
    canvas.stroke(frame.insetBy(-1), with: .mutedInk)

    // Axis labels.
    drawCentered(
      panel.xLabel, in: &canvas, centerX: frame.x + frame.width / 2,
      y: frame.maxY + tickLength + gap + lineHeight + gap, scale: s)
    let yLabelHeight = Canvas.textSize(panel.yLabel, scale: s).width
    canvas.drawText(
      panel.yLabel, x: 0, y: frame.y + (frame.height - yLabelHeight) / 2, color: .ink, scale: s,
      vertical: true)

    // Curves, with a dot on each point while points are few enough to tell apart.
    let colors = panel.series.indices.map { panel.series[$0].color ?? Palette.categorical($0) }
    let dotted = panel.series.map { $0.values.count <= 30 || !$0.connected }
    var curves: [[Point]] = []
    for (index, series) in panel.series.enumerated() {
      let (color, points) = (colors[index], series.points.map { Point(x: px($0.x), y: py($0.y)) })
      guard series.connected else {
        for point in points { canvas.fillCircle(center: point, radius: 1.5, color: color) }
        continue
      }
      curves.append(points)
      canvas.drawPolyline(points, color: color, width: 2)
      if dotted[index] {
        for point in points {
          canvas.fillCircle(center: point, radius: points.count == 1 ? 4 : 2.5, color: color)
        }
      }
    }

    drawLegend(
      names: panel.series.map(\.name), colors: colors, dotted: dotted, avoiding: curves,
      in: frame, on: &canvas)
    return canvas
  }

  private func drawLegend(
    names: [String], colors: [RGBColor], dotted: [Bool], avoiding curves: [[Point]],
    in frame: Rect, on canvas: inout Canvas
  ) {
    guard !names.isEmpty else { return }
    let s = textScale
    let lineHeight = Canvas.textSize("0", scale: s).height
    let swatch = 8 * s + 4
    let padding = 3 * s + 2
    let nameWidth = names.map { Canvas.textSize($0, scale: s).width }.max()!
    let size = (
      width: padding + swatch + padding + nameWidth + padding,
      height: padding + names.count * (lineHeight + s) - s + padding
    )
    let inset = 8
    let corners = [
      (x: frame.maxX - inset - size.width, y: frame.y + inset),
      (x: frame.maxX - inset - size.width, y: frame.maxY - inset - size.height),
      (x: frame.x + inset, y: frame.y + inset),
      (x: frame.x + inset, y: frame.maxY - inset - size.height),
    ].map { Rect(x: $0.x, y: $0.y, width: size.width, height: size.height) }
    let box = corners.min { covered($0, by: curves) < covered($1, by: curves) }!

    canvas.fill(box, with: .white)
    canvas.stroke(box, with: RGBColor(hex: 0xBBBBBB))
    for (index, (name, color)) in zip(names, colors).enumerated() {
      let top = box.y + padding + index * (lineHeight + s)
      let middle = Double(top) + Double(BitmapFont.ascent * s) / 2 - 0.5
      let left = Double(box.x + padding)
      canvas.drawLine(
        from: Point(x: left, y: middle), to: Point(x: left + Double(swatch - 1), y: middle),
        color: color, width: 2)
      if dotted[index] {
        canvas.fillCircle(
          center: Point(x: left + Double(swatch - 1) / 2, y: middle), radius: 2.5, color: color)
      }
      canvas.drawText(name, x: box.x + padding + swatch + padding, y: top, color: .ink, scale: s)
    }
  }

  /// How much of the curves passes through `box`: points sampled every pixel along each curve.
  private func covered(_ box: Rect, by curves: [[Point]]) -> Int {
    let area = box.insetBy(-4)
    var count = 0
    for curve in curves {
      let segments =
        curve.count == 1 ? [(curve[0], curve[0])] : Array(zip(curve, curve.dropFirst()))
      for (a, b) in segments {
        let steps = max(1, Int(max(abs(b.x - a.x), abs(b.y - a.y))))
        for step in 0...steps {
          let t = Double(step) / Double(steps)
          let (x, y) = (a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t)
          if area.contains(x: Int(x.rounded()), y: Int(y.rounded())) { count += 1 }
        }
      }
    }
    return count
  }

  private func drawCentered(
    _ text: String, in canvas: inout Canvas, centerX: Int, y: Int, scale: Int,
    color: RGBColor = .ink
  ) {
    let width = Canvas.textSize(text, scale: scale).width
    canvas.drawText(text, x: centerX - width / 2, y: y, color: color, scale: scale)
  }
}
