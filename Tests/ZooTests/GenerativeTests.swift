import Foundation
import Testing
import Zoo
import ZooData
import ZooNN
import ZooTensor
import ZooTestSupport

/// The autoencoders: their objective trains, their outputs have the documented shapes, their
/// encoder serves as a backbone, and the anomaly score's AUROC is the pairwise probability.
@Suite struct GenerativeTests {
  /// 256 Fashion-MNIST training images with pixels in [0, 1].
  static func images() throws -> Tensor {
    let images = try FashionMNIST.load(.train).prefix(256)
    return Tensor(shape: [256, 1, 28, 28], scalars: images.pixels.map { Float($0) / 255 })
  }

  @Test(.enabled(if: FashionMNIST.isInstalled), arguments: [AutoencoderKind.plain, .variational])
  func aFewStepsLowerTheLoss(_ kind: AutoencoderKind) throws {
    let model = ConvAutoencoder(kind, latentSize: 8, rng: RandomStream(seed: 1))
    let optimizer = Adam.adam(parameters: model.trainableParameters(), learningRate: 3e-3)
    let x = try Self.images()
    let random = RandomStream(seed: 2)
    var losses: [Float] = []
    for _ in 0..<20 {
      let terms = try generativeLoss(of: model, inputs: x, targets: x, random: random)
      losses.append(terms.total.item)
      #expect((terms.kl == nil) == (kind == .plain))
      optimizer.zeroGrad()
      try terms.total.backward()
      optimizer.step()
    }
    // Untrained, the cross-entropy is about 784 * log 2 = 543 nats per image.
    #expect(losses[0] > 450, "\(losses)")
    #expect(losses.last! < 0.9 * losses[0], "\(losses)")
  }

  @Test func generatedImagesHaveTheDocumentedShapes() throws {
    let model = ConvAutoencoder(.variational, latentSize: 2, rng: RandomStream(seed: 0))
    let samples = try model.sample(count: 5, random: RandomStream(seed: 1))
    #expect(samples.shape == [5, 1, 28, 28])
    #expect(samples.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    var g = SeededGenerator(seed: 3)
    let a = Tensor.uniform(shape: [1, 1, 28, 28], low: 0, high: 1, generator: &g)
    let b = Tensor.uniform(shape: [1, 1, 28, 28], low: 0, high: 1, generator: &g)
    let walk = try model.interpolate(from: a, to: b, steps: 6)
    #expect(walk.shape == [6, 1, 28, 28])
    // The ends of the walk are the reconstructions of the two images: up to rounding, as the
    // walk decodes six codes in one batch and the GEMM kernels may round by batch size.
    let ends = try withoutGradients { sigmoid(try model(a)) }
    #expect(relativeDifference(Array(walk.scalars[0..<784]), ends.scalars) < 1e-6)
    #expect(try model.latentPlane(side: 4).shape == [16, 1, 28, 28])
    let wide = ConvAutoencoder(.variational, latentSize: 3, rng: RandomStream(seed: 0))
    #expect(
      throws: TensorError.invalidArgument(
        op: "latentPlane", message: "needs a 2-D latent code, this model's has 3")
    ) { try wide.latentPlane(side: 4) }
    #expect(
      throws: TensorError.invalidArgument(
        op: "vae", message: "expected (N, C, 28, 28) images, got [1, 1, 32, 32]")
    ) { try wide(Tensor(shape: [1, 1, 32, 32])) }
  }

  @Test func theEncoderIsABackboneUnderTheHeadContract() throws {
    let model = ConvAutoencoder(.variational, latentSize: 6, rng: RandomStream(seed: 0))
    let classifier = EncoderClassifier(model, classCount: 0)
    #expect(classifier.featureCount == 6)
    classifier.resetClassifier(classCount: 5, rng: RandomStream(seed: 1))
    let x = Tensor(shape: [3, 1, 28, 28], repeating: 0.5)
    #expect(try classifier(x).shape == [3, 5])
    // The encoder's tensors are the autoencoder's, under the same paths.
    let encoderPaths = model.stateDict().map(\.path).filter { $0.hasPrefix("encoder.") }
    let classifierPaths = classifier.stateDict().map(\.path)
    #expect(classifierPaths == encoderPaths + ["fc.weight", "fc.bias"])
    #expect(try classifier.features(x).scalars == (try model.encode(x).mean.scalars))
  }

  @Test func aHeadCanReadTheConvolutionalMapBeforeTheCode() throws {
    let model = ConvAutoencoder(.variational, latentSize: 6, rng: RandomStream(seed: 0))
    let classifier = EncoderClassifier(model, classCount: 5, features: .map)
    #expect(classifier.featureCount == 32 * 7 * 7)
    #expect(classifier.stateDict().first { $0.path == "fc.weight" }?.tensor.shape == [5, 1568])
    let x = Tensor(shape: [2, 1, 28, 28], repeating: 0.5)
    #expect(try classifier.features(x).shape == [2, 1568])
    #expect(try classifier(x).shape == [2, 5])
    // The code is the latent layer applied to that map.
    let state = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.path, $0.tensor) })
    let (weight, bias) = (state["encoder.latent.weight"]!.scalars, state["encoder.latent.bias"]!)
    let map = try classifier.features(x).scalars
    let code = try model.encode(x).mean.scalars
    for n in 0..<2 {
      for j in 0..<6 {
        var sum = bias.scalars[j]
        for i in 0..<1568 { sum += weight[j * 1568 + i] * map[n * 1568 + i] }
        #expect(abs(sum - code[n * 6 + j]) <= 1e-4 * max(1, abs(sum)))
      }
    }
  }

  @Test func areaUnderROCIsThePairwiseProbability() {
    #expect(areaUnderROC(scores: [1, 2, 3, 4], positives: [false, false, true, true]) == 1)
    #expect(areaUnderROC(scores: [1, 2, 3, 4], positives: [true, true, false, false]) == 0)
    #expect(areaUnderROC(scores: [1, 1, 1, 1], positives: [true, false, true, false]) == 0.5)
    #expect(areaUnderROC(scores: [1, 2], positives: [true, true]) == nil)
    var g = SeededGenerator(seed: 5)
    let scores = (0..<200).map { _ in Float(Int(g.next() % 20)) }
    let positives = (0..<200).map { _ in g.next() % 3 == 0 }
    var (wins, pairs) = (0.0, 0.0)
    for i in scores.indices where positives[i] {
      for j in scores.indices where !positives[j] {
        wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0
        pairs += 1
      }
    }
    let auc = areaUnderROC(scores: scores, positives: positives)!
    #expect(abs(auc - wins / pairs) < 1e-12)
  }
}
