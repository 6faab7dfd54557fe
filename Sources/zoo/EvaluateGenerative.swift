import ArgumentParser
import Foundation
import Zoo
import ZooData

extension Evaluate {
  /// `zoo evaluate` of an autoencoder or a VAE: reconstruction error and negative ELBO per image
  /// on the held-out split; with `--anomaly CLASS`, how well the reconstruction error tells that
  /// class (left out of training) from the others.
  func evaluateGenerative(_ source: PretrainedSource) throws {
    let trained = try TrainedModel(source)
    guard let model = trained.model as? ConvAutoencoder else {
      throw ValidationErrorLine(message: "\(trained.entry.name) is not an autoencoder")
    }
    let data = try dataOptions.load(
      inputShape: trained.inputShape, seed: seed ?? trained.card?.seed ?? 0, scaled: false)
    let examples = split == .train ? data.train : data.validation
    let splitName = split == .train ? "train" : data.validationName
    if let anomaly { try checkLeftOut(anomaly, trained: trained, data: data) }
    let evaluation = try GenerativeEvaluation.evaluate(
      model, on: trained.batches(examples), reconstruction: .bce)
    print(
      "\(trained.url.lastPathComponent) (\(trained.entry.name), \(model.latentSize)-unit code) on \(dataOptions.data), \(splitName) split: \(examples.count) images"
    )
    if model.kind == .variational {
      print(
        String(
          format:
            "negative ELBO %.2f nats per image (reconstruction %.2f + KL %.2f; one sample of the code per image)",
          evaluation.loss, evaluation.reconstruction, evaluation.kl))
    } else {
      print(
        String(
          format: "reconstruction cross-entropy %.2f nats per image", evaluation.reconstruction))
    }
    print(
      String(
        format: "squared reconstruction error %.3f per image (%.5f per pixel)",
        evaluation.meanSquaredError,
        evaluation.meanSquaredError / Float(trained.inputShape.reduce(1, *))))
    guard let anomaly else { return }
    let labels = examples.labels
    guard
      let auroc = areaUnderROC(
        scores: evaluation.squaredErrors, positives: labels.map { $0 == anomaly })
    else {
      throw ValidationErrorLine(
        message: "\(dataOptions.data) has no test images of class \(anomaly) and others to compare")
    }
    let name = anomaly < data.classNames.count ? data.classNames[anomaly] : "class \(anomaly)"
    print(
      String(
        format:
          "anomaly %@ (class %d, left out of training): AUROC of the reconstruction error %.4f",
        name, anomaly, auroc))
  }

  /// Stops unless the model was trained on a Fashion-MNIST selection without `anomaly` and the
  /// data holds all ten classes, so labels are the original class numbers.
  private func checkLeftOut(_ anomaly: Int, trained: TrainedModel, data: LoadedData) throws {
    guard data.classNames.count == FashionMNIST.classNames.count, (0..<10).contains(anomaly) else {
      throw ValidationErrorLine(
        message:
          "--anomaly takes a Fashion-MNIST class 0-9 measured on --data fashion-mnist, got class \(anomaly) on \(dataOptions.data)"
      )
    }
    let trainedOn = trained.card.flatMap { try? DataSource(parsing: $0.data) }
    guard case .fashionMNIST(let classes?) = trainedOn, !classes.contains(anomaly) else {
      throw ValidationErrorLine(
        message:
          "\(trained.url.lastPathComponent) was trained on \(trained.card?.data ?? "unrecorded data"), which includes class \(anomaly); --anomaly needs a model trained without it (zoo train \(trained.entry.name) --data fashion-mnist:\((0..<10).filter { $0 != anomaly }.map(String.init).joined(separator: ",")))"
      )
    }
  }
}
