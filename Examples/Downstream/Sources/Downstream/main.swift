// Transfer learning from another package: load the shipped LeNet-5 trained on Fashion-MNIST
// classes 0-4, swap its head for classes 5-9, freeze the backbone, fine-tune the head for a
// few epochs on 10 labelled images per class, save the result as an HDF5 weight file and read
// it back. Exits non-zero when any step fails or the file does not reproduce the model.
import Foundation
import Transfer
import Zoo
import ZooData
import ZooIO
import ZooNN
import ZooTensor

do {
  // 1. The shipped backbone: registry entry, weight file, strict load.
  let entry = try ModelRegistry.entry(named: "lenet5")
  guard let shipped = entry.weights.first(where: { $0.data == "fashion-mnist:0-4" }),
    let url = shipped.url
  else {
    fatalError("zoo/lenet5-fashion-mnist-0-4.h5 not found; run from inside the zoo checkout")
  }
  let weights = try WeightFile.read(contentsOf: url)
  let model = try entry.buildClassifier(classCount: weights.metadata.classCount)
  try weights.load(into: model)
  print("loaded \(url.lastPathComponent): \(weights.metadata.classNames ?? [])")

  // 2. Target data: classes 5-9 of the test split (smaller to read than the training split).
  let target = [5, 6, 7, 8, 9]
  let images = try FashionMNIST.load(.test).subset(classes: target)
  let (pool, held) = try images.stratifiedSplit(validationFraction: 0.1, seed: 0)
  let shots = try pool.kShot(10, seed: 0)
  let validation = try held.kShot(40, seed: 1)

  // 3. New head, frozen backbone, a short head-only fine-tune on cached features.
  print(model.replaceHead(classCount: target.count, rng: RandomStream(seed: 0)))
  var configuration = FineTuneConfiguration()
  configuration.freeze = .backbone
  configuration.headEpochs = 15
  configuration.learningRate = 0.03
  configuration.batchSize = 10
  print(try model.freeze(configuration.freeze))
  let normalization = Normalization.fashionMNIST
  let result = try FineTuner(model: model, configuration: configuration).run(
    train: ImageBatches(shots, normalization: normalization, batchSize: 10),
    validation: ImageBatches(validation, normalization: normalization, batchSize: 100))
  let first = result.history.first!
  print(
    "head epochs: \(result.history.count), validation accuracy \(first.validationAccuracy) after the first, \(result.best.validationAccuracy) at the best (epoch \(result.best.epoch))"
  )
  guard result.best.validationAccuracy > 0.4 else {
    fatalError("fine-tuning the head did not learn the new classes")
  }

  // 4. Save with the new class names, read back, compare.
  let out = FileManager.default.temporaryDirectory.appendingPathComponent("downstream-finetuned.h5")
  try WeightFile.write(
    model,
    metadata: WeightFileMetadata(
      architecture: entry.name, classCount: target.count, inputShape: entry.inputShape,
      classNames: shots.classNames, normalizationMean: normalization.mean,
      normalizationStd: normalization.std),
    to: out)
  let saved = try WeightFile.read(contentsOf: out)
  let reloaded = try entry.buildClassifier(classCount: saved.metadata.classCount)
  try saved.load(into: reloaded)
  let probe = ImageBatches(validation, normalization: normalization, batchSize: 100)
    .evaluationBatches[0].inputs
  model.setTraining(false)
  reloaded.setTraining(false)
  let same = try withoutGradients { try model(probe).scalars == reloaded(probe).scalars }
  guard same, saved.metadata.classNames == shots.classNames else {
    fatalError("\(out.path) does not reproduce the fine-tuned model")
  }
  print("wrote \(out.path) (\(saved.metadata.classNames ?? [])) and read it back: same logits")
} catch {
  print("error: \(error.localizedDescription)")
  exit(1)
}
