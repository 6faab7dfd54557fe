/// A float32 tensor: contiguous, row-major, image batches in NCHW order.
///
/// Tensors have reference semantics, like PyTorch's: a parameter is one object that layers,
/// optimisers and weight files share. `reshaped` is free; every other op makes a new tensor.
public final class Tensor {
  /// Sizes of each dimension, outermost first.
  public let shape: [Int]
  /// The values in row-major order; `scalars.count == shape.reduce(1, *)`.
  public var scalars: [Float]
  /// Whether gradients flow to this tensor. A tensor made by an op needs a gradient when
  /// any of its inputs does (and gradient recording is on).
  public var requiresGrad: Bool
  /// The gradient accumulated by `backward()`; kept for leaves (parameters) only.
  public var grad: Tensor?
  /// The op that made this tensor, while its graph is alive.
  var producer: TapeNode?

  public init(shape: [Int], scalars: [Float], requiresGrad: Bool = false) {
    precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative size")
    precondition(
      shape.reduce(1, *) == scalars.count,
      "Tensor shape \(shape) needs \(shape.reduce(1, *)) values, got \(scalars.count)")
    self.shape = shape
    self.scalars = scalars
    self.requiresGrad = requiresGrad
    Memory.configured
  }

  /// A tensor filled with `value`.
  public convenience init(shape: [Int], repeating value: Float = 0, requiresGrad: Bool = false) {
    self.init(
      shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)),
      requiresGrad: requiresGrad)
  }

  /// A scalar (rank-0) tensor.
  public convenience init(_ value: Float) {
    self.init(shape: [], scalars: [value])
  }

  public var count: Int { scalars.count }
  public var rank: Int { shape.count }

  /// The single value of a one-element tensor.
  public var item: Float {
    precondition(count == 1, "item needs a one-element tensor, this one has shape \(shape)")
    return scalars[0]
  }

  /// A copy that shares nothing and records no history.
  public func detached() -> Tensor {
    Tensor(shape: shape, scalars: scalars)
  }

  /// Clears the accumulated gradient.
  public func zeroGrad() {
    grad = nil
  }

  /// Adds `values` into the gradient, creating it at zero first.
  func accumulateGrad(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
    if grad == nil { grad = Tensor(shape: shape) }
    grad!.scalars.withUnsafeMutableBufferPointer { body($0) }
  }

  /// Like `accumulateGrad`, but when there is no gradient yet `body` gets uninitialised
  /// memory and `overwrite == true`, and must set every element: that saves a zero fill and
  /// a read of every element, which for large activations cost more than the arithmetic.
  func accumulateOrWriteGrad(
    _ body: (UnsafeMutableBufferPointer<Float>, _ overwrite: Bool) -> Void
  ) {
    let overwrite = grad == nil
    if overwrite { grad = Tensor.uninitialized(shape: shape) }
    grad!.scalars.withUnsafeMutableBufferPointer { body($0, overwrite) }
  }

  /// A tensor whose values the caller sets before anyone reads them.
  static func uninitialized(shape: [Int]) -> Tensor {
    Tensor(shape: shape, scalars: uninitializedArray(shape.reduce(1, *)))
  }
}

/// `count` elements that the caller sets before anyone reads them. No elements make a plain
/// empty array: `init(unsafeUninitializedCapacity:)` with no capacity stores its count into
/// the storage that every empty array shares, a write that races with other threads' reads.
func uninitializedArray<Element: BitwiseCopyable>(_ count: Int) -> [Element] {
  guard count > 0 else { return [] }
  return [Element](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let preview = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
    return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", ..." : "")])"
  }
}

/// Formats a shape the way errors print it: `[64, 3, 7, 7]`.
public func describe(shape: [Int]) -> String {
  "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
