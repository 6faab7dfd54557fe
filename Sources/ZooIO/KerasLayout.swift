import ZooNN
import ZooTensor

/// The layers a weight file stores, each with its Keras counterpart and tensor layouts.
///
/// Keras keeps convolution kernels as (kh, kw, in, out), transposed-convolution kernels as
/// (kh, kw, out, in) and dense kernels as (in, out); PyTorch (and the zoo) as (out, in, kh, kw),
/// (in, out, kh, kw) and (out, in). Both convolutions therefore cross with the same
/// permutation, (2, 3, 1, 0) one way and (3, 2, 0, 1) back.
///
/// A depthwise convolution (a `Conv2d` whose groups are its input channels) is Keras's
/// DepthwiseConv2D, kernel (kh, kw, in, multiplier); the zoo's weight is (in · multiplier, 1,
/// kh, kw), output channel c · multiplier + m. Read as (kh, kw, 1, in · multiplier), Keras's
/// kernel is a grouped convolution's, and crosses with the same permutation. A separable
/// convolution keeps its depthwise kernel as (kh, kw, in, multiplier) in Keras and (in,
/// multiplier, kh, kw) in the zoo, (2, 3, 0, 1) apart, and its pointwise kernel as a
/// convolution's. A layer scale is (C, 1, 1) in PyTorch and the zoo, (C) in Keras's ConvNeXt
/// (its `LayerScale` layer's `gamma`). Keras's `Normalization` layer keeps its sample count
/// as an int32 scalar; the zoo as a float buffer of shape (1).
public enum LayerKind: String, Sendable, CaseIterable, Codable {
  case conv2d = "Conv2d"
  case convTranspose2d = "ConvTranspose2d"
  case linear = "Linear"
  case batchNorm = "BatchNorm"
  case depthwiseConv2d = "DepthwiseConv2d"
  case separableConv2d = "SeparableConv2d"
  case layerNorm = "LayerNorm"
  case layerScale = "LayerScale"
  case normalization = "Normalization"

  /// The kind of a zoo layer, or nil for modules that weight files do not store. A linear
  /// layer over the channels is a dense layer too, as Keras applies one channels last.
  public init?(module: Module) {
    switch module {
    case let conv as Conv2d: self = conv.isDepthwise ? .depthwiseConv2d : .conv2d
    case is ConvTranspose2d: self = .convTranspose2d
    case is Linear: self = .linear
    case is BatchNorm: self = .batchNorm
    case is SeparableConv2d: self = .separableConv2d
    case is LayerNorm2d: self = .layerNorm
    case is LayerScaledResidual: self = .layerScale
    case is InputNormalization: self = .normalization
    default: return nil
    }
  }

  /// The eps a normalisation layer carries, which files record and loading checks.
  static func eps(of module: Module) -> Float? {
    (module as? BatchNorm)?.eps ?? (module as? LayerNorm2d)?.eps
  }

  /// Keras's class for this layer.
  public var kerasName: String {
    switch self {
    case .conv2d: return "Conv2D"
    case .convTranspose2d: return "Conv2DTranspose"
    case .linear: return "Dense"
    case .batchNorm: return "BatchNormalization"
    case .depthwiseConv2d: return "DepthwiseConv2D"
    case .separableConv2d: return "SeparableConv2D"
    case .layerNorm: return "LayerNormalization"
    case .layerScale: return "LayerScale"
    case .normalization: return "Normalization"
    }
  }

