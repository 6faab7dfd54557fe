import Foundation
import ZooPlot

/// A rendered canvas as an image a grid can hold.
func plotImage(_ canvas: Canvas) -> PlotImage {
  PlotImage(
    width: canvas.width, height: canvas.height, channels: 3, pixels: canvas.pixels, layout: .hwc)
}

/// Rows of cells side by side, each row an image (scaled up by `scale`) and its overlays.
func writeOverlayGrid(
  _ cells: [[PlotImage]], captions: [[String]], scale: Int, title: String, to url: URL
) throws {
  var grid: [ImageGrid.Cell] = []
  for (row, images) in cells.enumerated() {
    for (column, image) in images.enumerated() {
      var shown = image
      if column == 0 {
        var canvas = Canvas(width: image.width * scale, height: image.height * scale)
        canvas.draw(image, x: 0, y: 0, scale: scale)
        shown = plotImage(canvas)
      }
      grid.append(ImageGrid.Cell(image: shown, caption: captions[row][column]))
    }
  }
  var chart = ImageGrid(cells: grid, columns: cells.first?.count ?? 1, scale: 1, title: title)
  chart.textScale = 1
  try chart.render().write(to: url)
}
