import ZooTensor

// Preprocessing that turns a decoded image into a model's input: channel conversion, resize,
// centre crop. Each step reproduces what torchvision does with PIL images
// (`img.convert(mode)`, `Resize(size)`, `CenterCrop(size)`), so images prepared here and in
// a PyTorch pipeline give the same pixels.

/// The shape a model takes its images in.
public struct ImageShape: Sendable, Hashable, Codable, CustomStringConvertible {
  public var channels: Int
  public var height: Int
  public var width: Int

  public init(channels: Int, height: Int, width: Int) {
    precondition(
      (channels == 1 || channels == 3) && height > 0 && width > 0,
      "an image shape needs 1 or 3 channels and a positive size, got \(channels)x\(height)x\(width)"
    )
    self.channels = channels
    self.height = height
    self.width = width
  }

  /// A shape from `[channels, height, width]`, as model registries state it.
  public init(_ chw: [Int]) {
    precondition(chw.count == 3, "an image shape has three sizes (C, H, W), got \(chw)")
    self.init(channels: chw[0], height: chw[1], width: chw[2])
  }

  /// Values in one image.
  public var size: Int { channels * height * width }
  public var description: String { "\(channels)x\(height)x\(width)" }
}

/// How an alpha channel is removed when an image with transparency becomes grey or RGB.
public enum AlphaHandling: String, Sendable, CaseIterable, Codable {
  /// Ignore alpha and keep the stored colour of each pixel, as PIL's `convert("RGB")` (and so
  /// torchvision's `ImageFolder`) does. Fully transparent pixels keep whatever colour they hold.
  case drop
  /// Blend onto a white background: `(c * a + 255 * (255 - a)) / 255`, rounded.
  case compositeOnWhite
}

public enum ImageTransforms {
  /// Converts to 1 (grey) or 3 (RGB) channels. RGB becomes grey by ITU-R 601-2 luma with
  /// PIL's fixed-point rounding, `(19595 R + 38470 G + 7471 B + 32768) >> 16`; grey becomes
  /// RGB by replication; alpha is handled by `alpha`.
  public static func convert(
    _ image: DecodedImage, toChannels channels: Int, alpha: AlphaHandling = .drop
  ) -> DecodedImage {
    precondition(channels == 1 || channels == 3, "convert to 1 or 3 channels, not \(channels)")
    if image.channels == channels { return image }
    let count = image.width * image.height
    let source = image.channels
    var out = [UInt8](repeating: 0, count: count * channels)
    for i in 0..<count {
      var rgb: (Int, Int, Int)
      if source < 3 {
        let v = Int(image.pixels[i * source])
        rgb = (v, v, v)
      } else {
        let p = i * source
        rgb = (Int(image.pixels[p]), Int(image.pixels[p + 1]), Int(image.pixels[p + 2]))
      }
      if source == 4 || source == 2, alpha == .compositeOnWhite {
        let a = Int(image.pixels[i * source + source - 1])
        func blend(_ c: Int) -> Int { (c * a + 255 * (255 - a) + 127) / 255 }
        rgb = (blend(rgb.0), blend(rgb.1), blend(rgb.2))
      }
      if channels == 1 {
        out[i] = UInt8((rgb.0 * 19595 + rgb.1 * 38470 + rgb.2 * 7471 + 0x8000) >> 16)
      } else {
        out[i * 3] = UInt8(rgb.0)
        out[i * 3 + 1] = UInt8(rgb.1)
        out[i * 3 + 2] = UInt8(rgb.2)
      }
    }
    return DecodedImage(width: image.width, height: image.height, channels: channels, pixels: out)
  }

  /// Resizes with bilinear interpolation exactly as PIL's `Image.resize(size, BILINEAR)`:
  /// half-pixel centres, and when shrinking a triangle filter widened by the scale factor
  /// (antialiasing, like torchvision's `Resize` on PIL images or with `antialias=True`).
  public static func resize(_ image: DecodedImage, width: Int, height: Int) -> DecodedImage {
    precondition(width > 0 && height > 0, "resize to a positive size, not \(width)x\(height)")
    if image.width == width && image.height == height { return image }
    let pixels = Resample.resize(
      image.pixels, width: image.width, height: image.height, channels: image.channels,
      outWidth: width, outHeight: height)
    return DecodedImage(width: width, height: height, channels: image.channels, pixels: pixels)
  }

