/// A per-pixel class mask blended over its image in the fixed mask palette
/// (`Palette.maskColor`): class 0 is background and leaves the image untouched.
public struct MaskOverlay: Sendable {
  public let image: PlotImage
  /// One class index per pixel, row by row, `image.width * image.height` entries.
  public let mask: [Int]
  /// How strongly class colours cover the image, 0...1.
  public var opacity: Double
  /// Each image pixel becomes a `scale` x `scale` square.
  public let scale: Int

  public init(image: PlotImage, mask: [Int], opacity: Double = 0.5, scale: Int = 1) {
    precondition(
      mask.count == image.width * image.height,
      "a mask for a \(image.width)x\(image.height) image needs \(image.width * image.height) entries, got \(mask.count)"
    )
    precondition(mask.allSatisfy { $0 >= 0 }, "mask classes must be non-negative")
    precondition(scale > 0, "scale must be positive, got \(scale)")
    self.image = image
    self.mask = mask
    self.opacity = opacity
    self.scale = scale
  }

  public func render() -> Canvas {
    var canvas = Canvas(width: image.width * scale, height: image.height * scale)
    for y in 0..<image.height {
      for x in 0..<image.width {
        var color = image.color(x: x, y: y)
        if let overlay = Palette.maskColor(mask[y * image.width + x]) {
          color = color.mixed(with: overlay, amount: opacity)
        }
        canvas.fill(Rect(x: x * scale, y: y * scale, width: scale, height: scale), with: color)
      }
    }
    return canvas
  }
}

/// Image | truth | prediction side by side for segmentation: the true and the predicted masks
/// over the image, with pixel accuracy and mean IoU, and a legend of the classes that occur.
public struct SegmentationStrip: Sendable {
  public let image: PlotImage
  public let truth: [Int]
  public let prediction: [Int]
  /// Names for the legend, indexed by class; classes without a name show their number.
  public var classNames: [String]
  public var opacity = 0.5
  public var scale: Int
  public var textScale = 2

  public init(
    image: PlotImage, truth: [Int], prediction: [Int], classNames: [String] = [], scale: Int = 4
  ) {
    precondition(
      truth.count == image.width * image.height && prediction.count == truth.count,
      "a \(image.width)x\(image.height) image needs masks of \(image.width * image.height) pixels, "
        + "got truth \(truth.count) and prediction \(prediction.count)")
    self.image = image
    self.truth = truth
    self.prediction = prediction
    self.classNames = classNames
    self.scale = scale
  }

  /// The fraction of pixels whose predicted class is the true class.
  public var pixelAccuracy: Double {
    truth.isEmpty
      ? 0 : Double(zip(truth, prediction).filter { $0 == $1 }.count) / Double(truth.count)
  }

  /// Intersection over union averaged over the classes present in truth or prediction,
  /// background included.
  public var meanIoU: Double {
    let classes = Array(Set(truth + prediction)).sorted()
    guard !classes.isEmpty else { return 0 }
    let scores = classes.map { c -> Double in
      let both = zip(truth, prediction).filter { $0 == c && $1 == c }.count
      let either = zip(truth, prediction).filter { $0 == c || $1 == c }.count
      return Double(both) / Double(either)
    }
    return scores.reduce(0, +) / Double(scores.count)
  }

  public func render() -> Canvas {
    let margin = 12
    let spacing = 12
    let s = textScale
    let lineHeight = Canvas.textSize("0", scale: s).height
    let (panelWidth, panelHeight) = (image.width * scale, image.height * scale)
    let top = margin + lineHeight + 6
    let width = 2 * margin + 3 * panelWidth + 2 * spacing
    let summary =
      "pixel accuracy \(Format.percent(pixelAccuracy)), mean IoU \(Format.percent(meanIoU))"

    // Legend entries flow left to right and wrap at the strip's width.
    let swatch = BitmapFont.ascent * s
    let classes = Set(truth + prediction).filter { $0 != 0 }.sorted()
    var entries: [(name: String, color: RGBColor, x: Int, row: Int)] = []
    var (x, row) = (margin, 0)
    for c in classes {
      let name = c < classNames.count ? classNames[c] : "class \(c)"
      let entryWidth = swatch + 4 * s + Canvas.textSize(name, scale: s).width
      if x > margin && x + entryWidth > width - margin { (x, row) = (margin, row + 1) }
      entries.append((name, Palette.maskColor(c)!, x, row))
      x += entryWidth + 6 * s
    }
    let summaryTop = top + panelHeight + 10
    let legendTop = summaryTop + lineHeight + 6
    let rows = entries.isEmpty ? 0 : entries.last!.row + 1
    var canvas = Canvas(
      width: max(width, 2 * margin + Canvas.textSize(summary, scale: s).width),
      height: legendTop + rows * (lineHeight + 4) + margin - 4)

    let panels = [
      ("image", Array(repeating: 0, count: truth.count)), ("truth", truth),
      ("prediction", prediction),
    ]
    for (index, (label, mask)) in panels.enumerated() {
      let x = margin + index * (panelWidth + spacing)
      canvas.drawText(
        label, x: x + (panelWidth - Canvas.textSize(label, scale: s).width) / 2, y: margin,
        color: .ink, scale: s)
      canvas.draw(
        MaskOverlay(image: image, mask: mask, opacity: opacity, scale: scale).render(), x: x, y: top
      )
      canvas.stroke(
        Rect(x: x - 1, y: top - 1, width: panelWidth + 2, height: panelHeight + 2),
        with: RGBColor(hex: 0xCCCCCC))
    }
    canvas.drawText(summary, x: margin, y: summaryTop, color: .ink, scale: s)
    for entry in entries {
      let y = legendTop + entry.row * (lineHeight + 4)
      canvas.fill(Rect(x: entry.x, y: y, width: swatch, height: swatch), with: entry.color)
      canvas.drawText(entry.name, x: entry.x + swatch + 4 * s, y: y, color: .ink, scale: s)
    }
    return canvas
  }
}
