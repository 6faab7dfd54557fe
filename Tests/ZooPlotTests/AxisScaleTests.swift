import Testing
import ZooPlot

@Suite struct AxisScaleTests {
  @Test func coversValuesWithRoundTicks() {
    let scale = AxisScale.covering([0.23, 0.91])
    #expect(scale == AxisScale(lower: 0.2, upper: 1.0, step: 0.2))
    #expect(scale.ticks.map(scale.label) == ["0.2", "0.4", "0.6", "0.8", "1.0"])
  }

  @Test func quarterStepsGetTwoDecimals() {
    let scale = AxisScale.covering([0, 1.2])
    #expect(scale.step == 0.25)
    #expect(scale.ticks.map(scale.label) == ["0.00", "0.25", "0.50", "0.75", "1.00", "1.25"])
  }

  @Test func epochsKeepWholeSteps() {
    let fifteen = AxisScale.covering((1...15).map(Double.init), integerSteps: true)
    #expect(fifteen == AxisScale(lower: 0, upper: 15, step: 5))
    let three = AxisScale.covering([1, 2, 3], integerSteps: true)
    #expect(three.step == 1 && three.ticks.map(three.label) == ["1", "2", "3"])
    let one = AxisScale.covering([1], integerSteps: true)
    #expect(one == AxisScale(lower: 0, upper: 2, step: 1))
  }

  @Test func singleAndEqualValuesGetARangeAroundThem() {
    for value in [0.5, -3.0, 1e-4, 2500] {
      let scale = AxisScale.covering([value, value])
      #expect(scale.lower < value && value < scale.upper, "\(value): \(scale)")
    }
    #expect(AxisScale.covering([0]) == AxisScale(lower: -1, upper: 1, step: 0.5))
    #expect(AxisScale.covering([]) == AxisScale(lower: 0, upper: 1, step: 0.2))
  }

  @Test func neverMoreTicksThanAskedAndAlwaysCovering() {
    let cases: [[Double]] = [
      [0.001, 0.0013], [-7, 3], [0.2, 0.9], [1200, 5300], [0, 99.5], [0.61, 0.62], [-0.05, 0.05],
    ]
    for values in cases {
      for maxTicks in [3, 5, 6, 10] {
        let scale = AxisScale.covering(values, maxTicks: maxTicks)
        #expect(scale.ticks.count <= maxTicks, "\(values) with \(maxTicks) ticks: \(scale)")
        #expect(scale.ticks.count >= 2)
        #expect(scale.lower <= values.min()! && values.max()! <= scale.upper)
      }
    }
  }

  @Test func labelsAvoidNegativeZeroAndFloatNoise() {
    let scale = AxisScale.covering([-0.3, 0.3])
    #expect(scale.ticks.map(scale.label) == ["-0.4", "-0.2", "0.0", "0.2", "0.4"])
    let thousands = AxisScale.covering([1200, 5300])
    #expect(
      thousands.ticks.map(thousands.label) == ["1000", "2000", "3000", "4000", "5000", "6000"])
  }

  @Test func panelScalesFollowTheSeries() {
    let epochs = LineChart.Panel(
      title: "", yLabel: "loss", series: [.init("train", values: [0.9, 0.5, 0.4])])
    #expect(epochs.scales.x == AxisScale(lower: 1, upper: 3, step: 1))
    #expect(epochs.scales.y == AxisScale(lower: 0.4, upper: 0.9, step: 0.1))
    let steps = LineChart.Panel(
      title: "", yLabel: "accuracy", series: [.init("train", values: [80, 90], xs: [0.5, 1.5])],
      yRange: 0...100)
    #expect(steps.scales.x.step < 1)
    #expect(steps.scales.y == AxisScale(lower: 0, upper: 100, step: 20))
  }
}
