import Testing
import Zoo
import ZooNN
import ZooTensor

/// Generated from the registry: every entry's declared figures against the built model.
@Suite struct RegistryTests {
  @Test(arguments: ModelRegistry.names)
  func declaredFiguresMatchTheBuiltModel(_ name: String) throws {
    let entry = try ModelRegistry.entry(named: name)
    let model = entry.build(rng: RandomStream(seed: 0))
    #expect(
      model.parameterCount == entry.parameterCount, "\(name) has \(model.parameterCount) parameters"
    )
    let state = model.namedBuffers().reduce(0) { $0 + $1.tensor.count }
    // Keras counts the moving statistics as parameters; torchvision does not.
    #expect(
      entry.stateCount == (entry.definition == .keras ? state : 0),
      "\(name) has \(state) buffer elements, declared \(entry.stateCount)")
    let depth = model.namedModules().filter { !$0.module.ownParameters.isEmpty }.count
    #expect(depth == entry.depth, "\(name) has \(depth) layers with parameters")
    let trace = try ModuleTrace.run(model, inputShape: [1] + entry.inputShape)
    let gmacs = Double(trace.totalMultiplyAccumulates) / 1e9
    #expect(
      abs(gmacs - entry.gigaMultiplyAccumulates) <= 0.005 * entry.gigaMultiplyAccumulates,
      "\(name): \(gmacs) GMACs")
  }

  @Test func namesAreUniqueAndUnknownNamesListTheKnownOnes() {
    #expect(Set(ModelRegistry.names).count == ModelRegistry.entries.count)
    #expect(throws: RegistryError.unknownModel("resnet19", known: ModelRegistry.names)) {
      try ModelRegistry.entry(named: "resnet19")
    }
  }

  @Test func wildcardsFilterNames() {
    #expect(
      ModelRegistry.entries(matching: "resnet1*").map(\.name) == [
        "resnet18", "resnet101", "resnet152",
      ])
    #expect(
      ModelRegistry.entries(matching: "vgg1?_bn").map(\.name) == [
        "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
      ])
    #expect(ModelRegistry.entries(matching: "nothing*").isEmpty)
  }
}
