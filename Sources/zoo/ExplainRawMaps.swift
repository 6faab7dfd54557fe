import ArgumentParser
import Foundation
import ZooIO
import ZooTensor

/// Where `zoo explain` writes the raw maps: a CSV file per map, or every map in one HDF5 file.
enum RawMapFormat: Equatable {
  case csv
  /// The HDF5 file's path (`--raw h5` puts `maps.h5` in --out-dir).
  case hdf5(String)

  /// `csv`, `h5`, or a file name ending in .h5 or .hdf5.
  init(_ text: String, outDir: String) throws {
    let lowered = text.lowercased()
    if lowered == "csv" {
      self = .csv
    } else if lowered == "h5" || lowered == "hdf5" {
      self = .hdf5(URL(fileURLWithPath: outDir).appendingPathComponent("maps.h5").path)
    } else if lowered.hasSuffix(".h5") || lowered.hasSuffix(".hdf5") {
      self = .hdf5(text)
    } else {
      throw ValidationError("--raw takes csv, h5 or a file name ending in .h5, got '\(text)'")
    }
  }
}

/// One raw map and what it explains.
struct RawMap {
  var image: String
  /// The image file's name without its extension.
  var stem: String
  var method: String
  var className: String
  /// The class name as part of a file name.
  var classFileName: String
  var classIndex: Int
  /// Grad-CAM's target layer, or `input` for the methods that attribute to input pixels.
  var layer: String
  var convergenceDelta: Float?
  /// Height x width values, row by row.
  var values: [Float]

  /// `STEM.METHOD.CLASS`, the name of the map's files.
  var name: String { "\(stem).\(method).\(classFileName)" }
  /// `STEM/METHOD/CLASS`, the map's dataset in HDF5.
  var datasetPath: String { "\(stem)/\(method)/\(classFileName)" }
}

/// Writes the raw maps of one run of `zoo explain`.
struct RawMapWriter {
  var format: RawMapFormat
  var folder: URL
  var model: String
  var height: Int
  var width: Int
  private var pending: [RawMap] = []

  init(format: RawMapFormat, folder: URL, model: String, height: Int, width: Int) {
    (self.format, self.folder, self.model) = (format, folder, model)
    (self.height, self.width) = (height, width)
  }

  /// Writes a CSV map now; HDF5 maps wait for `finish()`, which writes them all in one file.
  mutating func add(_ map: RawMap) throws {
    guard format == .csv else { return pending.append(map) }
    var text = ""
    for start in Swift.stride(from: 0, to: map.values.count, by: width) {
      text += map.values[start..<(start + width)].map { "\($0)" }.joined(separator: ",") + "\n"
    }
    try writeAtomically(Array(text.utf8), to: folder.appendingPathComponent(map.name + ".csv"))
  }

  /// Writes the HDF5 file, under a temporary name renamed into place; returns its path.
  func finish() throws -> String? {
    guard case .hdf5(let path) = format, !pending.isEmpty else { return nil }
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(
      ".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    do {
      let file = try HDF5File.create(temporary)
      do {
        try file.root.setAttribute("model", strings: [model], scalar: true, variableLength: true)
        for map in pending { try write(map, to: file.root) }
        try file.close()
      } catch {
        try? file.close()
        throw error
      }
      guard rename(temporary.path, url.path) == 0 else {
        throw ValidationErrorLine(
          message: "cannot write \(path): \(String(cString: strerror(errno)))")
      }
    } catch {
      unlink(temporary.path)
      throw error
    }
    return path
  }

  private func write(_ map: RawMap, to root: HDF5Group) throws {
    let path = map.datasetPath
    try root.createDataset(path, shape: [height, width], floats: map.values)
    let dataset = root.dataset(path)
    let text: [(String, String)] = [
      ("image", map.image), ("method", map.method), ("class", map.className),
      ("layer", map.layer), ("model", model),
    ]
    for (key, value) in text {
      try dataset.setAttribute(key, strings: [value], scalar: true, variableLength: true)
    }
    try dataset.setAttribute("class_index", integers: [map.classIndex], scalar: true)
    if let delta = map.convergenceDelta {
      try dataset.setAttribute("convergence_delta", floats: [delta], scalar: true)
    }
  }
}
