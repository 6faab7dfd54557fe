import Testing
import ZooNN
import ZooTensor

@Suite struct LayerTests {
  @Test func sequentialNumbersParameterFreeLayersLikePyTorch() {
    let features = Sequential {
      Conv2d(3, 8, kernelSize: 3, padding: 1)
      ReLU()
      MaxPool2d(2)
      Conv2d(8, 8, kernelSize: 3, bias: false)
      BatchNorm(8)
    }
    #expect(
      features.stateDict().map(\.path) == [
        "0.weight", "0.bias", "3.weight", "4.weight", "4.bias", "4.running_mean", "4.running_var",
      ])
    #expect(features.trainableParameters().count == 5)
  }

  @Test func batchNormUpdatesStatisticsOnlyWhenTrainingAndNotFrozen() throws {
    var g = SeededGenerator(seed: 4)
    let x = Tensor.normal(shape: [4, 3, 5, 5], mean: 2, std: 3, generator: &g)
    let bn = BatchNorm(3)
    _ = try bn(x)
    #expect(bn.runningMean.scalars.allSatisfy { $0 > 0.1 })
    let afterTraining = bn.runningMean.scalars

    bn.setTraining(false)
    _ = try bn(x)
    #expect(bn.runningMean.scalars == afterTraining)

    bn.setTraining(true)
    bn.setTrainable(false)
    #expect(!bn.usesBatchStatistics)
    _ = try bn(x)
    #expect(bn.runningMean.scalars == afterTraining)
  }

  @Test func batchNormKeepsItsEpsilon() throws {
    let bn = BatchNorm(1, eps: 1e-3)
    bn.setTraining(false)
    let y = try bn(Tensor(shape: [1, 1], scalars: [1]))
    #expect(abs(y.item - 1 / (1 + 1e-3 as Float).squareRoot()) < 1e-6)
  }

  @Test func dropoutIsIdentityInInferenceMode() throws {
    let layer = Dropout(0.5, rng: RandomStream(seed: 1))
    let x = Tensor(shape: [2, 8], repeating: 1)
    #expect(try layer(x).scalars.contains(0))
    layer.setTraining(false)
    #expect(try layer(x).scalars == x.scalars)
  }

  @Test func stochasticDepthIsIdentityInInferenceMode() throws {
    let layer = StochasticDepth(0.5, rng: RandomStream(seed: 1))
    let x = Tensor(shape: [32, 4], repeating: 1)
    let trained = try layer(x).scalars
    #expect(trained.contains(0) && trained.contains(2))
    layer.setTraining(false)
    #expect(try layer(x) === x)
    #expect(layer.parameterCount == 0)
  }

  @Test func paddingLayersPadAsKeras() throws {
    let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map { -Float($0) })
    let padded = try ZeroPadding2d(Padding2D(top: 0, bottom: 1, left: 2, right: 0))(x)
    #expect(padded.shape == [1, 1, 5, 6])
    #expect(padded.scalars.prefix(6) == [0, 0, 0, -1, -2, -3])
    // Keras 'same' with stride 2 on an even size: windows start at rows 0 and 2.
    let pooled = try MaxPool2dSame(3, stride: 2)(x)
    #expect(pooled.scalars == [0, -2, -8, -10])
  }

  /// Keras's 'same' at stride 2 pads an even size at the bottom and right only, an odd size on
  /// both sides: the amounts follow each input.
  @Test func samePaddingFollowsTheInputSize() throws {
    let layer = SamePadding2d(kernelSize: 3, stride: 2)
    let even = try layer(Tensor(shape: [1, 1, 4, 6], repeating: 1))
    #expect(even.shape == [1, 1, 5, 7])
    #expect(even.scalars.prefix(7) == [1, 1, 1, 1, 1, 1, 0])
    let odd = try layer(Tensor(shape: [1, 1, 5, 5], repeating: 1))
    #expect(odd.shape == [1, 1, 7, 7])
    #expect(odd.scalars.prefix(8) == [0, 0, 0, 0, 0, 0, 0, 0])
    #expect(throws: TensorError.rankMismatch(op: "SamePadding2d", expected: 4, actual: [5, 5])) {
      try layer(Tensor(shape: [5, 5], repeating: 1))
    }
  }

  @Test func convolutionLayerInitialisesLikePyTorch() {
    let conv = Conv2d(4, 6, kernelSize: 3, rng: RandomStream(seed: 5))
    let bound = 1 / Float(4 * 9).squareRoot()
    #expect(conv.weight.shape == [6, 4, 3, 3])
    #expect(conv.weight.scalars.allSatisfy { abs($0) <= bound })
    #expect(conv.weight.scalars.max()! > 0.8 * bound)
    let up = ConvTranspose2d(8, 4, kernelSize: 2, stride: 2)
    #expect(up.weight.shape == [8, 4, 2, 2])
  }

  /// Inception v3's `nn.Conv2d(c, o, kernel_size=(1, 7), padding=(0, 3))`: the weight is
  /// (o, c, 1, 7), its bound uses the 7-tap fan-in, and the map keeps its size.
  @Test func rectangularConvolutionLayerKeepsTheMapSize() throws {
    let conv = Conv2d(4, 6, kernelSize: (1, 7), padding: (0, 3), rng: RandomStream(seed: 5))
    #expect(conv.weight.shape == [6, 4, 1, 7])
    let bound = 1 / Float(4 * 7).squareRoot()
    #expect(conv.weight.scalars.allSatisfy { abs($0) <= bound })
    var g = SeededGenerator(seed: 6)
    let x = Tensor.normal(shape: [2, 4, 5, 9], generator: &g)
    let y = try conv(x)
    #expect(y.shape == [2, 6, 5, 9])
    let strided = Conv2d(4, 3, kernelSize: (7, 1), stride: (2, 1), padding: (3, 0))
    #expect(try strided(x).shape == [2, 3, 3, 9])
  }

  @Test func activationLayersApplyTheirFunctionsUnderTorchNames() throws {
    let x = Tensor(shape: [6], scalars: [-4, -3, -0.5, 0.5, 3, 4])
    let layers: [(Module, String, Tensor)] = [
      (SiLU(), "SiLU", silu(x)), (Hardsigmoid(), "Hardsigmoid", hardSigmoid(x)),
      (Hardswish(), "Hardswish", hardSwish(x)), (GELU(), "GELU", gelu(x)),
      (GELU(approximate: .tanh), "GELU", gelu(x, approximate: .tanh)),
    ]
    for (layer, typeName, expected) in layers {
      #expect(layer.typeName == typeName)
      #expect(try layer(x).scalars == expected.scalars, "\(typeName)")
    }
    #expect(gelu(x, approximate: .tanh).scalars != gelu(x).scalars)
  }

  /// `nn.Conv2d(c, c, 3, groups=c)`: weight (c, 1, 3, 3), fan-in 9, one MAC per tap.
  @Test func depthwiseConvolutionLayerHasOneKernelPerChannel() throws {
    let conv = Conv2d(8, 8, kernelSize: 3, padding: 1, groups: 8, rng: RandomStream(seed: 7))
    #expect(conv.weight.shape == [8, 1, 3, 3])
    #expect(conv.weight.scalars.allSatisfy { abs($0) <= 1 / Float(9).squareRoot() })
    #expect(conv.weight.scalars.max()! > 0.8 / Float(9).squareRoot())
    #expect(conv.multiplyAccumulates(input: [1, 8, 5, 5], output: [1, 8, 5, 5]) == 8 * 25 * 9)
    #expect(try conv(Tensor(shape: [1, 8, 5, 5])).shape == [1, 8, 5, 5])
  }

  @Test func layerShapesFlowThroughAStack() throws {
    let net = Sequential {
      Conv2d(1, 4, kernelSize: 3, padding: 1)
      BatchNorm(4)
      LeakyReLU()
      AvgPool2d(2)
      Upsample(scale: 2)
      ConvTranspose2d(4, 2, kernelSize: 2, stride: 2)
      GELU()
      AdaptiveAvgPool2d(1, 1)
      Flatten()
      Linear(2, 3)
      Softplus()
      Tanh()
      Sigmoid()
    }
    #expect(try net(Tensor(shape: [2, 1, 8, 8], repeating: 0.5)).shape == [2, 3])
  }
}
