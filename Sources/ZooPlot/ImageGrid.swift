/// A grid of small images, each enlarged by a whole factor (nearest neighbour, so pixels stay
/// sharp) with a caption under it, such as test predictions in green when right and red when
/// wrong. Images may differ in size; each is centred in its cell.
public struct ImageGrid: Sendable {
  public struct Cell: Sendable {
    public var image: PlotImage
    /// One or more lines separated by "\n".
    public var caption: String
    public var captionColor: RGBColor

    public init(image: PlotImage, caption: String = "", captionColor: RGBColor = .ink) {
      self.image = image
      self.caption = caption
      self.captionColor = captionColor
    }

    /// "Sneaker 97%" in green when the prediction is the true class; otherwise in red, with
    /// the true class on a second line.
    public static func prediction(
      image: PlotImage, predicted: String, confidence: Double, truth: String
    ) -> Cell {
      let percent = Format.wholePercent(confidence)
      return predicted == truth
        ? Cell(image: image, caption: "\(predicted) \(percent)", captionColor: .correct)
        : Cell(
          image: image, caption: "\(predicted) \(percent)\ntrue: \(truth)", captionColor: .wrong)
    }
  }

  public var cells: [Cell]
  public let columns: Int
  /// Each image pixel becomes a `scale` x `scale` square.
  public let scale: Int
  public var title: String
  /// Font scale of captions; the title is one step larger.
  public var textScale = 1

  public init(cells: [Cell], columns: Int = 8, scale: Int = 3, title: String = "") {
    precondition(columns > 0 && scale > 0, "columns and scale must be positive")
    self.cells = cells
    self.columns = columns
    self.scale = scale
    self.title = title
  }

  /// Where image `index` is drawn in the rendered canvas.
  public func imageFrame(_ index: Int) -> Rect { imageFrame(index, in: layout) }

  public func render() -> Canvas {
    let layout = layout
    var canvas = Canvas(width: layout.width, height: layout.height)
    let titleSize = Canvas.textSize(title, scale: textScale + 1)
    canvas.drawText(
      title, x: (layout.width - titleSize.width) / 2, y: layout.margin, color: .ink,
      scale: textScale + 1)
    let lineHeight = Canvas.textSize("0", scale: textScale).height
    for (index, cell) in cells.enumerated() {
      let frame = imageFrame(index, in: layout)
      canvas.stroke(frame.insetBy(-1), with: RGBColor(hex: 0xCCCCCC))
      canvas.draw(cell.image, x: frame.x, y: frame.y, scale: scale)
      let origin = cellOrigin(index, in: layout)
      for (line, text) in captionLines(cell).enumerated() {
        let shown = fitted(text, width: layout.cellWidth)
        let width = Canvas.textSize(shown, scale: textScale).width
        canvas.drawText(
          shown, x: origin.x + (layout.cellWidth - width) / 2,
          y: origin.y + layout.imageHeight + 5 + line * (lineHeight + 1), color: cell.captionColor,
          scale: textScale)
      }
    }
    return canvas
  }

  private func cellOrigin(_ index: Int, in layout: Layout) -> (x: Int, y: Int) {
    (
      x: layout.margin + (index % columns) * (layout.cellWidth + layout.spacing),
      y: layout.top + (index / columns) * (layout.cellHeight + layout.spacing)
    )
  }

  private func imageFrame(_ index: Int, in layout: Layout) -> Rect {
    let image = cells[index].image
    let (width, height) = (image.width * scale, image.height * scale)
    let origin = cellOrigin(index, in: layout)
    return Rect(
      x: origin.x + (layout.cellWidth - width) / 2, y: origin.y + (layout.imageHeight - height) / 2,
      width: width, height: height)
  }

  private func captionLines(_ cell: Cell) -> [String] {
    cell.caption.isEmpty
      ? [] : cell.caption.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  }

  /// `text`, cut and ending in ".." when it is wider than `width`.
  private func fitted(_ text: String, width: Int) -> String {
    guard Canvas.textSize(text, scale: textScale).width > width else { return text }
    let fits = max((width / textScale + 1) / BitmapFont.advance - 2, 0)
    return String(text.prefix(fits)) + ".."
  }

  private struct Layout {
    var margin: Int
    var spacing: Int
    var top: Int
    var imageHeight: Int
    var cellWidth: Int
    var cellHeight: Int
    var width: Int
    var height: Int
  }

  /// Cells share one size: the largest image, and captions up to three image widths wide.
  private var layout: Layout {
    let margin = 12
    let spacing = 10
    let imageWidth = (cells.map { $0.image.width }.max() ?? 0) * scale
    let imageHeight = (cells.map { $0.image.height }.max() ?? 0) * scale
    let captionWidth =
      cells.flatMap(captionLines).map { Canvas.textSize($0, scale: textScale).width }.max() ?? 0
    let lines = cells.map { captionLines($0).count }.max() ?? 0
    let lineHeight = Canvas.textSize("0", scale: textScale).height
    let cellWidth = max(imageWidth + 2, min(captionWidth, 3 * imageWidth))
    let cellHeight = imageHeight + (lines == 0 ? 0 : 5 + lines * (lineHeight + 1))
    let top =
      margin + (title.isEmpty ? 0 : Canvas.textSize(title, scale: textScale + 1).height + 10)
    let shownColumns = max(min(columns, cells.count), 1)
    let rows = (cells.count + columns - 1) / columns
    let titleWidth = Canvas.textSize(title, scale: textScale + 1).width
    return Layout(
      margin: margin, spacing: spacing, top: top, imageHeight: imageHeight, cellWidth: cellWidth,
      cellHeight: cellHeight,
      width: max(
        2 * margin + shownColumns * cellWidth + (shownColumns - 1) * spacing,
        2 * margin + titleWidth),
      height: top + rows * cellHeight + max(rows - 1, 0) * spacing + margin)
  }
}
