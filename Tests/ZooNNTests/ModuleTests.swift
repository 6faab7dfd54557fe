import Testing
import ZooNN
import ZooTensor

/// A two-level model whose paths must read like a PyTorch state dict.
private final class TinyNet: Module {
  let body = Sequential([
    Linear(4, 8, rng: RandomStream(seed: 1)), Identity(), Linear(8, 8, rng: RandomStream(seed: 2)),
  ])
  var fc = Linear(8, 3, rng: RandomStream(seed: 3))

  override init() {
    super.init()
    register("body", body)
    register("fc", fc)
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    try fc(try body(x))
  }
}

@Suite struct ModuleTests {
  @Test func parameterPathsFollowTheStructure() {
    let net = TinyNet()
    #expect(
      net.namedParameters().map(\.path) == [
        "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias", "fc.weight", "fc.bias",
      ])
    #expect(net.parameterCount == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3)
    #expect(net.child(at: "body.2") === net.body.layers[2])
  }

  @Test func freezingByPrefixIsIdempotentAndReversible() {
    let net = TinyNet()
    net.setTrainable(false, prefix: "body")
    net.setTrainable(false, prefix: "body")
    #expect(net.trainableParameters().map(\.path) == ["fc.weight", "fc.bias"])
    #expect(net.trainableParameterCount == 27)
    net.setTrainable(true)
    #expect(net.trainableParameters().count == 6)
  }

  @Test func prefixMatchesWholePathComponents() {
    #expect(Module.path("layer1.0.conv1.weight", isUnder: "layer1"))
    #expect(!Module.path("layer10.weight", isUnder: "layer1"))
    #expect(Module.path("fc.weight", isUnder: ""))
  }

  @Test func frozenLayersAreNotRecordedAndGetNoGradient() throws {
    let net = TinyNet()
    net.setTrainable(false, prefix: "body")
    let x = Tensor(shape: [2, 4], repeating: 0.5)
    try sum(try net(x)).backward()
    #expect(net.body.layers[0].namedParameters().allSatisfy { $0.tensor.grad == nil })
    #expect(net.fc.weight.grad != nil)
  }

  @Test func replacingAChildKeepsItsPlaceAndMode() {
    let net = TinyNet()
    net.setTraining(false)
    let head = Linear(8, 5)
    net.register("fc", head)
    #expect(net.children.map(\.name) == ["body", "fc"])
    #expect(net.child(at: "fc") === head)
    #expect(!head.isTraining)
  }

  @Test func initialisersHaveTheDocumentedSpread() {
    let rng = RandomStream(seed: 9)
    let weight = Tensor(shape: [64, 256])
    Initializer.kaimingNormal(fanOut: false).fill(weight, fanIn: 256, fanOut: 64, rng: rng)
    let variance = weight.scalars.reduce(0) { $0 + $1 * $1 } / Float(weight.count)
    #expect(abs(variance - 2.0 / 256) < 0.1 * 2.0 / 256)
    Initializer.glorotUniform.fill(weight, fanIn: 256, fanOut: 64, rng: rng)
    let bound = (6.0 / Float(256 + 64)).squareRoot()
    #expect(weight.scalars.allSatisfy { abs($0) <= bound })
    #expect(weight.scalars.max()! > 0.9 * bound)
  }
}