  /// (zoo tensor name, Keras weight name) in Keras's weight order.
  public var tensorNames: [(zoo: String, keras: String)] {
    switch self {
    case .conv2d, .convTranspose2d, .linear:
      return [("weight", "kernel"), ("bias", "bias")]
    case .batchNorm:
      return [
        ("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
        ("running_var", "moving_variance"),
      ]
    case .depthwiseConv2d:
      return [("weight", "depthwise_kernel"), ("bias", "bias")]
    case .separableConv2d:
      return [
        ("depthwise_weight", "depthwise_kernel"), ("pointwise_weight", "pointwise_kernel"),
        ("bias", "bias"),
      ]
    case .layerNorm: return [("weight", "gamma"), ("bias", "beta")]
    case .layerScale: return [("layer_scale", "gamma")]
    case .normalization: return [("mean", "mean"), ("variance", "variance"), ("count", "count")]
    }
  }

  /// The Keras layout of the weight `name` (`kernel`, `bias`, ...), for messages.
  func layout(of name: String) -> String {
    switch (self, name) {
    case (.conv2d, "kernel"): return "(kh, kw, in, out)"
    case (.convTranspose2d, "kernel"): return "(kh, kw, out, in)"
    case (.linear, "kernel"): return "(in, out)"
    case (.depthwiseConv2d, "depthwise_kernel"), (.separableConv2d, "depthwise_kernel"):
      return "(kh, kw, in, multiplier)"
    case (.separableConv2d, "pointwise_kernel"): return "(1, 1, in * multiplier, out)"
    default: return "(channels)"
    }
  }

  /// The axis order that takes the zoo's tensor of Keras's weight `name` to Keras's layout
  /// (nil: unchanged).
  func kerasOrder(of name: String) -> [Int]? {
    switch (self, name) {
    case (.conv2d, "kernel"), (.convTranspose2d, "kernel"),
      (.depthwiseConv2d, "depthwise_kernel"), (.separableConv2d, "pointwise_kernel"):
      return [2, 3, 1, 0]
    case (.separableConv2d, "depthwise_kernel"): return [2, 3, 0, 1]
    case (.linear, "kernel"): return [1, 0]
    default: return nil
    }
  }

  /// The rank Keras's weight `name` has.
  func rank(of name: String) -> Int {
    isCount(name) ? 0 : kerasOrder(of: name)?.count ?? 1
  }

  /// Whether Keras's weight `name` is a `Normalization` layer's sample count: an int32 scalar
  /// in Keras, a float of shape (1) in the zoo.
  func isCount(_ name: String) -> Bool {
    self == .normalization && name == "count"
  }

  /// Whether a Keras weight of this name is a kernel (`kernel`, `depthwise_kernel`, ...)
  /// rather than a vector.
  static func isKernel(_ kerasName: String) -> Bool {
    kerasName.hasSuffix("kernel")
  }

  /// Whether Keras's weight `name` is a depthwise convolution's kernel, which the zoo keeps
  /// as a grouped convolution's (see above).
  private func isDepthwiseKernel(_ name: String) -> Bool {
    self == .depthwiseConv2d && name == "depthwise_kernel"
  }

  /// Keras's shape and values for the zoo's tensor of Keras's weight `name`.
  /// `depthwiseInputs` is a depthwise convolution's input channels, which Keras's kernel keeps
  /// on an axis of its own.
  func toKeras(_ tensor: Tensor, name: String, depthwiseInputs: Int? = nil) -> (
    shape: [Int], values: [Float]
  ) {
    if self == .layerScale { return ([tensor.count], tensor.scalars) }
    if isCount(name) { return ([], tensor.scalars) }
    guard let order = kerasOrder(of: name) else { return (tensor.shape, tensor.scalars) }
    var keras = Layout.permuted(tensor.scalars, shape: tensor.shape, order: order)
    if isDepthwiseKernel(name), let inputs = depthwiseInputs {
      // (kh, kw, 1, in · multiplier) is (kh, kw, in, multiplier) in the same order.
      keras.shape = [keras.shape[0], keras.shape[1], inputs, keras.shape[3] / inputs]
    }
    return keras
  }

  /// The zoo's shape and values for Keras's weight `name`, of the right rank.
  func fromKeras(_ values: [Float], shape: [Int], name: String) -> (shape: [Int], values: [Float]) {
    if self == .layerScale { return (shape + [1, 1], values) }
    if isCount(name) { return ([1], values) }
    guard let order = kerasOrder(of: name) else { return (shape, values) }
    let grouped = isDepthwiseKernel(name) ? [shape[0], shape[1], 1, shape[2] * shape[3]] : shape
    return Layout.permuted(values, shape: grouped, order: Layout.inverse(order))
  }
}

/// A model whose dense layers read flattened feature maps. PyTorch and the zoo flatten a
/// (channels, height, width) map in that order; Keras, channels last, flattens (height, width,
/// channels). The same dense layer therefore has its kernel's input rows in another order in
/// Keras, and weights crossing between the two must permute them.
public protocol FlattenedInputs {
  /// The path of each dense layer that reads a flattened map, with that map's
  /// (channels, height, width).
  var flattenedInputs: [String: [Int]] { get }
}

/// The input order of a dense layer that reads a flattened (channels, height, width) map. The
/// zoo's weight is (out, in) with inputs in CHW order; Keras's kernel is its transpose with
/// inputs in HWC order. Reordering the inputs within each output row, then the usual transpose,
/// crosses between the two.
enum FlattenOrder {
  /// A weight (out, C·H·W) with its inputs reordered to H·W·C.
  static func channelsLast(_ values: [Float], outputs: Int, map: [Int]) -> [Float] {
    Layout.permuted(values, shape: [outputs, map[0], map[1] * map[2]], order: [0, 2, 1]).values
  }

