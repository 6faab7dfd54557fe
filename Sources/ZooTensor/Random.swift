import Foundation

/// A seeded random source (SplitMix64): the same seed gives the same weights, shuffles and
/// dropout masks on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  /// The whole state: `SeededGenerator(seed: state)` continues the same sequence.
  public private(set) var state: UInt64

  public init(seed: UInt64) {
    state = seed
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform value in `[0, 1)` with 24 random bits.
  public mutating func nextUniform() -> Float {
    Float(next() >> 40) * (1.0 / Float(1 << 24))
  }

  /// A standard normal value (Box-Muller).
  public mutating func nextNormal() -> Float {
    let u1 = max(Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53)), .leastNonzeroMagnitude)
    let u2 = Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53))
    return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
  }
}

extension Tensor {
  /// Values drawn uniformly from `low..<high`.
  public static func uniform(
    shape: [Int], low: Float, high: Float, generator: inout SeededGenerator,
    requiresGrad: Bool = false
  ) -> Tensor {
    let count = shape.reduce(1, *)
    let values = (0..<count).map { _ in low + (high - low) * generator.nextUniform() }
    return Tensor(shape: shape, scalars: values, requiresGrad: requiresGrad)
  }

  /// Values drawn from a normal distribution.
  public static func normal(
    shape: [Int], mean: Float = 0, std: Float = 1, generator: inout SeededGenerator,
    requiresGrad: Bool = false
  ) -> Tensor {
    let count = shape.reduce(1, *)
    let values = (0..<count).map { _ in mean + std * generator.nextNormal() }
    return Tensor(shape: shape, scalars: values, requiresGrad: requiresGrad)
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A shared, seeded random source for code that cannot thread an `inout` generator through
/// (layer constructors, dropout inside a model), like `torch.Generator`.
public final class RandomStream: @unchecked Sendable {
  private var generator: SeededGenerator
  private let lock = NSLock()

  public init(seed: UInt64) {
    generator = SeededGenerator(seed: seed)
  }

  /// The process-wide stream, used when no stream is given. Seeded with 0.
  public static let global = RandomStream(seed: 0)

  /// Runs `body` with exclusive use of the generator.
  public func withGenerator<T>(_ body: (inout SeededGenerator) throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body(&generator)
  }

  /// The generator's state; `reseed(state)` returns the stream to this point.
  public var state: UInt64 { withGenerator { $0.state } }

  /// Re-seeds the stream.
  public func reseed(_ seed: UInt64) {
    withGenerator { $0 = SeededGenerator(seed: seed) }
  }
}
