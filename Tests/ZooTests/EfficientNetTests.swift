import Testing
import Zoo
import ZooNN
import ZooTensor

/// EfficientNet's scaling and its stochastic depth; parity with torchvision is in
/// TorchvisionParityTests and TorchInteropTests.
@Suite struct EfficientNetTests {
  /// torchvision's `_efficientnet_conf` multipliers give torchvision's parameter counts
  /// (its weights metadata) for B1 (depth 1.1) and B2 (width 1.1, depth 1.2).
  @Test(arguments: [(1.0, 1.1, 7_794_184), (1.1, 1.2, 9_109_994)])
  func multipliersGiveTorchvisionsVariants(width: Double, depth: Double, parameters: Int) {
    let configuration = EfficientNetConfiguration(
      widthMultiplier: width, depthMultiplier: depth, dropout: 0.2)
    let model = EfficientNet(configuration, rng: RandomStream(seed: 0))
    #expect(model.parameterCount == parameters)
  }

  /// Block i of B0's 16 drops its residual branch with probability 0.2 i / 16, as torchvision.
  @Test func dropProbabilityGrowsWithTheBlockIndex() {
    let model = EfficientNet(.b0, rng: RandomStream(seed: 0))
    let blocks = model.namedModules().compactMap { $0.module as? MBConv }
    #expect(blocks.count == 16)
    for (index, block) in blocks.enumerated() {
      #expect(block.stochasticDepth.probability == 0.2 * Float(index) / 16, "block \(index)")
    }
    #expect(blocks.filter(\.addsInput).count == 9)
  }

  static func residualBlock(dropProbability: Float) -> (MBConv, Module, Tensor) {
    let block = MBConv(
      16, 16, expandRatio: 6, kernelSize: 3, stride: 1, dropProbability: dropProbability,
      rng: RandomStream(seed: 5))
    var g = SeededGenerator(seed: 6)
    return (block, block.child(at: "block")!, Tensor.normal(shape: [64, 16, 4, 4], generator: &g))
  }

  /// In training, each sample's residual branch is either dropped whole (the output is the
  /// input) or kept and scaled by 1 / (1 - p); about p of the samples are dropped.
  @Test func trainingDropsWholeSamplesOfTheResidualBranch() throws {
    let p: Float = 0.5
    let (block, branchLayers, x) = Self.residualBlock(dropProbability: p)
    block.setTraining(true)
    // Batch statistics make the branch the same on every call.
    let branch = try branchLayers(x).scalars
    let row = x.count / 64
    var dropped = 0
    let calls = 8
    for _ in 0..<calls {
      let y = try block(x).scalars
      for n in 0..<64 {
        let rows = (n * row)..<((n + 1) * row)
        let added = rows.map { y[$0] - x.scalars[$0] }
        if added.allSatisfy({ $0 == 0 }) {
          dropped += 1
          continue
        }
        let largest = rows.map { abs(branch[$0]) }.max()!
        let error = zip(added, rows).map { abs($0 - branch[$1] / (1 - p)) }.max()!
        #expect(error <= 1e-5 * largest, "sample \(n): branch neither dropped nor kept")
      }
    }
    // 512 draws: the dropped share has a standard deviation of 0.022 around 0.5.
    let share = Double(dropped) / Double(calls * 64)
    #expect(abs(share - Double(p)) < 0.1, "dropped \(dropped) of \(calls * 64) samples")
  }

  /// In inference the block is deterministic: the input plus the whole branch.
  @Test func inferenceKeepsTheWholeBranch() throws {
    let (block, branchLayers, x) = Self.residualBlock(dropProbability: 0.5)
    block.setTraining(false)
    let first = try block(x)
    let second = try block(x)
    #expect(first.scalars == second.scalars)
    #expect(first.scalars == (try add(x, try branchLayers(x))).scalars)
  }
}
