import ZooNN
import ZooTensor

// What every method explains: one score per image, the logit of the class asked for. For a
// segmentation model (per-pixel logits) it is the sum of the class's logits over the pixels
// predicted as that class, as pytorch-grad-cam's `SemanticSegmentationTarget` takes it, or
// over every pixel when none is.

/// The gradient seed whose back-propagation gives d(sum of the rows' scores)/d(anything): the
/// score's weight on each output element.
func scoreSeed(_ output: Tensor, classes: [Int]) throws -> Tensor {
  try checkOutput(output, classes: classes)
  let (rows, classCount) = (output.shape[0], output.shape[1])
  let pixels = output.count / (rows * classCount)
  var seed = [Float](repeating: 0, count: output.count)
  for row in 0..<rows {
    let base = row * classCount * pixels
    var chosen: [Int] = []
    for pixel in 0..<pixels
    where pixels == 1 || argmax(output, row: row, pixel: pixel) == classes[row] {
      chosen.append(pixel)
    }
    if chosen.isEmpty { chosen = Array(0..<pixels) }
    for pixel in chosen { seed[base + classes[row] * pixels + pixel] = 1 }
  }
  return Tensor(shape: output.shape, scalars: seed)
}

/// Each row's score: the output weighted by its seed.
func classScores(_ output: Tensor, classes: [Int]) throws -> [Float] {
  let seed = try scoreSeed(output, classes: classes)
  let size = output.count / output.shape[0]
  return (0..<output.shape[0]).map { row in
    var total: Float = 0
    for i in (row * size)..<((row + 1) * size) { total += seed.scalars[i] * output.scalars[i] }
    return total
  }
}

private func argmax(_ output: Tensor, row: Int, pixel: Int) -> Int {
  let (classCount, pixels) = (output.shape[1], output.count / (output.shape[0] * output.shape[1]))
  let base = row * classCount * pixels + pixel
  var best = 0
  for k in 1..<classCount
  where output.scalars[base + k * pixels] > output.scalars[base + best * pixels] {
    best = k
  }
  return best
}

private func checkOutput(_ output: Tensor, classes: [Int]) throws {
  guard output.rank == 2 || output.rank == 4 else {
    throw ExplainError.unsupportedOutput(shape: output.shape)
  }
  guard classes.count == output.shape[0] else {
    throw ExplainError.classCountMismatch(images: output.shape[0], classes: classes.count)
  }
  for k in classes where !(0..<output.shape[1]).contains(k) {
    throw ExplainError.classOutOfRange(k, classCount: output.shape[1])
  }
}

/// Runs `body` with every parameter of `model` frozen and the model in inference mode, then
/// restores both: explanations differentiate with respect to inputs and activations only, so
/// no weight gradient is computed.
func withFrozenParameters<T>(_ model: Module, _ body: () throws -> T) rethrows -> T {
  let parameters = model.namedParameters().map(\.tensor)
  let trainable = parameters.map(\.requiresGrad)
  // Parents come before their children, so restoring in this order leaves each module's own
  // mode (a frozen batch norm in inference inside a model in training, say).
  let modes = model.namedModules().map { ($0.module, $0.module.isTraining) }
  model.setTrainable(false)
  model.setTraining(false)
  defer {
    for (tensor, flag) in zip(parameters, trainable) { tensor.requiresGrad = flag }
    for (module, training) in modes { module.setTraining(training) }
  }
  return try body()
}

/// The model's outputs for `inputs`, `batchSize` rows at a time, without recording gradients,
/// in inference as the gradients are taken (in training, batch norms would normalise by each
/// batch's statistics and update their running ones).
func outputs(_ model: Module, _ inputs: Tensor, batchSize: Int) throws -> Tensor {
  var scalars: [Float] = []
  var shape: [Int] = []
  try withFrozenParameters(model) {
    for range in chunks(inputs.shape[0], batchSize) {
      let out = try withoutGradients { try model(rows(inputs, range)) }
      scalars += out.scalars
      shape = out.shape
    }
  }
  shape[0] = inputs.shape[0]
  return Tensor(shape: shape, scalars: scalars)
}

/// Each row's score for its class, `batchSize` rows at a time, in inference as `outputs`.
func scores(_ model: Module, _ inputs: Tensor, classes: [Int], batchSize: Int) throws -> [Float] {
  var result: [Float] = []
  try withFrozenParameters(model) {
    for range in chunks(inputs.shape[0], batchSize) {
      let out = try withoutGradients { try model(rows(inputs, range)) }
      result += try classScores(out, classes: Array(classes[range]))
    }
  }
  return result
}

/// What one forward and backward pass gives: the output, and the gradient of the rows' summed
/// scores with respect to the input or to a captured activation.
struct GradientPass {
  var output: Tensor
  /// The input (or the captured activation) and its gradient.
  var point: Tensor
  var gradient: Tensor

  /// One pass of `inputs` (a batch) through `model`, whose parameters must be frozen. With a
  /// layer the gradient is taken at its output (backward stops there), else at the input.
  init(_ model: Module, _ inputs: Tensor, classes: [Int], layer: TargetLayer? = nil) throws {
    let x = inputs.detached()
    let capture = layer.map { ActivationCapture($0.module) }
    x.requiresGrad = capture == nil
    let pass = {
      let out = try model(x)
      try out.backward(seed: try scoreSeed(out, classes: classes))
      return out
    }
    output = try capture?.run(pass) ?? pass()
    if let layer, let capture {
      guard let activation = capture.activation else {
        throw ExplainError.layerNotCalled(layer.path)
      }
      point = activation
    } else {
      point = x
    }
    gradient = point.grad ?? Tensor(shape: point.shape)
  }
}

/// `0..<count` in consecutive ranges of at most `size`.
func chunks(_ count: Int, _ size: Int) -> [Range<Int>] {
  stride(from: 0, to: count, by: max(size, 1)).map { $0..<min($0 + max(size, 1), count) }
}

/// Rows `range` of a batch, as a batch.
func rows(_ batch: Tensor, _ range: Range<Int>) -> Tensor {
  let size = batch.count / max(batch.shape[0], 1)
  var shape = batch.shape
  shape[0] = range.count
  return Tensor(
    shape: shape,
    scalars: Array(batch.scalars[(range.lowerBound * size)..<(range.upperBound * size)]))
}

/// Row `index` repeated `count` times, as a batch.
func repeated(_ batch: Tensor, row index: Int, count: Int) -> Tensor {
  let size = batch.count / batch.shape[0]
  let row = batch.scalars[(index * size)..<((index + 1) * size)]
  var shape = batch.shape
  shape[0] = count
  var scalars: [Float] = []
  scalars.reserveCapacity(size * count)
  for _ in 0..<count { scalars += row }
  return Tensor(shape: shape, scalars: scalars)
}

/// Checks that `inputs` is an image batch with one class per image.
func checkRequest(_ inputs: Tensor, classes: [Int]) throws {
  guard inputs.rank == 4 else { throw ExplainError.notAnImageBatch(shape: inputs.shape) }
  guard inputs.shape[0] == classes.count else {
    throw ExplainError.classCountMismatch(images: inputs.shape[0], classes: classes.count)
  }
}
