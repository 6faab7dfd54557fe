import Foundation
import Testing
import ZooData
import ZooTensor

@Suite struct BatchingTests {
  static let images = LabeledImages(
    channels: 3, height: 8, width: 8, pixels: (0..<(37 * 192)).map { UInt8(($0 * 7) % 256) },
    labels: (0..<37).map { $0 % 3 }, classNames: ["a", "b", "c"])

  static let table = LabeledTable(
    featureNames: ["x", "y"], features: (0..<20).map(Float.init),
    labels: [0, 1, 0, 1, 1, 0, 0, 1, 1, 0],
    classNames: ["no", "yes"])

  @Test func imageBatchesKeepTheirTensorAPI() {
    let source = ImageBatches(Self.images, normalization: .imageNet, batchSize: 16)
    let order = source.order(seed: 5)
    let (x, labels) = source.batch(2, order: order)
    #expect(x.shape == [5, 3, 8, 8])
    #expect(labels == order[32...].map { Self.images.labels[$0] })
    let batch = source.batch(2, order: order, augmentation: nil)
    #expect(batch.values == x.scalars)
    #expect(batch.indices == Array(order[32...]))
    // Pixel 0 of channel 1 of the first image in the batch, normalised by hand.
    let pixel = Float(Self.images.pixels[order[32] * 192 + 64])
    #expect(x.scalars[64] == pixel * (1 / (255 * 0.224)) - 0.456 / 0.224)
  }

  @Test func tableRowsBatchAsMatrices() {
    let source = TableBatches(Self.table, batchSize: 4)
    #expect(source.batchCount == 3)
    let batch = source.batch(2, order: Array((0..<10).reversed()), augmentation: nil)
    #expect(batch.shape == [2, 2])
    #expect(batch.values == [2, 3, 0, 1])
    #expect(batch.labels == [1, 0])
    let (x, _) = source.batch(0, order: source.order(seed: nil))
    #expect(x.shape == [4, 2])
    #expect(Self.table.tensor.shape == [10, 2])
  }

  @Test func examplesServeEitherKind() {
    let images = Examples.images(Self.images).batches(batchSize: 10)
    #expect(images.exampleShape == [3, 8, 8])
    #expect(
      images.batch(0, order: images.order(seed: nil), augmentation: nil).values[1] == 7
        * (1 / Float(255)))
    let rows = Examples.table(Self.table).batches(batchSize: 10)
    #expect(rows.exampleShape == [2])
    #expect(rows.evaluationBatches.count == 1)
  }

  @Test func trainingEpochsShuffleLikeTheTrainer() {
    let source = ImageBatches(Self.images, normalization: .imageNet, batchSize: 8)
    let epoch = source.trainingEpoch(4, seed: 9)
    #expect(epoch.order == source.order(seed: 9 &+ 4))
    #expect(epoch.count == 5)
    #expect(epoch.augmentation == AugmentationKey(seed: 9, epoch: 4))
  }

  @Test func prefetchedBatchesEqualSynchronousOnes() {
    let augmented = ImageBatches(
      Self.images, normalization: .imageNet, batchSize: 6, augmentation: .resizedCropFlip)
    let plain = ImageBatches(Self.images, normalization: .imageNet, batchSize: 6)
    let sources: [any ExampleSource] = [augmented, plain, TableBatches(Self.table, batchSize: 3)]
    for source in sources {
      for epoch in 1...3 {
        let batches = source.trainingEpoch(epoch, seed: 11)
        let prefetched = Array(batches.prefetched())
        #expect(prefetched == Array(batches))
        #expect(prefetched.count == source.batchCount)
      }
    }
    #expect(Array(augmented.trainingEpoch(1, seed: 11).prefetched(depth: 1)).count == 7)
  }

  @Test func prefetchingStaysBoundedAndStopsWhenAbandoned() throws {
    let source = CountingSource(count: 100, batchSize: 1)
    do {
      let iterator = source.trainingEpoch(0, seed: 0).prefetched(depth: 2).makeIterator()
      #expect(iterator.next()?.labels == [source.order(seed: 0)[0] % 2])
      Thread.sleep(forTimeInterval: 0.05)
      // One batch taken, two waiting, at most one being assembled.
      #expect(source.written.value <= 4)
    }
    Thread.sleep(forTimeInterval: 0.05)
    #expect(source.written.value <= 4)
  }
}

/// A source of 1-value examples that counts the examples written.
struct CountingSource: ExampleSource {
  final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
  }

  let count: Int
  let batchSize: Int
  let written = Counter()
  var exampleShape: [Int] { [1] }
  func label(of index: Int) -> Int { index % 2 }

  func write(
    example index: Int, into out: UnsafeMutableBufferPointer<Float>,
    augmentation: AugmentationKey?
  ) {
    written.increment()
    out[0] = Float(index)
  }
}
