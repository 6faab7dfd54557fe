import Testing
import ZooTensor
import ZooTestSupport

@Suite struct LossTests {
  /// Logits of `shape` and labels in (n, h, w) order.
  private static func problem(shape: [Int], seed: UInt64) -> (Tensor, [Int]) {
    var g = SeededGenerator(seed: seed)
    let logits = Tensor.normal(shape: shape, std: 2, generator: &g, requiresGrad: true)
    let positions = shape[0] * shape.dropFirst(2).reduce(1, *)
    let labels = (0..<positions).map { _ in Int(g.next() % UInt64(shape[1])) }
    return (logits, labels)
  }

  static let crossEntropyCases: [([Int], [Float]?, Float)] = [
    ([6, 5], nil, 0), ([6, 5], [0.5, 2, 1, 0.25, 3], 0), ([6, 5], nil, 0.2),
    ([6, 5], [0.5, 2, 1, 0.25, 3], 0.3),
    ([2, 4, 3, 2], nil, 0), ([2, 4, 3, 2], [1, 0.5, 2, 1.5], 0), ([2, 4, 3, 2], nil, 0.1),
    ([2, 4, 3, 2], [1, 0.5, 2, 1.5], 0.25),
  ]

  @Test func largeLossesMatchReference() throws {
    // Sizes that split every kernel across threads.
    let (logits, labels) = Self.problem(shape: [4, 8, 24, 24], seed: 6)
    let weights: [Float] = [1, 2, 0.5, 1, 3, 1, 0.25, 1]
    let loss = try crossEntropy(
      logits: logits, labels: labels, classWeights: weights, labelSmoothing: 0.1)
    let expected = CrossEntropyReference.forward(
      logits: logits, labels: labels, classWeights: weights, labelSmoothing: 0.1)
    #expect(abs(Double(loss.item) - expected) < 1e-5 * abs(expected))
    try loss.backward()
    let dx = CrossEntropyReference.backward(
      logits: logits, labels: labels, classWeights: weights, labelSmoothing: 0.1)
    #expect(relativeDifference(logits.grad!.scalars, dx.scalars) < 1e-5)

    var g = SeededGenerator(seed: 7)
    let x = Tensor.normal(shape: [40_000], generator: &g, requiresGrad: true)
    let t = Tensor.uniform(shape: [40_000], low: 0, high: 1, generator: &g)
    let bce = try binaryCrossEntropyWithLogits(logits: x, targets: t, positiveWeight: 2)
    let bceExpected = BinaryCrossEntropyReference.forward(logits: x, targets: t, positiveWeight: 2)
    #expect(abs(Double(bce.item) - bceExpected) < 1e-5 * bceExpected)
    try bce.backward()
    let bceGrad = BinaryCrossEntropyReference.backward(logits: x, targets: t, positiveWeight: 2)
    #expect(relativeDifference(x.grad!.scalars, bceGrad.dLogits.scalars) < 1e-5)
    let mse = try meanSquaredError(x, t)
    #expect(
      abs(Double(mse.item) - MeanSquaredErrorReference.forward(x, t)) < 1e-5 * Double(mse.item))

