import ZooNN
import ZooTensor

extension LoadedWeights {
  /// These weights with every layer that a depthwise convolution of `model` loads from in the
  /// zoo's depthwise layout, checked against Keras's kernel shape, which keeps the input
  /// channels and the multiplier apart where the zoo's (in · multiplier, 1, kh, kw) joins them.
  ///
  /// A file gives a depthwise kernel in one of three ways: as a depthwise layer (the zoo's
  /// files, Keras 3's `depthwise_conv2d` keys, Keras 2's `depthwise_kernel`), already in the
  /// zoo's layout; as a grouped convolution's (kh, kw, 1, in · multiplier) (the zoo's files
  /// before depthwise layers had a kind of their own), the same values; or, in Keras 3's
  /// legacy `.h5`, as a `kernel` (kh, kw, in, multiplier) that reads like an ordinary
  /// convolution's until the model tells them apart. Layers under `isSkipped` stay as read.
  func withDepthwiseKernels(for model: Module, skipping isSkipped: (String) -> Bool) throws
    -> LoadedWeights
  {
    var resolved = self
    for (index, layer) in layers.enumerated() where !layer.tensorPaths.allSatisfy(isSkipped) {
      guard let conv = model.child(at: layer.path) as? Conv2d, conv.isDepthwise,
        [.conv2d, .depthwiseConv2d].contains(layer.kind), let found = layer.kernelShape
      else { continue }
      let zoo = conv.weight.shape
      let expected = [zoo[2], zoo[3], conv.groups, zoo[0] / conv.groups]
      let grouped = [zoo[2], zoo[3], 1, zoo[0]]
      let weight = layer.path + ".weight"
      switch (layer.kind, found) {
      case (.depthwiseConv2d, expected), (.conv2d, grouped):
        break
      case (.conv2d, expected) where !layer.kindIsRecorded:
        let read = tensors[weight]!
        let keras = LayerKind.conv2d.toKeras(read, name: "kernel")
        let values = LayerKind.depthwiseConv2d.fromKeras(
          keras.values, shape: keras.shape, name: "depthwise_kernel")
        resolved.tensors[weight] = Tensor(shape: values.shape, scalars: values.values)
      default:
        throw WeightFileError.depthwiseKernelMismatch(
          layer: withFileName(layer.path), expected: expected, found: found)
      }
      resolved.layers[index].kind = .depthwiseConv2d
    }
    return resolved
  }
}
