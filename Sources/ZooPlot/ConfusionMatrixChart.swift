/// A confusion matrix as a heat map: rows are true classes, columns predicted classes. Each cell
/// is coloured by its share of the row (so rare classes read as clearly as common ones) and
/// shows its count when the count fits; the title gives the overall accuracy.
public struct ConfusionMatrixChart: Sendable {
  /// `counts[truth][prediction]`, N x N, non-negative.
  public let counts: [[Int]]
  public let classNames: [String]
  public var title: String
  public var cellSize = 56
  /// Font scale of labels and counts; counts drop to scale 1 when they do not fit a cell.
  public var textScale = 2
  /// Class names longer than this are cut and end in "..".
  public var maxNameLength = 12

  public init(counts: [[Int]], classNames: [String], title: String = "Confusion matrix") {
    precondition(
      counts.allSatisfy { $0.count == counts.count },
      "a confusion matrix must be square, got rows of lengths \(counts.map(\.count))")
    precondition(
      classNames.count == counts.count,
      "\(counts.count) classes in the matrix but \(classNames.count) class names")
    precondition(counts.joined().allSatisfy { $0 >= 0 }, "confusion counts must be non-negative")
    self.counts = counts
    self.classNames = classNames
    self.title = title
  }

  /// Counts the (truth, prediction) pairs of a test set.
  public init(
    truth: [Int], predictions: [Int], classNames: [String], title: String = "Confusion matrix"
  ) {
    precondition(
      truth.count == predictions.count,
      "\(truth.count) true labels but \(predictions.count) predictions")
    var counts = Array(
      repeating: Array(repeating: 0, count: classNames.count), count: classNames.count)
    let classes = 0..<classNames.count
    for (t, p) in zip(truth, predictions) {
      precondition(
        classes.contains(t) && classes.contains(p),
        "labels must lie in 0..<\(classNames.count) (one per class name), got truth \(t), prediction \(p)"
      )
      counts[t][p] += 1
    }
    self.init(counts: counts, classNames: classNames, title: title)
  }

  public var total: Int { counts.joined().reduce(0, +) }
  public var correct: Int { counts.indices.reduce(0) { $0 + counts[$1][$1] } }
  /// The fraction on the diagonal; 0 for an empty matrix.
  public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

  /// The share of row `truth` that cell (`truth`, `prediction`) holds; 0 for an empty row.
  public func rowFraction(truth: Int, prediction: Int) -> Double {
    let rowTotal = counts[truth].reduce(0, +)
    return rowTotal == 0 ? 0 : Double(counts[truth][prediction]) / Double(rowTotal)
  }

  /// Where the cell of (`truth`, `prediction`) lands in the rendered canvas.
  public func cellFrame(truth: Int, prediction: Int) -> Rect {
    let origin = layout.matrixOrigin
    return Rect(
      x: origin.x + prediction * cellSize, y: origin.y + truth * cellSize, width: cellSize,
      height: cellSize)
  }

