import Foundation
import Testing
import Zoo
import ZooIO
import ZooNN
import ZooTensor

/// The layer names and parameter counts of `keras.applications` models as Keras 3 builds them
/// (`weights=None`), written by `Tools/make_keras_fixtures.py --layer-names`.
struct KerasLayerNames {
  struct Model: Decodable {
    let count: Int
    let layers: [String]
  }

  static let models: [String: Model] = {
    let url = Bundle.module.url(
      forResource: "keras_layer_names", withExtension: "json", subdirectory: "Fixtures")!
    var object = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    object["keras"] = nil
    let data = try! JSONSerialization.data(withJSONObject: object)
    return try! JSONDecoder().decode([String: Model].self, from: data)
  }()
}

/// Each registry entry that follows a Keras model names every layer of it, and holds as many
/// values as Keras counts (Keras counts batch-norm moving statistics; the zoo keeps them as
/// buffers).
@Suite struct KerasApplicationNamesTests {
  @Test(arguments: [("vgg19", "VGG19"), ("resnet50-keras", "ResNet50")])
  func tableNamesEveryKerasLayer(_ name: String, _ kerasModel: String) throws {
    let keras = try #require(KerasLayerNames.models[kerasModel], "no names of \(kerasModel)")
    let table = try #require(try ModelRegistry.entry(named: name).kerasNames)
    #expect(table.renames.count == keras.layers.count)
    #expect(table.renames.map(\.keras) == keras.layers)
    let model = try ModelRegistry.entry(named: name).build(rng: RandomStream(seed: 0))
    let paths = Set(model.namedModules().filter { !$0.module.ownParameters.isEmpty }.map(\.path))
    #expect(Set(table.renames.map(\.zoo)) == paths)
    let buffers = model.namedBuffers().reduce(0) { $0 + $1.tensor.count }
    #expect(model.parameterCount + buffers == keras.count)
  }

  /// The VGG table built from the layer table is the declared VGG16 table.
  @Test func vggTableFromLayersIsTheDeclaredVGG16Table() {
    let built = KerasApplications.vgg(
      .torchvision(depth: 16, batchNorm: false), source: "keras.applications.VGG16")
    #expect(built == KerasApplications.vgg16)
  }
}
