import Foundation
import ZooTensor

/// A labelled data set that can be cut into subsets: images or table rows.
public protocol LabeledExamples: Sendable {
  /// The class of each example, in `0..<classNames.count`.
  var labels: [Int] { get }
  /// The name of each class, indexed by label.
  var classNames: [String] { get }
  /// The examples at `indices`, in that order, with the same classes.
  func selecting(_ indices: [Int]) -> Self
}

public enum SamplingError: Error, Equatable, LocalizedError {
  case tooFewExamples(className: String, count: Int, shots: Int)
  case invalidShots(Int)
  case invalidFraction(Double)
  case emptyValidationSplit(fraction: Double, count: Int)

  public var errorDescription: String? {
    switch self {
    case .tooFewExamples(let name, let count, let shots):
      return
        "class '\(name)' has \(count) example\(count == 1 ? "" : "s"), fewer than the \(shots) shots asked for; lower the shots or add examples"
    case .invalidShots(let shots):
      return "shots per class must be at least 1, got \(shots)"
    case .invalidFraction(let fraction):
      return "the validation fraction must lie strictly between 0 and 1, got \(fraction)"
    case .emptyValidationSplit(let fraction, let count):
      return
        "a validation fraction of \(fraction) of \(count) examples leaves no validation examples; raise the fraction or provide a val/ folder"
    }
  }
}

extension LabeledExamples {
  public var count: Int { labels.count }

  /// How many examples each class has, indexed by label.
  public var classCounts: [Int] {
    var counts = [Int](repeating: 0, count: classNames.count)
    for label in labels { counts[label] += 1 }
    return counts
  }

  /// `shots` examples of every class, drawn at random by `seed` (the same seed gives the same
  /// subset), kept in their original order.
  public func kShot(_ shots: Int, seed: UInt64) throws -> Self {
    guard shots >= 1 else { throw SamplingError.invalidShots(shots) }
    let groups = indicesByClass(seed: seed)
    for (label, group) in groups.enumerated() where group.count < shots {
      throw SamplingError.tooFewExamples(
        className: classNames[label], count: group.count, shots: shots)
    }
    return selecting(groups.flatMap { $0.prefix(shots) }.sorted())
  }

  /// A split that keeps each class's share: `fraction * n` of a class's `n` examples (rounded,
  /// halves up), drawn by `seed`, go to validation, but at least one stays for training.
  /// Both parts keep the original order.
  public func stratifiedSplit(validationFraction fraction: Double, seed: UInt64) throws -> (
    train: Self, validation: Self
  ) {
    guard fraction > 0 && fraction < 1 else { throw SamplingError.invalidFraction(fraction) }
    var train: [Int] = []
    var validation: [Int] = []
    for group in indicesByClass(seed: seed) {
      let held = min(Int((fraction * Double(group.count)).rounded()), max(group.count - 1, 0))
      validation += group.prefix(held)
      train += group.dropFirst(held)
    }
    guard !validation.isEmpty else {
      throw SamplingError.emptyValidationSplit(fraction: fraction, count: count)
    }
    return (selecting(train.sorted()), selecting(validation.sorted()))
  }

  /// The indices of each class, shuffled by a generator seeded from `seed` and the class, so
  /// a class's draw does not depend on the other classes.
  private func indicesByClass(seed: UInt64) -> [[Int]] {
    var groups = [[Int]](repeating: [], count: classNames.count)
    for (index, label) in labels.enumerated() { groups[label].append(index) }
    return groups.enumerated().map { label, group in
      var mixer = SeededGenerator(seed: seed)
      var generator = SeededGenerator(seed: mixer.next() ^ UInt64(label))
      return group.shuffled(using: &generator)
    }
  }
}

extension LabeledImages: LabeledExamples {
  public func selecting(_ indices: [Int]) -> LabeledImages {
    var selected = [UInt8]()
    selected.reserveCapacity(indices.count * imageSize)
    for i in indices {
      selected.append(contentsOf: pixels[(i * imageSize)..<((i + 1) * imageSize)])
    }
    return LabeledImages(
      channels: channels, height: height, width: width, pixels: selected,
      labels: indices.map { labels[$0] }, classNames: classNames)
  }
}