  public func render() -> Canvas {
    let layout = layout
    let s = textScale
    let n = counts.count
    let side = n * cellSize
    var canvas = Canvas(width: layout.size.width, height: layout.size.height)
    let (left, top) = layout.matrixOrigin

    canvas.drawText(heading, x: layout.margin, y: layout.margin, color: .ink, scale: s)

    for truth in 0..<n {
      for prediction in 0..<n {
        let cell = cellFrame(truth: truth, prediction: prediction)
        let fraction = rowFraction(truth: truth, prediction: prediction)
        let fill = Palette.heat(fraction)
        canvas.fill(cell, with: fill)
        let text = String(counts[truth][prediction])
        let fitting = [s, 1].filter { Canvas.textSize(text, scale: $0).width <= cellSize - 6 }
        guard let scale = fitting.first else { continue }
        let size = Canvas.textSize(text, scale: scale)
        canvas.drawText(
          text, x: cell.x + (cellSize - size.width) / 2,
          y: cell.y + (cellSize - BitmapFont.ascent * scale) / 2,
          color: fill.luminance < 0.5 ? .white : (text == "0" ? .faintInk : .ink), scale: scale)
      }
    }
    // Thin white lines between cells, then the outer frame.
    for index in 1..<max(n, 1) {
      canvas.fill(Rect(x: left + index * cellSize, y: top, width: 1, height: side), with: .white)
      canvas.fill(Rect(x: left, y: top + index * cellSize, width: side, height: 1), with: .white)
    }
    canvas.stroke(Rect(x: left - 1, y: top - 1, width: side + 2, height: side + 2), with: .mutedInk)

    // Class names: rows on the left, right-aligned; columns below, reading upwards.
    let names = classNames.map(shortened)
    for (index, name) in names.enumerated() {
      let size = Canvas.textSize(name, scale: s)
      canvas.drawText(
        name, x: left - layout.gap - size.width,
        y: top + index * cellSize + (cellSize - BitmapFont.ascent * s) / 2, color: .ink, scale: s)
      canvas.drawText(
        name, x: left + index * cellSize + (cellSize - BitmapFont.ascent * s) / 2,
        y: top + side + layout.gap, color: .ink, scale: s, vertical: true)
    }

    // Axis titles.
    let predicted = "predicted"
    canvas.drawText(
      predicted, x: left + (side - Canvas.textSize(predicted, scale: s).width) / 2,
      y: top + side + layout.gap + layout.nameLength + layout.gap, color: .ink, scale: s)
    let truthLabel = "true"
    canvas.drawText(
      truthLabel, x: layout.margin,
      y: top + (side - Canvas.textSize(truthLabel, scale: s).width) / 2, color: .ink, scale: s,
      vertical: true)

    drawColorBar(on: &canvas, x: left + side + 3 * layout.gap, top: top, height: side)
    return canvas
  }

  /// A vertical scale from 0% (bottom) to 100% (top) of the row, beside the matrix.
  private func drawColorBar(on canvas: inout Canvas, x: Int, top: Int, height: Int) {
    let width = 14
    for row in 0..<height {
      canvas.fill(
        Rect(x: x, y: top + row, width: width, height: 1),
        with: Palette.heat(1 - Double(row) / Double(max(height - 1, 1))))
    }
    canvas.stroke(Rect(x: x - 1, y: top - 1, width: width + 2, height: height + 2), with: .mutedInk)
    for (fraction, label) in [(1.0, "100%"), (0.5, "50%"), (0.0, "0%")] {
      let y = top + Int((1 - fraction) * Double(height - 1))
      canvas.fill(Rect(x: x + width + 1, y: y, width: 4, height: 1), with: .mutedInk)
      let textTop = min(
        max(y - BitmapFont.ascent * textScale / 2, top),
        top + height - BitmapFont.ascent * textScale)
      canvas.drawText(label, x: x + width + 8, y: textTop, color: .mutedInk, scale: textScale)
    }
  }

  private var heading: String {
    "\(title)  accuracy \(Format.percent(accuracy)) (\(correct)/\(total))"
  }

  private func shortened(_ name: String) -> String {
    name.count <= maxNameLength ? name : String(name.prefix(max(maxNameLength - 2, 1))) + ".."
  }

  private struct Layout {
    var margin: Int
    var gap: Int
    var nameLength: Int
    var matrixOrigin: (x: Int, y: Int)
    var size: (width: Int, height: Int)
  }

  private var layout: Layout {
    let s = textScale
    let margin = 12
    let gap = 2 * s + 2
    let lineHeight = Canvas.textSize("0", scale: s).height
    let nameLength = classNames.map { Canvas.textSize(shortened($0), scale: s).width }.max() ?? 0
    let side = counts.count * cellSize
    let origin = (
      x: margin + lineHeight + gap + nameLength + gap, y: margin + lineHeight + 2 * gap
    )
    let colorBarWidth = 3 * gap + 14 + 8 + Canvas.textSize("100%", scale: s).width
    let headingWidth = Canvas.textSize(heading, scale: s).width
    return Layout(
      margin: margin, gap: gap, nameLength: nameLength, matrixOrigin: origin,
      size: (
        width: max(origin.x + side + colorBarWidth, margin + headingWidth) + margin,
        height: origin.y + side + gap + nameLength + gap + lineHeight + margin
      ))
  }
}
