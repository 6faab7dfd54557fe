import Foundation
import ZooNN
import ZooTensor

// KernelSHAP (Lundberg and Lee 2017, "A Unified Approach to Interpreting Model Predictions")
// over image regions: a coalition keeps some regions of the image and fills the rest from a
// background; the Shapley values are the weighted least-squares fit of the coalitions' scores
// under the Shapley kernel, constrained so that they sum to f(x) - f(background) (efficiency
// holds exactly, as in the shap package). When the budget covers every coalition they are all
// enumerated with their kernel weights, which gives the exact Shapley values; otherwise
// coalition sizes are drawn from the kernel's distribution, each with its complement.

/// Shapley values of image regions by KernelSHAP.
public struct KernelSHAP: AttributionMethod {
  /// Patch grid: rows and columns of regions.
  public var gridRows: Int
  public var gridColumns: Int
  /// About this many SLIC superpixels per image instead of the grid; `values` then has as many
  /// columns as the image with the most, zero where an image has fewer.
  public var superpixels: Int?
  public var masking: RegionMasking
  /// Coalitions evaluated per image, besides the full and the empty one.
  public var samples: Int
  public var seed: UInt64
  /// Coalitions per forward pass.
  public var batchSize: Int

  public init(
    grid: Int = 4, masking: RegionMasking = .value(0), samples: Int = 512,
    superpixels: Int? = nil, seed: UInt64 = 0, batchSize: Int = 128
  ) {
    self.gridRows = grid
    self.gridColumns = grid
    self.superpixels = superpixels
    self.masking = masking
    self.samples = samples
    self.seed = seed
    self.batchSize = batchSize
  }

  public var name: String { "kernelshap" }
  public var isSigned: Bool { true }

  public func attribute(_ model: Module, inputs: Tensor, classes: [Int]) throws -> Attribution {
    try checkRequest(inputs, classes: classes)
    guard samples >= 1 else {
      throw ExplainError.invalidSetting("KernelSHAP needs at least 1 coalition, got \(samples)")
    }
    if case .blur(let radius) = masking, radius < 0 {
      throw ExplainError.invalidSetting("the blur radius must be at least 0, got \(radius)")
    }
    let (channels, height, width) = (inputs.shape[1], inputs.shape[2], inputs.shape[3])
    let grid = try ImageRegions.grid(
      height: height, width: width, rows: gridRows, columns: gridColumns)
    let size = inputs.count / inputs.shape[0]
    let partitions = try (0..<inputs.shape[0]).map { row in
      try superpixels.map {
        try ImageRegions.superpixels(
          Array(inputs.scalars[(row * size)..<((row + 1) * size)]), channels: channels,
          height: height, width: width, count: $0)
      } ?? grid
    }
    let columns = partitions.map(\.count).max() ?? grid.count
    var generator = SeededGenerator(seed: seed)
    var values: [Float] = []
    var heatmap: [Float] = []
    var deltas: [Float] = []
    for (row, regions) in partitions.enumerated() {
      let image = Array(inputs.scalars[(row * size)..<((row + 1) * size)])
      let background = masking.background(image, channels: channels, height: height, width: width)
      let game = { (members: [[Bool]]) throws -> [Double] in
        let batch = maskedImages(
          image, background: background, shape: Array(inputs.shape.dropFirst()),
          regions: regions, coalitions: members)
        return try scores(
          model, batch, classes: Array(repeating: classes[row], count: members.count),
          batchSize: batchSize
        ).map(Double.init)
      }
      let phi = try Self.shapleyValues(
        players: regions.count, budget: samples, generator: &generator, game: game)
      let ends = try game([
        [Bool](repeating: true, count: regions.count),
        [Bool](repeating: false, count: regions.count),
      ])
      deltas.append(Float(phi.reduce(0, +) - (ends[0] - ends[1])))
      values += phi.map(Float.init) + [Float](repeating: 0, count: columns - phi.count)
      heatmap += regions.paint(phi.map(Float.init))
    }
    return Attribution(
      classes: classes, values: Tensor(shape: [inputs.shape[0], columns], scalars: values),
      heatmap: Tensor(shape: [inputs.shape[0], height, width], scalars: heatmap),
      convergenceDelta: deltas)
  }

