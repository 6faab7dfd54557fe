import Foundation
import Zoo
import ZooData
import ZooPlot

// What the segmentation commands print and draw, shared by `zoo evaluate`, `zoo predict`,
// `zoo scenes` and `zoo train --task segment`.

/// Pixel accuracy and the mean scores on one line.
func scoreLine(_ scores: SegmentationScores) -> String {
  String(
    format: "pixel accuracy %.2f%%, mean IoU %.4f, mean Dice %.4f, foreground IoU %.4f",
    100 * scores.pixelAccuracy, scores.meanIoU, scores.meanDice, scores.foregroundIoU)
}

/// IoU and Dice of each class, one line each, for classes that occur.
func perClassLines(_ scores: SegmentationScores, classNames: [String]) -> [String] {
  zip(scores.perClassIoU, scores.perClassDice).enumerated().compactMap { c, pair in
    guard let iou = pair.0, let dice = pair.1 else { return nil }
    let name = c < classNames.count ? classNames[c] : "class \(c)"
    let padded = name.padding(toLength: max(name.count, 12), withPad: " ", startingAt: 0)
    return "  \(padded) " + String(format: "IoU %.4f  Dice %.4f", iou, dice)
  }
}

/// The image under its mask, `scale` times, as a PNG-ready canvas.
func overlay(pixels: [UInt8], channels: Int, width: Int, height: Int, mask: [Int], scale: Int = 4)
  -> Canvas
{
  let image = PlotImage(
    width: width, height: height, channels: channels, pixels: pixels, layout: .chw)
  return MaskOverlay(image: image, mask: mask, scale: scale).render()
}

/// Image `index` of `set` | its true mask | `prediction` (that image's predicted classes).
func segmentationStrip(_ set: SegmentationSet, index: Int, prediction: ArraySlice<Int>) -> Canvas {
  let image = PlotImage(
    width: set.width, height: set.height, channels: set.channels, pixels: Array(set.image(index)),
    layout: .chw)
  return SegmentationStrip(
    image: image, truth: set.mask(index), prediction: Array(prediction),
    classNames: set.classNames
  ).render()
}

extension SegmentationEvaluation {
  /// The predicted classes of image `index`, from predictions kept mask after mask.
  func prediction(_ index: Int, plane: Int) -> ArraySlice<Int> {
    predictions[(index * plane)..<((index + 1) * plane)]
  }
}
