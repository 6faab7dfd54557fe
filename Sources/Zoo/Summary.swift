import Foundation
import ZooNN
import ZooTensor

/// Text tables for people: the registry (`zoo list`) and a layer-by-layer model summary
/// (`zoo info`, like Keras's `model.summary()`).
public enum Summary {
  /// One row per registry entry: name, input, size, parameters, GMACs, depth, whose
  /// definition it follows, task, shipped weights (the first columns as Keras Applications'
  /// table).
  public static func registryTable(_ entries: [ModelEntry]) -> String {
    let header = [
      "Model", "Input", "Size (MB)", "Params", "GMACs", "Depth", "Follows", "Task", "Weights",
    ]
    let rows = entries.map { entry in
      [
        entry.name, entry.inputShape.map(String.init).joined(separator: "x"),
        megabytes(entry.sizeInMegabytes),
        abbreviated(entry.reportedParameterCount),
        String(
          format: entry.gigaMultiplyAccumulates < 0.1 ? "%.2g" : "%.2f",
          entry.gigaMultiplyAccumulates),
        String(entry.depth), entry.definition.rawValue, entry.task.rawValue,
        entry.weights.isEmpty ? "-" : entry.weights.map(\.summary).joined(separator: ", "),
      ]
    }
    return table(header: header, rows: rows, rightAligned: [2, 3, 4, 5])
  }

  /// Every layer's path, type, output shape, own parameters and whether they train, then
  /// totals, for one forward pass on a batch of one `inputShape` (channels, height, width).
  /// `countingState` counts buffers (moving statistics) as non-trainable parameters, as Keras
  /// does; torchvision counts parameters only.
  public static func modelSummary(
    _ model: Module, name: String, inputShape: [Int], countingState: Bool = false
  ) throws -> String {
    let trace = try ModuleTrace.run(model, inputShape: [1] + inputShape)
    let rows = trace.calls.filter { !$0.isContainer }.map { call in
      [
        call.path, call.typeName, describe(shape: call.output),
        grouped(call.parameters + (countingState ? call.buffers : 0)),
        call.parameters == 0 ? "" : (call.trainableParameters == call.parameters ? "yes" : "no"),
      ]
    }
    let state = countingState ? model.namedBuffers().reduce(0) { $0 + $1.tensor.count } : 0
    let total = model.parameterCount + state
    let trainable = model.trainableParameterCount
    var text = "Model: \(name), input \(inputShape.map(String.init).joined(separator: "x"))\n"
    text += table(
      header: ["Layer", "Type", "Output shape", "Params", "Trainable"], rows: rows,
      rightAligned: [3])
    text += "Total params: \(grouped(total))\n"
    text += "Trainable params: \(grouped(trainable))\n"
    text += "Non-trainable params: \(grouped(total - trainable))\n"
    text += String(
      format: "Multiply-accumulates: %.3f G\n", Double(trace.totalMultiplyAccumulates) / 1e9)
    return text
  }

  /// `527.8` -> `528`, `8.9` -> `8.9`, `0.0095` -> `0.0095`: two or three significant digits.
  static func megabytes(_ value: Double) -> String {
    String(format: value < 0.1 ? "%.2g" : value < 10 ? "%.1f" : "%.0f", value)
  }

  /// `11689512` -> `11,689,512`.
  public static func grouped(_ value: Int) -> String {
    let digits = String(value)
    var result = ""
    for (index, digit) in digits.enumerated() {
      if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
      result.append(digit)
    }
    return result
  }

  /// `11689512` -> `11.7M`, as Keras Applications' table shows sizes.
  static func abbreviated(_ value: Int) -> String {
    switch value {
    case 1_000_000...: return String(format: "%.1fM", Double(value) / 1e6)
    case 1_000...: return String(format: "%.1fK", Double(value) / 1e3)
    default: return String(value)
    }
  }

  /// Columns padded to their widest cell, a rule under the header.
  static func table(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
    let widths = header.indices.map { column in
      ([header] + rows).map { $0[column].count }.max()!
    }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { column, cell in
        let padding = String(repeating: " ", count: widths[column] - cell.count)
        return rightAligned.contains(column) ? padding + cell : cell + padding
      }.joined(separator: "  ").replacingOccurrences(
        of: "\\s+$", with: "", options: .regularExpression) + "\n"
    }
    let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n"
    return line(header) + rule + rows.map(line).joined() + rule
  }
}
