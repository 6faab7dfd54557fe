import ZooTensor

// A batch norm that normalises with its running statistics is an affine map per channel, so
// after a convolution it can be folded into the convolution's weight and bias:
// w' = w * gamma / sqrt(var + eps), b' = (b - mean) * gamma / sqrt(var + eps) + beta.
// Inference then skips a pass over every activation (two with the ReLU that usually follows).
// The layers' own parameters are never changed: the folded ones are made for each call, so
// saved weights, training mode and gradients see the layers as they are.

/// Whether inference may fold batch norms into convolutions; tests turn it off to compare the
/// two roundings. Scoped with `$isEnabled.withValue`.
public enum BatchNormFolding {
  @TaskLocal public static var isEnabled = true
}

/// `bn(conv(x))`, then ReLU when `relu` is true: one convolution with the batch norm folded in
/// when `bn` uses its running statistics and no parameter of either layer needs a gradient
/// (inference, a frozen backbone), else the two layers as usual. Results equal the unfolded
/// layers' up to float rounding.
public func convBatchNorm(_ conv: Conv2d, _ bn: BatchNorm, _ x: Tensor, relu: Bool = false)
  throws -> Tensor
{
  guard let folded = foldedParameters(conv, bn) else {
    let y = try bn(conv(x))
    return relu ? ZooTensor.relu(y) : y
  }
  return try foldedConvolution(conv, folded, x, activation: relu ? .relu : nil)
}

/// Runs `layers` in order, each Conv2d-BatchNorm pair (and an activation right after it) folded
/// when `convBatchNorm` would fold it, else every layer as itself (so traces see each one).
public func runFoldingBatchNorm(_ layers: [Module], _ x: Tensor) throws -> Tensor {
  var out = x
  var index = 0
  while index < layers.count {
    if let conv = layers[index] as? Conv2d, index + 1 < layers.count,
      let bn = layers[index + 1] as? BatchNorm, let folded = foldedParameters(conv, bn)
    {
      let activation = index + 2 < layers.count ? fusableActivation(layers[index + 2]) : nil
      out = try foldedConvolution(conv, folded, out, activation: activation)
      index += activation == nil ? 2 : 3
    } else {
      out = try layers[index](out)
      index += 1
    }
  }
  return out
}

/// The activation a layer applies, when it is one that a folded convolution applies in place.
private func fusableActivation(_ layer: Module) -> TracedOp.Activation? {
  switch layer {
  case is ReLU: .relu
  case is ReLU6: .relu6
  case is SiLU: .silu
  case is Hardswish: .hardSwish
  default: nil
  }
}

/// `conv` with the folded weight and bias, then `activation`, if any.
private func foldedConvolution(
  _ conv: Conv2d, _ folded: (weight: Tensor, bias: Tensor), _ x: Tensor,
  activation: TracedOp.Activation?
) throws -> Tensor {
  let y = try conv2d(
    x, weight: folded.weight, bias: folded.bias, stride: conv.stride, padding: conv.padding,
    dilation: conv.dilation, groups: conv.groups)
  guard let activation else { return y }
  // Only x can need a gradient here; without one, y is ours alone to change in place.
  guard !y.requiresGrad else { return activate(y, activation) }
  activateInPlace(y, activation)
  return y
}

/// The folded weight and bias, or nil when the layers must run as they are: batch
/// statistics, a parameter that needs a gradient, a trace that counts every layer or records
/// every op (a graph export keeps the batch norm as its own node), a capture that may want any
/// layer's output, or shapes that do not match (the unfolded layers then report the error).
private func foldedParameters(_ conv: Conv2d, _ bn: BatchNorm) -> (weight: Tensor, bias: Tensor)? {
  let parameters = [conv.weight, bn.weight, bn.bias] + (conv.bias.map { [$0] } ?? [])
  guard BatchNormFolding.isEnabled, ModuleTrace.current == nil, !OpTrace.isRecording,
    ActivationCapture.current == nil,
    !bn.usesBatchStatistics,
    !GradientRecording.needsRecording(parameters)
  else { return nil }
  let channels = conv.weight.shape[0]
  guard channels > 0, bn.runningMean.count == channels, bn.runningVar.count == channels,
    bn.weight.count == channels, bn.bias.count == channels
  else { return nil }
  let perChannel = conv.weight.count / channels
  var weight = [Float](repeating: 0, count: conv.weight.count)
  var bias = [Float](repeating: 0, count: channels)
  let source = conv.weight.scalars
  for o in 0..<channels {
    // The scale and shift batchNorm itself uses in inference.
    let invStd = Float(1 / (Double(bn.runningVar.scalars[o]) + Double(bn.eps)).squareRoot())
    let scale = invStd * bn.weight.scalars[o]
    let shift = bn.bias.scalars[o] - bn.runningMean.scalars[o] * scale
    for i in (o * perChannel)..<((o + 1) * perChannel) { weight[i] = source[i] * scale }
    bias[o] = (conv.bias?.scalars[o] ?? 0) * scale + shift
  }
  return (
    Tensor(shape: conv.weight.shape, scalars: weight), Tensor(shape: [channels], scalars: bias)
  )
}
