import Testing
import ZooPlot

@Suite struct HeatmapTests {
  @Test func signedMapsAreCentredOnZeroAndNonNegativeOnesSpanTheirRange() {
    let signed = Heatmap(width: 2, height: 1, values: [-0.5, 2], isSigned: true)
    #expect(signed.range == -2...2)
    let plain = Heatmap(width: 2, height: 1, values: [0.25, 0.75], isSigned: false)
    #expect(plain.range == 0.25...0.75)
  }

  /// Each value is a `scale` square in its colour; a value of 0 in a signed map over an image
  /// leaves the image as it is; the legend's bar runs from the top of the range down.
  @Test func drawsValuesAndLegend() {
    let image = PlotImage(width: 2, height: 1, channels: 1, pixels: [40, 200], layout: .hwc)
    var heatmap = Heatmap(
      width: 2, height: 1, values: [0, 1], isSigned: true, image: image, scale: 10)
    let canvas = heatmap.render()
    #expect(canvas[4 + 5, 4 + 5] == RGBColor(grey: 40))
    #expect(
      canvas[4 + 15, 4 + 5] == RGBColor(grey: 200).mixed(with: Palette.diverging(1), amount: 0.75))
    heatmap.image = nil
    let alone = heatmap.render()
    #expect(alone[4 + 15, 4 + 5] == Palette.diverging(1))
    #expect(alone[4 + 5, 4 + 5] == Palette.diverging(0.5))
    let barX = 4 + 20 + 8
    #expect(alone[barX + 2, 4] == Palette.diverging(1) || alone[barX + 2, 4] == .mutedInk)
    #expect(alone[barX + 2, 4 + 5] != alone[barX + 2, 4 + 9])
  }
}