    let p = Tensor.uniform(
      shape: [4, 4, 32, 32], low: 0, high: 1, generator: &g, requiresGrad: true)
    let target = Tensor(shape: p.shape, scalars: p.scalars.map { $0 > 0.6 ? 1 : 0 })
    let dice = try diceLoss(probabilities: p, targets: target)
    #expect(
      abs(Double(dice.item) - DiceReference.forward(probabilities: p, targets: target)) < 1e-6)
    try dice.backward()
    let dp = DiceReference.backward(probabilities: p, targets: target)
    #expect(relativeDifference(p.grad!.scalars, dp.scalars) < 1e-5)
  }

  @Test(arguments: crossEntropyCases)
  func crossEntropyMatchesReference(shape: [Int], weights: [Float]?, smoothing: Float) throws {
    let (logits, labels) = Self.problem(shape: shape, seed: 1)
    let loss = try crossEntropy(
      logits: logits, labels: labels, classWeights: weights, labelSmoothing: smoothing)
    let expected = CrossEntropyReference.forward(
      logits: logits, labels: labels, classWeights: weights, labelSmoothing: Double(smoothing))
    #expect(abs(Double(loss.item) - expected) < 1e-5 * max(1, abs(expected)))
    try loss.backward()
    let dx = CrossEntropyReference.backward(
      logits: logits, labels: labels, classWeights: weights, labelSmoothing: Double(smoothing))
    #expect(relativeDifference(logits.grad!.scalars, dx.scalars) < 1e-5)
  }

  @Test(arguments: crossEntropyCases)
  func crossEntropyGradientsMatchFiniteDifferences(
    shape: [Int], weights: [Float]?, smoothing: Float
  ) throws {
    let (logits, labels) = Self.problem(shape: shape, seed: 2)
    let report = try checkGradients([logits]) {
      try crossEntropy(
        logits: $0[0], labels: labels, classWeights: weights, labelSmoothing: smoothing)
    }
    #expect(report.passed, "\(report)")
  }

  @Test func crossEntropyMatchesTorch() throws {
    // torch.nn.functional.cross_entropy(x, y, weight=w, label_smoothing=...) and x.grad.
    let w: [Float] = [0.5, 2, 1.5]
    let x = Tensor(shape: [2, 3], scalars: [1, -0.5, 2, 0.3, 0.8, -1.2], requiresGrad: true)
    let loss = try crossEntropy(logits: x, labels: [2, 0], classWeights: w, labelSmoothing: 0.2)
    #expect(abs(loss.item - 0.8491143584251404) < 1e-6)
    try loss.backward()
    let grad: [Float] = [
      0.16939185559749603, -0.02515140175819397, -0.14424051344394684, -0.10059753060340881,
      0.12469899654388428, -0.02410147711634636,
    ]
    #expect(relativeDifference(x.grad!.scalars, grad) < 1e-5)

    let x4 = Tensor(
      shape: [1, 3, 1, 2], scalars: [0.2, -1, 1.5, 0.4, -0.3, 0.9], requiresGrad: true)
    let loss4 = try crossEntropy(logits: x4, labels: [1, 2], classWeights: w, labelSmoothing: 0.1)
    #expect(abs(loss4.item - 0.48971039056777954) < 1e-6)
    try loss4.backward()
    let grad4: [Float] = [
      0.09993844479322433, 0.031334348022937775, -0.14915667474269867, 0.12732990086078644,
      0.049218256026506424, -0.15866422653198242,
    ]
    #expect(relativeDifference(x4.grad!.scalars, grad4) < 1e-5)
  }

  @Test func crossEntropyRejectsBadLabelsAndShapes() {
    let x = Tensor(shape: [2, 3])
    #expect(
      throws: TensorError.invalidArgument(
        op: "crossEntropy", message: "label 3 at position 1 is out of range for 3 classes")
    ) { try crossEntropy(logits: x, labels: [0, 3]) }
    #expect(throws: TensorError.self) { try crossEntropy(logits: x, labels: [-1, 0]) }
    #expect(
      throws: TensorError.invalidArgument(
        op: "crossEntropy", message: "logits of shape [2, 3] need 2 labels, got 3")
    ) { try crossEntropy(logits: x, labels: [0, 1, 2]) }
    #expect(throws: TensorError.self) {
      try crossEntropy(logits: x, labels: [0, 1], classWeights: [1, 2])
    }
    #expect(throws: TensorError.self) {
      try crossEntropy(logits: x, labels: [0, 1], labelSmoothing: 1)
    }
    #expect(throws: TensorError.self) {
      try crossEntropy(logits: Tensor(shape: [2, 3, 4]), labels: [0, 1])
    }
  }

  @Test(arguments: [nil, 3] as [Float?])
  func binaryCrossEntropyMatchesReferenceAndFiniteDifferences(positiveWeight: Float?) throws {
    var g = SeededGenerator(seed: 3)
    let logits = Tensor.normal(shape: [4, 3, 2], std: 2, generator: &g, requiresGrad: true)
    let targets = Tensor.uniform(
      shape: [4, 3, 2], low: 0, high: 1, generator: &g, requiresGrad: true)
    let loss = try binaryCrossEntropyWithLogits(
      logits: logits, targets: targets, positiveWeight: positiveWeight)
    let pw = Double(positiveWeight ?? 1)
    let expected = BinaryCrossEntropyReference.forward(
      logits: logits, targets: targets, positiveWeight: pw)
    #expect(abs(Double(loss.item) - expected) < 1e-5 * max(1, abs(expected)))
    try loss.backward()
    let reference = BinaryCrossEntropyReference.backward(
      logits: logits, targets: targets, positiveWeight: pw)
    #expect(relativeDifference(logits.grad!.scalars, reference.dLogits.scalars) < 1e-5)
    #expect(relativeDifference(targets.grad!.scalars, reference.dTargets.scalars) < 1e-5)

    let report = try checkGradients([logits, targets]) {
      try binaryCrossEntropyWithLogits(
        logits: $0[0], targets: $0[1], positiveWeight: positiveWeight)
    }
    #expect(report.passed, "\(report)")
  }

  @Test func binaryCrossEntropyMatchesTorchAndStaysStable() throws {
    // torch.nn.functional.binary_cross_entropy_with_logits(..., pos_weight=torch.tensor(3.)).
    let x = Tensor(shape: [2, 3], scalars: [0.5, -2, 3, 100, -100, 0], requiresGrad: true)
    let t = Tensor(shape: [2, 3], scalars: [1, 0, 0.25, 0, 1, 1], requiresGrad: true)
    let loss = try binaryCrossEntropyWithLogits(logits: x, targets: t, positiveWeight: 3)
    #expect(abs(loss.item - 67.65857696533203) < 1e-4)
    try loss.backward()
    let dx: [Float] = [
      -0.1887703388929367, 0.019867153838276863, 0.11314352601766586, 0.1666666716337204, -0.5,
      -0.25,
    ]
    let dt: [Float] = [
      0.07469233125448227, 1.0423094034194946, -0.48380422592163086, -16.66666603088379, 50,
      0.2310490608215332,
    ]
    #expect(relativeDifference(x.grad!.scalars, dx) < 1e-5)
    #expect(relativeDifference(t.grad!.scalars, dt) < 1e-5)
    #expect(throws: TensorError.self) {
      try binaryCrossEntropyWithLogits(logits: x, targets: Tensor(shape: [3, 2]))
    }
  }

  @Test func meanSquaredErrorMatchesReferenceAndFiniteDifferences() throws {
    var g = SeededGenerator(seed: 4)
    let p = Tensor.normal(shape: [3, 2, 4], generator: &g, requiresGrad: true)
    let t = Tensor.normal(shape: [3, 2, 4], generator: &g, requiresGrad: true)
    let loss = try meanSquaredError(p, t)
    let expected = MeanSquaredErrorReference.forward(p, t)
    #expect(abs(Double(loss.item) - expected) < 1e-5 * max(1, expected))
    try loss.backward()
    let dp = MeanSquaredErrorReference.backward(p, t)
    #expect(relativeDifference(p.grad!.scalars, dp.scalars) < 1e-5)
    #expect(relativeDifference(t.grad!.scalars, dp.scalars.map { -$0 }) < 1e-5)

    let report = try checkGradients([p, t]) { try meanSquaredError($0[0], $0[1]) }
    #expect(report.passed, "\(report)")
    #expect(
      throws: TensorError.shapeMismatch(
        op: "meanSquaredError target", expected: [3, 2, 4], actual: [24])
    ) { try meanSquaredError(p, Tensor(shape: [24])) }
  }

  @Test func diceMatchesReferenceAndFiniteDifferences() throws {
    var g = SeededGenerator(seed: 5)
    let logits = Tensor.normal(shape: [2, 3, 4, 4], generator: &g)
    let p = try softmax(logits)
    p.requiresGrad = true
    let labels = (0..<32).map { _ in Int(g.next() % 3) }
    var oneHot = [Float](repeating: 0, count: p.count)
    for (k, label) in labels.enumerated() {
      let (n, s) = (k / 16, k % 16)
      oneHot[(n * 3 + label) * 16 + s] = 1
    }
    let t = Tensor(shape: p.shape, scalars: oneHot)
    for smooth: Float in [1, 0.01] {
      p.zeroGrad()
      let loss = try diceLoss(probabilities: p, targets: t, smooth: smooth)
      let expected = DiceReference.forward(probabilities: p, targets: t, smooth: Double(smooth))
      #expect(abs(Double(loss.item) - expected) < 1e-6)
      try loss.backward()
      let dp = DiceReference.backward(probabilities: p, targets: t, smooth: Double(smooth))
      #expect(relativeDifference(p.grad!.scalars, dp.scalars) < 1e-5)
      let report = try checkGradients([p]) {
        try diceLoss(probabilities: $0[0], targets: t, smooth: smooth)
      }
      #expect(report.passed, "\(report)")
    }
    // A perfect prediction has zero loss.
    #expect(abs(try diceLoss(probabilities: t, targets: t).item) < 1e-6)
    #expect(throws: TensorError.rankMismatch(op: "diceLoss", expected: 4, actual: [2, 3])) {
      try diceLoss(probabilities: Tensor(shape: [2, 3]), targets: Tensor(shape: [2, 3]))
    }
    #expect(throws: TensorError.self) {
      try diceLoss(probabilities: p, targets: Tensor(shape: [2, 3, 4, 5]))
    }
  }

  @Test func variationalLossGradientsMatchFiniteDifferences() throws {
    var g = SeededGenerator(seed: 11)
    let logits = Tensor.normal(shape: [3, 1, 4, 4], std: 2, generator: &g, requiresGrad: true)
    let targets = Tensor.uniform(shape: [3, 1, 4, 4], low: 0, high: 1, generator: &g)
    let bce = try checkGradients([logits]) {
      try binaryCrossEntropyPerImage(logits: $0[0], targets: targets)
    }
    #expect(bce.passed, "\(bce)")
    let squared = try checkGradients([logits]) { try squaredErrorPerImage($0[0], targets) }
    #expect(squared.passed, "\(squared)")
    let mean = Tensor.normal(shape: [4, 3], generator: &g, requiresGrad: true)
    let logVariance = Tensor.normal(shape: [4, 3], std: 0.7, generator: &g, requiresGrad: true)
    let kl = try checkGradients([mean, logVariance]) {
      try gaussianKLDivergence(mean: $0[0], logVariance: $0[1])
    }
    #expect(kl.passed, "\(kl)")
    let noise = Tensor.normal(shape: [4, 3], generator: &g)
    let weights = Tensor.normal(shape: [4, 3], generator: &g)
    let sample = try checkGradients([mean, logVariance]) {
      try weightedSum(
        try reparameterize(mean: $0[0], logVariance: $0[1], noise: noise), weights: weights)
    }
    #expect(sample.passed, "\(sample)")
  }

  @Test func variationalLossesRejectBadShapes() {
    #expect(
      throws: TensorError.shapeMismatch(
        op: "gaussianKLDivergence logVariance", expected: [2, 3], actual: [2, 4])
    ) {
      try gaussianKLDivergence(mean: Tensor(shape: [2, 3]), logVariance: Tensor(shape: [2, 4]))
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "gaussianKLDivergence", message: "expected a non-empty (N, ...) batch, got shape []")
    ) { try gaussianKLDivergence(mean: Tensor(0), logVariance: Tensor(0)) }
    #expect(throws: TensorError.self) {
      try reparameterize(
        mean: Tensor(shape: [2, 3]), logVariance: Tensor(shape: [2, 3]), noise: Tensor(shape: [3]))
    }
    #expect(throws: TensorError.self) {
      try binaryCrossEntropyPerImage(
        logits: Tensor(shape: [2, 4]), targets: Tensor(shape: [2, 5]))
    }
  }
}