  /// A weight (out, H·W·C) with its inputs reordered to C·H·W.
  static func channelsFirst(_ values: [Float], outputs: Int, map: [Int]) -> [Float] {
    Layout.permuted(values, shape: [outputs, map[1] * map[2], map[0]], order: [0, 2, 1]).values
  }
}

/// Axis permutations of row-major arrays.
enum Layout {
  /// `values` of `shape` with its axes reordered: output axis k is input axis `order[k]`.
  static func permuted(_ values: [Float], shape: [Int], order: [Int]) -> (
    shape: [Int], values: [Float]
  ) {
    precondition(order.sorted() == Array(shape.indices), "\(order) is not a permutation")
    let outputShape = order.map { shape[$0] }
    guard values.count > 1, order != Array(shape.indices) else { return (outputShape, values) }
    var strides = [Int](repeating: 1, count: shape.count)
    for axis in shape.indices.dropLast().reversed() {
      strides[axis] = strides[axis + 1] * shape[axis + 1]
    }
    let sourceStrides = order.map { strides[$0] }
    let output = [Float](unsafeUninitializedCapacity: values.count) { output, initialized in
      values.withUnsafeBufferPointer { input in
        if shape.count == 2 {
          transpose(input, rows: shape[0], columns: shape[1], into: output)
        } else {
          gather(input, shape: outputShape, strides: sourceStrides, into: output)
        }
      }
      initialized = values.count
    }
    return (outputShape, output)
  }

  static func inverse(_ order: [Int]) -> [Int] {
    var inverse = [Int](repeating: 0, count: order.count)
    for (position, axis) in order.enumerated() { inverse[axis] = position }
    return inverse
  }

  /// (rows, columns) to (columns, rows) in 32x32 tiles, so neither side strides through
  /// memory one element per cache line (VGG's first dense kernel is 102M values).
  private static func transpose(
    _ input: UnsafeBufferPointer<Float>, rows: Int, columns: Int,
    into output: UnsafeMutableBufferPointer<Float>
  ) {
    let tile = 32
    for rowStart in stride(from: 0, to: rows, by: tile) {
      let rowEnd = min(rowStart + tile, rows)
      for columnStart in stride(from: 0, to: columns, by: tile) {
        let columnEnd = min(columnStart + tile, columns)
        for row in rowStart..<rowEnd {
          for column in columnStart..<columnEnd {
            output[column * rows + row] = input[row * columns + column]
          }
        }
      }
    }
  }

  /// Writes the output in order, reading the input element each output index maps to.
  private static func gather(
    _ input: UnsafeBufferPointer<Float>, shape: [Int], strides: [Int],
    into output: UnsafeMutableBufferPointer<Float>
  ) {
    let rank = shape.count
    let innerSize = shape[rank - 1]
    let innerStride = strides[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var source = 0
    var target = 0
    while target < output.count {
      var element = source
      for _ in 0..<innerSize {
        output[target] = input[element]
        target += 1
        element += innerStride
      }
      // Advance the outer axes like an odometer.
      var axis = rank - 2
      while axis >= 0 {
        index[axis] += 1
        source += strides[axis]
        if index[axis] < shape[axis] { break }
        source -= strides[axis] * shape[axis]
        index[axis] = 0
        axis -= 1
      }
      if axis < 0 { break }
    }
  }
}

extension Conv2d {
  /// Whether each input channel has filters of its own (groups equal to the input channels):
  /// Keras's DepthwiseConv2D. A single-channel input's convolution is an ordinary one.
  var isDepthwise: Bool { groups > 1 && weight.shape[1] == 1 }
}
