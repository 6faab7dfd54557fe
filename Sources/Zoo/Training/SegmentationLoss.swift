import ZooTensor

/// The training losses of a segmentation model whose logits are (N, C, H, W), one channel per
/// class, each a mean over pixels: pixel-wise cross-entropy, binary cross-entropy with logits
/// on every channel against the one-hot mask (multi-label style, as segmentation_models.pytorch
/// applies it), soft Dice (on softmax probabilities beside cross-entropy and alone, on sigmoid
/// probabilities beside BCE), and the sums of a pixel loss and Dice.
public enum SegmentationLoss: String, Sendable, CaseIterable, Codable {
  case crossEntropy = "ce"
  case binaryCrossEntropy = "bce"
  case dice
  case crossEntropyDice = "ce+dice"
  case binaryCrossEntropyDice = "bce+dice"

  /// The loss of `logits` against `masks` (N * H * W classes in (n, y, x) order). With
  /// `replicas`, Dice is the whole data-parallel batch's (`diceLoss`); the pixel losses stay
  /// means over this member's pixels, which averaging the gradients combines.
  public func callAsFunction(logits: Tensor, masks: [Int], replicas: ReplicaGroup? = nil)
    throws -> Tensor
  {
    switch self {
    case .crossEntropy:
      return try ZooTensor.crossEntropy(logits: logits, labels: masks)
    case .binaryCrossEntropy:
      return try binaryCrossEntropyWithLogits(
        logits: logits, targets: try oneHot(masks, like: logits))
    case .dice:
      return try diceLoss(
        probabilities: try softmax(logits, axis: 1), targets: try oneHot(masks, like: logits),
        replicas: replicas)
    case .crossEntropyDice:
      return try add(
        try ZooTensor.crossEntropy(logits: logits, labels: masks),
        try diceLoss(
          probabilities: try softmax(logits, axis: 1), targets: try oneHot(masks, like: logits),
          replicas: replicas))
    case .binaryCrossEntropyDice:
      let targets = try oneHot(masks, like: logits)
      return try add(
        try binaryCrossEntropyWithLogits(logits: logits, targets: targets),
        try diceLoss(probabilities: sigmoid(logits), targets: targets, replicas: replicas))
    }
  }
}

/// The (N, C, H, W) one-hot encoding of `masks` for logits of that shape.
public func oneHot(_ masks: [Int], like logits: Tensor) throws -> Tensor {
  guard logits.rank == 4 else {
    throw TensorError.rankMismatch(op: "oneHot", expected: 4, actual: logits.shape)
  }
  let (n, classes, plane) = (logits.shape[0], logits.shape[1], logits.shape[2] * logits.shape[3])
  guard masks.count == n * plane else {
    throw TensorError.invalidArgument(
      op: "oneHot",
      message:
        "logits of shape \(logits.shape) need masks of \(n * plane) pixels (\(n) of \(logits.shape[2])x\(logits.shape[3])), got \(masks.count)"
    )
  }
  var values = [Float](repeating: 0, count: logits.count)
  for i in 0..<n {
    for s in 0..<plane {
      let c = masks[i * plane + s]
      guard (0..<classes).contains(c) else {
        throw TensorError.invalidArgument(
          op: "oneHot",
          message: "class \(c) at pixel \(i * plane + s) is out of range for \(classes) classes")
      }
      values[(i * classes + c) * plane + s] = 1
    }
  }
  return Tensor(shape: logits.shape, scalars: values)
}

/// The class of each pixel of (N, C, H, W) logits: the channel with the largest logit, N * H * W
/// classes in (n, y, x) order.
public func pixelClasses(_ logits: Tensor) -> [Int] {
  let (n, classes, plane) = (logits.shape[0], logits.shape[1], logits.shape[2] * logits.shape[3])
  var out = [Int](repeating: 0, count: n * plane)
  logits.scalars.withUnsafeBufferPointer { x in
    for i in 0..<n {
      for s in 0..<plane {
        var (best, bestValue) = (0, x[i * classes * plane + s])
        for c in 1..<max(classes, 1) where x[(i * classes + c) * plane + s] > bestValue {
          (best, bestValue) = (c, x[(i * classes + c) * plane + s])
        }
        out[i * plane + s] = best
      }
    }
  }
  return out
}
