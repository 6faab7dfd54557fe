import Foundation

/// Where training data comes from, as a command line names it:
///
/// - `fashion-mnist`: Debian's `dataset-fashion-mnist` files (train and test splits);
///   `fashion-mnist:5-9` or `fashion-mnist:0,2,4` keeps those classes, relabelled 0..<k in
///   the order given, with their original names.
/// - `idx:IMAGES,LABELS`: any MNIST-format pair of files, plain or gzipped.
/// - `folder:PATH`: one sub-folder of JPEG/PNG images per class, or `train/` and `val/` (or
///   `test/`) folders of that layout.
/// - `csv:PATH[,label=COLUMN]`: a table with a header row, numeric features and a label
///   column (the last one unless named).
public enum DataSource: Sendable, Equatable, CustomStringConvertible {
  case fashionMNIST(classes: [Int]?)
  case idx(images: URL, labels: URL)
  case folder(URL)
  case csv(URL, labelColumn: String?)

  static let forms =
    "fashion-mnist[:CLASSES], idx:IMAGES,LABELS, folder:PATH or csv:PATH[,label=COLUMN]"

  /// Parses a specification such as `fashion-mnist:5-9` or `csv:iris.csv,label=species`.
  /// A leading `~/` in a path means the home folder.
  public init(parsing spec: String) throws {
    let (scheme, argument) =
      spec.firstIndex(of: ":").map {
        (String(spec[..<$0]), Optional(String(spec[spec.index(after: $0)...])))
      } ?? (spec, nil)
    switch scheme.lowercased() {
    case "fashion-mnist":
      self = .fashionMNIST(classes: try argument.map { try Self.classes($0, spec: spec) })
    case "idx":
      let paths = argument?.split(separator: ",", omittingEmptySubsequences: false) ?? []
      guard paths.count == 2, !paths[0].isEmpty, !paths[1].isEmpty else {
        throw DataSourceError.malformed(
          spec: spec, expected: "idx:IMAGES,LABELS (two files separated by a comma)")
      }
      self = .idx(images: Self.url(paths[0]), labels: Self.url(paths[1]))
    case "folder":
      guard let argument, !argument.isEmpty else {
        throw DataSourceError.malformed(spec: spec, expected: "folder:PATH")
      }
      self = .folder(Self.url(argument))
    case "csv":
      guard var path = argument, !path.isEmpty else {
        throw DataSourceError.malformed(spec: spec, expected: "csv:PATH[,label=COLUMN]")
      }
      var label: String?
      if let comma = path.lastIndex(of: ","), path[comma...].contains("=") {
        let option = String(path[path.index(after: comma)...])
        guard option.hasPrefix("label="), option.count > "label=".count else {
          throw DataSourceError.unknownOption(
            spec: spec, option: option, expected: "csv:PATH[,label=COLUMN]")
        }
        label = String(option.dropFirst("label=".count))
        path = String(path[..<comma])
      }
      guard !path.isEmpty else {
        throw DataSourceError.malformed(spec: spec, expected: "csv:PATH[,label=COLUMN]")
      }
      self = .csv(Self.url(path), labelColumn: label)
    default:
      throw DataSourceError.unknownSource(spec)
    }
  }

  /// The specification that parses back to this source.
  public var description: String {
    switch self {
    case .fashionMNIST(nil): return "fashion-mnist"
    case .fashionMNIST(let classes?):
      return "fashion-mnist:" + classes.map(String.init).joined(separator: ",")
    case .idx(let images, let labels): return "idx:\(images.path),\(labels.path)"
    case .folder(let url): return "folder:\(url.path)"
    case .csv(let url, nil): return "csv:\(url.path)"
    case .csv(let url, let label?): return "csv:\(url.path),label=\(label)"
    }
  }

  /// Class numbers from `5-9`, `0,2,4` or a mix (`0-2,7`), in the order written.
  private static func classes(_ text: String, spec: String) throws -> [Int] {
    func invalid(_ problem: String) -> DataSourceError {
      .invalidClasses(spec: spec, problem: problem)
    }
    func number(_ part: Substring) throws -> Int {
      guard let value = Int(part) else { throw invalid("'\(part)' is not a class number") }
      guard (0..<FashionMNIST.classNames.count).contains(value) else {
        throw invalid("class \(value) does not exist; Fashion-MNIST has classes 0-9")
      }
      return value
    }
    guard !text.isEmpty else { throw invalid("no classes given") }
    var classes: [Int] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
      guard bounds.count <= 2 else { throw invalid("'\(part)' is not a class or a range") }
      let first = try number(bounds[0])
      let last = bounds.count == 2 ? try number(bounds[1]) : first
      guard first <= last else { throw invalid("the range \(part) runs backwards") }
      for value in first...last {
        guard !classes.contains(value) else { throw invalid("class \(value) is listed twice") }
        classes.append(value)
      }
    }
    guard classes.count >= 2 else {
      throw invalid("needs at least two classes, got \(classes[0]) only")
    }
    return classes
  }

  private static func url(_ path: some StringProtocol) -> URL {
    URL(fileURLWithPath: (String(path) as NSString).expandingTildeInPath)
  }
}

public enum DataSourceError: Error, Equatable, LocalizedError {
  case unknownSource(String)
  case malformed(spec: String, expected: String)
  case invalidClasses(spec: String, problem: String)
  case unknownOption(spec: String, option: String, expected: String)

  public var errorDescription: String? {
    switch self {
    case .unknownSource(let spec):
      return "unknown data source '\(spec)'; expected \(DataSource.forms)"
    case .malformed(let spec, let expected):
      return "data source '\(spec)': expected \(expected)"
    case .invalidClasses(let spec, let problem):
      return
        "data source '\(spec)': \(problem); expected classes 0-9 as a range (fashion-mnist:5-9) or a list (fashion-mnist:0,2,4)"
    case .unknownOption(let spec, let option, let expected):
      return "data source '\(spec)': unknown option '\(option)'; expected \(expected)"
    }
  }
}