  /// KernelSHAP's estimate of the Shapley values of a game of `players`, where `game` gives the
  /// value of each coalition (true = the player is in). Evaluates the full and empty coalitions
  /// and at most `budget` others.
  public static func shapleyValues(
    players: Int, budget: Int, generator: inout SeededGenerator,
    game: ([[Bool]]) throws -> [Double]
  ) throws -> [Double] {
    guard players >= 1 else {
      throw ExplainError.invalidSetting("KernelSHAP needs at least 1 region, got \(players)")
    }
    let ends = try game([
      [Bool](repeating: true, count: players), [Bool](repeating: false, count: players),
    ])
    let total = ends[0] - ends[1]
    guard players >= 2 else { return [total] }
    let sampled = coalitions(players: players, budget: budget, generator: &generator)
    let values = try game(sampled.map(\.members))
    // With the last player eliminated by the constraint sum(phi) = total, fit
    // f(z) - f(empty) - z_last * total = sum_i<last (z_i - z_last) phi_i by weighted least squares.
    let m = players - 1
    var normal = [Double](repeating: 0, count: m * m)
    var right = [Double](repeating: 0, count: m)
    for ((members, weight), value) in zip(sampled, values) {
      let last = members[m] ? 1.0 : 0.0
      let x = (0..<m).map { (members[$0] ? 1.0 : 0.0) - last }
      let y = value - ends[1] - last * total
      for i in 0..<m where x[i] != 0 {
        right[i] += weight * x[i] * y
        for j in 0..<m where x[j] != 0 { normal[i * m + j] += weight * x[i] * x[j] }
      }
    }
    let phi = solveSymmetric(normal, right, size: m)
    return phi + [total - phi.reduce(0, +)]
  }

  /// The coalitions to evaluate with their regression weights: all of them with the Shapley
  /// kernel's weights when the budget allows, else sampled pairs (z and its complement) with
  /// sizes drawn from the kernel, each weighted by how often it was drawn.
  static func coalitions(players: Int, budget: Int, generator: inout SeededGenerator)
    -> [(members: [Bool], weight: Double)]
  {
    let kernel = (1..<players).map { s in Double(players - 1) / Double(s * (players - s)) }
    if players < 31, (1 << players) - 2 <= budget {
      return (1..<((1 << players) - 1)).map { mask in
        let members = (0..<players).map { mask >> $0 & 1 == 1 }
        let size = mask.nonzeroBitCount
        return (members, kernel[size - 1] / binomial(players, size))
      }
    }
    let cumulative = kernel.reduce(into: [Double]()) { $0.append(($0.last ?? 0) + $1) }
    var counts: [[Bool]: Double] = [:]
    var order: [[Bool]] = []
    for _ in 0..<max(budget / 2, 1) {
      let pick = Double(generator.nextUniform()) * cumulative.last!
      let size = (cumulative.firstIndex { pick < $0 } ?? kernel.count - 1) + 1
      var members = [Bool](repeating: false, count: players)
      for index in (0..<players).shuffled(using: &generator).prefix(size) { members[index] = true }
      for coalition in [members, members.map { !$0 }] {
        if counts[coalition] == nil { order.append(coalition) }
        counts[coalition, default: 0] += 1
      }
    }
    return order.map { ($0, counts[$0]!) }
  }
}

/// Images that show `image` in a coalition's regions and `background` elsewhere, one per
/// coalition, as a batch (N, C, H, W).
public func maskedImages(
  _ image: [Float], background: [Float], shape: [Int], regions: ImageRegions,
  coalitions: [[Bool]]
) -> Tensor {
  let plane = regions.height * regions.width
  var scalars: [Float] = []
  scalars.reserveCapacity(coalitions.count * image.count)
  for members in coalitions {
    for i in 0..<image.count {
      scalars.append(members[regions.labels[i % plane]] ? image[i] : background[i])
    }
  }
  return Tensor(shape: [coalitions.count] + shape, scalars: scalars)
}

func binomial(_ n: Int, _ k: Int) -> Double {
  (0..<k).reduce(1.0) { $0 * Double(n - $1) / Double($1 + 1) }
}

/// Solves the symmetric system `a x = b` (a is `size` x `size`, row-major) by Gaussian
/// elimination with partial pivoting; a tiny ridge keeps a rank-deficient sample solvable.
func solveSymmetric(_ a: [Double], _ b: [Double], size n: Int) -> [Double] {
  var a = a
  var b = b
  let ridge = 1e-12 * max((0..<n).reduce(0) { $0 + a[$1 * n + $1] }, 1)
  for i in 0..<n { a[i * n + i] += ridge }
  for column in 0..<n {
    let pivot = (column..<n).max { abs(a[$0 * n + column]) < abs(a[$1 * n + column]) }!
    if pivot != column {
      for j in 0..<n { a.swapAt(column * n + j, pivot * n + j) }
      b.swapAt(column, pivot)
    }
    for r in (column + 1)..<n {
      let factor = a[r * n + column] / a[column * n + column]
      guard factor != 0 else { continue }
      for j in column..<n { a[r * n + j] -= factor * a[column * n + j] }
      b[r] -= factor * b[column]
    }
  }
  var x = [Double](repeating: 0, count: n)
  for r in stride(from: n - 1, through: 0, by: -1) {
    let known = ((r + 1)..<n).reduce(0) { $0 + a[r * n + $1] * x[$1] }
    x[r] = (b[r] - known) / a[r * n + r]
  }
  return x
}
