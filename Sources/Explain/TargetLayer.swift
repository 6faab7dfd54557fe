import ZooNN
import ZooTensor

/// The layer whose activation a class-activation map weighs: a module with a feature-map
/// output (N, C, h, w), named by its parameter path (`layer4`, `features.28`).
public struct TargetLayer {
  public let path: String
  public let module: Module

  /// The module at `path` in `model`, or, with `path` nil, the default: the last module to
  /// finish in a forward pass that holds a convolution and returns a feature map other than
  /// the model's output. For a classifier that is the last convolutional stage of `features`
  /// (ResNet's `layer4`, VGG's `features`), the layer Grad-CAM's authors use. `inputShape` is
  /// one image's (C, H, W); a bad path lists the valid ones.
  public init(_ path: String?, in model: Module, inputShape: [Int]) throws {
    let candidates = try Self.featureMapLayers(in: model, inputShape: inputShape)
    if let path {
      guard candidates.contains(path), let module = model.child(at: path) else {
        throw ExplainError.unknownLayer(path, valid: candidates)
      }
      (self.path, self.module) = (path, module)
      return
    }
    let convolutional = candidates.filter { candidate in
      model.child(at: candidate)!.namedParameters().contains { $0.tensor.rank == 4 }
    }
    guard let last = convolutional.last ?? candidates.last else {
      throw ExplainError.unknownLayer("(default)", valid: [])
    }
    (self.path, self.module) = (last, model.child(at: last)!)
  }

  /// Paths of the modules below the root whose output is a feature map other than the model's
  /// output, in the order their calls finish in a pass over one zero image. (Convolutions and
  /// batch norms are not folded together while a trace or a capture is active, so each is
  /// called, and listed, as itself.)
  public static func featureMapLayers(in model: Module, inputShape: [Int]) throws -> [String] {
    let trace = try ModuleTrace.run(model, inputShape: [1] + inputShape)
    let outputShape = trace.calls.last?.output ?? []
    var seen = Set<String>()
    return trace.calls.compactMap { call in
      guard !call.path.isEmpty, call.path != "?", call.output.count == 4,
        call.output != outputShape, seen.insert(call.path).inserted
      else { return nil }
      return call.path
    }
  }
}
