import Foundation
import Testing
import ZooData
import ZooPlot

/// The pixels of `canvas` inside `box` and outside it that are not the background.
func inkedPixels(_ canvas: Canvas, inside box: Rect) -> (inside: Int, outside: Int) {
  var counts = (inside: 0, outside: 0)
  for y in 0..<canvas.height {
    for x in 0..<canvas.width where canvas[x, y] != .white {
      if box.contains(x: x, y: y) { counts.inside += 1 } else { counts.outside += 1 }
    }
  }
  return counts
}

@Suite struct CanvasTests {
  @Test func horizontalLineSetsExactlyItsPixels() {
    var canvas = Canvas(width: 12, height: 3)
    canvas.drawLine(from: Point(x: 0, y: 0), to: Point(x: 9, y: 0), color: .black)
    for x in 0...9 { #expect(canvas[x, 0] == .black, "pixel (\(x), 0)") }
    #expect(canvas[10, 0] == .white)
    #expect(inkedPixels(canvas, inside: Rect(x: 0, y: 0, width: 10, height: 1)).outside == 0)
  }

  @Test func verticalLineSetsExactlyItsPixels() {
    var canvas = Canvas(width: 3, height: 8)
    canvas.drawLine(from: Point(x: 1, y: 6), to: Point(x: 1, y: 2), color: .black)
    let counts = inkedPixels(canvas, inside: Rect(x: 1, y: 2, width: 1, height: 5))
    #expect(counts == (inside: 5, outside: 0))
  }

  @Test func diagonalLineIsAntiAliased() {
    var canvas = Canvas(width: 20, height: 20)
    canvas.drawLine(from: Point(x: 2, y: 3), to: Point(x: 17, y: 11), color: .black, width: 1.5)
    #expect(canvas[2, 3] == .black)
    #expect(canvas[17, 11] == .black)
    let partial = canvas.pixels.filter { $0 != 0 && $0 != 255 }
    #expect(!partial.isEmpty)
    #expect(canvas[17, 3] == .white)
  }

  @Test func linesOutsideTheCanvasAreClipped() {
    var canvas = Canvas(width: 5, height: 5)
    canvas.drawLine(from: Point(x: -10, y: 2), to: Point(x: 20, y: 2), color: .black, width: 3)
    canvas.fill(Rect(x: 3, y: -4, width: 10, height: 5), with: .black)
    canvas.fillCircle(center: Point(x: -3, y: -3), radius: 2, color: .black)
    #expect(canvas[0, 2] == .black && canvas[4, 2] == .black)
    #expect(canvas[4, 0] == .black)
    #expect(canvas[0, 4] == .white)
  }

  @Test func letterStaysInsideItsBox() {
    var canvas = Canvas(width: 30, height: 30)
    canvas.drawText("A", x: 10, y: 8, color: .black, scale: 2)
    // A 5x7 glyph at scale 2: columns 10..<20, rows 8..<22.
    let counts = inkedPixels(canvas, inside: Rect(x: 10, y: 8, width: 10, height: 14))
    #expect(counts.inside > 20)
    #expect(counts.outside == 0)
    // The top row of "A" is ".###.": ink in the middle three columns only.
    #expect(canvas[10, 8] == .white && canvas[12, 8] == .black && canvas[17, 8] == .black)
    #expect(canvas[18, 8] == .white)
  }

  @Test func textSizeCoversGlyphsAndDescenders() {
    #expect(Canvas.textSize("abc", scale: 2) == (width: 34, height: 18))
    #expect(Canvas.textSize("", scale: 3) == (width: 0, height: 27))
    #expect(Canvas.textSize("ab", vertical: true) == (width: 9, height: 11))
    var canvas = Canvas(width: 40, height: 20)
    canvas.drawText("gjpqy,", x: 2, y: 2, color: .black)
    #expect(inkedPixels(canvas, inside: Rect(x: 2, y: 2, width: 35, height: 9)).outside == 0)
    let descent = inkedPixels(canvas, inside: Rect(x: 2, y: 9, width: 35, height: 2)).inside
    #expect(descent > 0)
  }

  @Test func verticalTextReadsUpwardsInsideItsBox() {
    var canvas = Canvas(width: 30, height: 30)
    canvas.drawText("AB", x: 5, y: 4, color: .black, vertical: true)
    let size = Canvas.textSize("AB", vertical: true)
    let counts = inkedPixels(
      canvas, inside: Rect(x: 5, y: 4, width: size.width, height: size.height))
    #expect(counts.inside > 0 && counts.outside == 0)
    // "A" comes first, at the bottom; the glyph tops face left, so its ".###." row is column 5.
    #expect(canvas[5, 14] == .white && canvas[5, 13] == .black && canvas[5, 11] == .black)
    #expect(canvas[5, 10] == .white)
  }

  @Test func charactersOutsideASCIIDrawAsQuestionMarks() {
    var accented = Canvas(width: 20, height: 12)
    accented.drawText("é", x: 1, y: 1, color: .black)
    var question = Canvas(width: 20, height: 12)
    question.drawText("?", x: 1, y: 1, color: .black)
    #expect(accented == question)
  }

  @Test func pngRoundTripKeepsSizeAndPixels() throws {
    let canvas = LineChart.trainingCurves(
      title: "round trip", trainLoss: [1, 0.5, 0.3], trainAccuracy: [0.5, 0.7, 0.8]
    ).render()
    let decoded = try ImageCodec.decode(try canvas.png(), path: "chart.png")
    #expect(decoded.width == canvas.width && decoded.height == canvas.height)
    #expect(decoded.channels == 3)
    #expect(decoded.pixels == canvas.pixels)
  }

  @Test func writeReplacesTheFileWithoutLeavingTemporaries() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zooplot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("chart.png")
    try Canvas(width: 4, height: 4, background: .black).write(to: url)
    var canvas = Canvas(width: 7, height: 5)
    canvas.drawText("1", x: 1, y: 0, color: .black)
    try canvas.write(to: url)
    let decoded = try ImageCodec.decode(contentsOf: url)
    #expect((decoded.width, decoded.height, decoded.channels) == (7, 5, 3))
    #expect(decoded.pixels == canvas.pixels)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["chart.png"])
  }

  @Test func writeIntoAMissingFolderThrows() {
    let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/chart.png")
    #expect {
      try Canvas(width: 2, height: 2).write(to: url)
    } throws: { error in
      guard case PlotError.cannotWrite(let path, _) = error else { return false }
      return path == url.path
    }
  }

  @Test func plotImageInterleavesPlanesAndScalesFloats() {
    let planes = PlotImage(
      width: 2, height: 1, channels: 3, pixels: [1, 2, 10, 20, 100, 200], layout: .chw)
    #expect(planes.pixels == [1, 10, 100, 2, 20, 200])
    #expect(planes.color(x: 1, y: 0) == RGBColor(red: 2, green: 20, blue: 200))
    let fixed = PlotImage(
      width: 4, height: 1, channels: 1, values: [-1, 0, 0.5, 2], layout: .hwc, range: 0...1)
    #expect(fixed.pixels == [0, 0, 128, 255])
    let stretched = PlotImage(
      width: 3, height: 1, channels: 1, values: [-2, .nan, 2], layout: .hwc, range: nil)
    #expect(stretched.pixels == [0, 0, 255])
  }
}
