import ZooNN

/// What every segmentation model in the zoo declares, as segmentation_models.pytorch's models
/// do: an encoder, a decoder and a head, logits (N, classCount, H, W) at the input's size.
public protocol SegmentationModel: Module {
  /// Path of the encoder, which `--freeze encoder` freezes (`encoder`).
  var encoderPath: String { get }
  /// Number of classes the logits have channels for.
  var classCount: Int { get }
  /// Input height and width must be multiples of this.
  var sizeMultiple: Int { get }
}

extension UNet: SegmentationModel {
  public var encoderPath: String { "encoder" }
}

extension ResNetUNet: SegmentationModel {
  public var encoderPath: String { "encoder" }
}