  /// The size an image of `width`x`height` is resized to before a centre crop to `shape`: the
  /// smallest that covers the crop, keeping the aspect ratio. For a square crop the shorter
  /// side becomes the crop size and the longer one `Int(size * long / short)`, as
  /// torchvision's `Resize(size)` computes it.
  public static func coverSize(width: Int, height: Int, for shape: ImageShape) -> (
    width: Int, height: Int
  ) {
    if shape.width * height >= shape.height * width {
      return (shape.width, max(shape.height, Int(Double(shape.width * height) / Double(width))))
    }
    return (max(shape.width, Int(Double(shape.height * width) / Double(height))), shape.height)
  }

  /// The centred `width`x`height` region; the offsets are rounded half to even, as
  /// torchvision's `CenterCrop` rounds them. The image must be at least that large.
  public static func centerCrop(_ image: DecodedImage, width: Int, height: Int) -> DecodedImage {
    precondition(
      image.width >= width && image.height >= height,
      "cannot crop \(width)x\(height) from a \(image.width)x\(image.height) image")
    if image.width == width && image.height == height { return image }
    let top = Int((Double(image.height - height) / 2).rounded(.toNearestOrEven))
    let left = Int((Double(image.width - width) / 2).rounded(.toNearestOrEven))
    let c = image.channels
    var out: [UInt8] = []
    out.reserveCapacity(width * height * c)
    for y in top..<(top + height) {
      let row = (y * image.width + left) * c
      out.append(contentsOf: image.pixels[row..<(row + width * c)])
    }
    return DecodedImage(width: width, height: height, channels: c, pixels: out)
  }

  /// The whole pipeline: convert channels, resize to cover `shape`, centre crop. Returns the
  /// pixels planar (CHW), as `LabeledImages` stores them.
  public static func prepare(
    _ image: DecodedImage, for shape: ImageShape, alpha: AlphaHandling = .drop
  ) -> [UInt8] {
    let size = coverSize(width: image.width, height: image.height, for: shape)
    // Channels are resized independently, so a grey image is resized before it is replicated
    // to RGB (the same pixels as converting first, as PIL would, at a third of the work).
    let replicate = image.channels == 1 && shape.channels == 3
    let converted = replicate ? image : convert(image, toChannels: shape.channels, alpha: alpha)
    let resized = resize(converted, width: size.width, height: size.height)
    let cropped = centerCrop(resized, width: shape.width, height: shape.height)
    return planar(replicate ? convert(cropped, toChannels: 3) : cropped)
  }

  /// Interleaved (HWC) pixels rearranged as planes (CHW).
  public static func planar(_ image: DecodedImage) -> [UInt8] {
    let c = image.channels
    if c == 1 { return image.pixels }
    let plane = image.width * image.height
    var out = [UInt8](repeating: 0, count: plane * c)
    for i in 0..<plane {
      for k in 0..<c { out[k * plane + i] = image.pixels[i * c + k] }
    }
    return out
  }
}

extension LabeledImages {
  /// The images converted to `shape` (channels, resize to cover, centre crop), or unchanged
  /// when `shape` is nil or already theirs.
  public func prepared(for shape: ImageShape?, alpha: AlphaHandling = .drop) -> LabeledImages {
    guard let shape, shape != ImageShape(channels: channels, height: height, width: width)
    else { return self }
    var out = [UInt8](repeating: 0, count: count * shape.size)
    let plane = height * width
    out.withUnsafeMutableBufferPointer { out in
      Parallel.forEach(count, costPerItem: shape.size * 8) { n in
        // Planar to interleaved: the transforms work on decoded (HWC) images.
        var interleaved = [UInt8](repeating: 0, count: imageSize)
        for c in 0..<channels {
          for i in 0..<plane {
            interleaved[i * channels + c] = pixels[n * imageSize + c * plane + i]
          }
        }
        let image = DecodedImage(
          width: width, height: height, channels: channels, pixels: interleaved)
        let prepared = ImageTransforms.prepare(image, for: shape, alpha: alpha)
        for j in 0..<shape.size { out[n * shape.size + j] = prepared[j] }
      }
    }
    return LabeledImages(
      channels: shape.channels, height: shape.height, width: shape.width, pixels: out,
      labels: labels, classNames: classNames)
  }
}
