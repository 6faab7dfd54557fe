import ZooTensor

/// One class a classifier proposes for an example, with its softmax probability.
public struct ClassProbability: Sendable, Equatable {
  public var classIndex: Int
  public var probability: Float

  public init(classIndex: Int, probability: Float) {
    self.classIndex = classIndex
    self.probability = probability
  }
}

/// The `k` most probable classes of each row of (N, C) logits, most probable first (ties in
/// class order); `k` larger than C gives all C.
public func topClasses(logits: Tensor, k: Int) throws -> [[ClassProbability]] {
  precondition(logits.shape.count == 2, "top classes need (N, C) logits, got \(logits.shape)")
  precondition(k >= 1, "k must be at least 1, got \(k)")
  let probabilities = try withoutGradients { try softmax(logits) }.scalars
  let classes = logits.shape[1]
  return (0..<logits.shape[0]).map { row -> [ClassProbability] in
    let ranked = (0..<classes).map { c -> ClassProbability in
      ClassProbability(classIndex: c, probability: probabilities[row * classes + c])
    }
    return Array(ranked.sorted(by: isMoreProbable).prefix(k))
  }
}

private func isMoreProbable(_ a: ClassProbability, _ b: ClassProbability) -> Bool {
  a.probability != b.probability ? a.probability > b.probability : a.classIndex < b.classIndex
}
