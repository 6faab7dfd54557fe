import Foundation

// CSV tables as RFC 4180 describes them: fields separated by commas, records by LF or CRLF;
// a field in double quotes may hold commas, line breaks and doubled quotes (""). A header
// record is required. Blank lines are skipped; a leading UTF-8 byte-order mark is ignored.
// Rows are numbered by the line they start on, the header being row 1, as an editor or a
// spreadsheet shows them.

/// Errors reading a CSV table; each names the file.
public enum CSVError: Error, Equatable, LocalizedError {
  case unreadable(path: String, reason: String)
  case emptyFile(path: String)
  case noRows(path: String)
  case unterminatedQuote(path: String, row: Int)
  case raggedRow(path: String, row: Int, fields: Int, expected: Int)
  case labelColumnMissing(path: String, column: String, columns: [String])
  case noFeatureColumns(path: String)
  case notANumber(path: String, row: Int, column: String, value: String)
  case emptyLabel(path: String, row: Int, column: String)
  case oneClass(path: String, className: String)

  public var errorDescription: String? {
    switch self {
    case .unreadable(let path, let reason): return "\(path): cannot read CSV file: \(reason)"
    case .emptyFile(let path):
      return "\(path): the file is empty; expected a header row and data rows"
    case .noRows(let path): return "\(path): the file has a header row but no data rows"
    case .unterminatedQuote(let path, let row):
      return "\(path): row \(row): a quoted field is never closed (missing '\"')"
    case .raggedRow(let path, let row, let fields, let expected):
      return
        "\(path): row \(row) has \(fields) field\(fields == 1 ? "" : "s"), the header has \(expected)"
    case .labelColumnMissing(let path, let column, let columns):
      let names = columns.map { "'\($0)'" }.joined(separator: ", ")
      return "\(path): no label column '\(column)'; the columns are \(names)"
    case .noFeatureColumns(let path):
      return "\(path): needs at least one feature column besides the label column"
    case .notANumber(let path, let row, let column, let value):
      return "\(path): row \(row), column '\(column)': '\(value)' is not a number"
    case .emptyLabel(let path, let row, let column):
      return "\(path): row \(row), column '\(column)': the label is empty"
    case .oneClass(let path, let name):
      return "\(path): needs at least two classes, found '\(name)' only"
    }
  }
}

/// A CSV record and the line it starts on.
struct CSVRecord: Equatable {
  var row: Int
  var fields: [String]
}

enum CSVParser {
  /// The records of `bytes`, blank lines skipped. `path` names the file in errors.
  static func records(_ bytes: [UInt8], path: String) throws -> [CSVRecord] {
    let quote = UInt8(ascii: "\"")
    let comma = UInt8(ascii: ",")
    let cr: UInt8 = 13
    let lf: UInt8 = 10
    var records: [CSVRecord] = []
    var fields: [String] = []
    var field: [UInt8] = []
    var line = 1
    var recordLine = 1
    var inQuotes = false
    var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0

    func endField() {
      fields.append(String(decoding: field, as: UTF8.self))
      field.removeAll(keepingCapacity: true)
    }
    func endRecord() {
      endField()
      if !(fields.count == 1 && fields[0].isEmpty) {
        records.append(CSVRecord(row: recordLine, fields: fields))
      }
      fields.removeAll()
    }

    while i < bytes.count {
      let byte = bytes[i]
      if inQuotes {
        if byte == quote {
          if i + 1 < bytes.count && bytes[i + 1] == quote {
            field.append(quote)
            i += 1
          } else {
            inQuotes = false
          }
        } else {
          if byte == lf { line += 1 }
          field.append(byte)
        }
      } else if byte == quote && field.isEmpty {
        inQuotes = true
      } else if byte == comma {
        endField()
      } else if byte == lf || byte == cr {
        if byte == cr && i + 1 < bytes.count && bytes[i + 1] == lf { i += 1 }
        endRecord()
        line += 1
        recordLine = line
      } else {
        field.append(byte)
      }
      i += 1
    }
    if inQuotes { throw CSVError.unterminatedQuote(path: path, row: recordLine) }
    if !field.isEmpty || !fields.isEmpty { endRecord() }
    return records
  }
}

extension LabeledTable {
  /// Reads a CSV table: a header row, numeric feature columns and one label column (by
  /// name; the last column when nil). Labels may be integers (classes in numeric order) or
  /// strings (classes in sorted order).
  public static func readCSV(_ url: URL, labelColumn: String? = nil) throws -> LabeledTable {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw CSVError.unreadable(path: url.path, reason: error.localizedDescription)
    }
    return try parseCSV(Array(data), path: url.path, labelColumn: labelColumn)
  }

  /// Parses CSV bytes as `readCSV` does; `path` names the source in errors.
  public static func parseCSV(_ bytes: [UInt8], path: String, labelColumn: String? = nil) throws
    -> LabeledTable
  {
    let records = try CSVParser.records(bytes, path: path)
    guard let header = records.first else { throw CSVError.emptyFile(path: path) }
    let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
    let labelIndex: Int
    if let labelColumn {
      guard let index = columns.firstIndex(of: labelColumn) else {
        throw CSVError.labelColumnMissing(path: path, column: labelColumn, columns: columns)
      }
      labelIndex = index
    } else {
      labelIndex = columns.count - 1
    }
    guard columns.count >= 2 else { throw CSVError.noFeatureColumns(path: path) }
    let rows = records.dropFirst()
    guard !rows.isEmpty else { throw CSVError.noRows(path: path) }

    var features: [Float] = []
    features.reserveCapacity(rows.count * (columns.count - 1))
    var labelTexts: [String] = []
    for record in rows {
      guard record.fields.count == columns.count else {
        throw CSVError.raggedRow(
          path: path, row: record.row, fields: record.fields.count, expected: columns.count)
      }
      for (j, cell) in record.fields.enumerated() {
        let text = cell.trimmingCharacters(in: .whitespaces)
        if j == labelIndex {
          guard !text.isEmpty else {
            throw CSVError.emptyLabel(path: path, row: record.row, column: columns[j])
          }
          labelTexts.append(text)
        } else {
          guard let value = Float(text), value.isFinite else {
            throw CSVError.notANumber(path: path, row: record.row, column: columns[j], value: cell)
          }
          features.append(value)
        }
      }
    }

    // Integer labels sort numerically ("007" and "7" are one class), anything else as text.
    let integers = labelTexts.compactMap { Int($0) }
    let keys = integers.count == labelTexts.count ? integers.map(String.init) : labelTexts
    let classNames =
      integers.count == labelTexts.count
      ? Set(integers).sorted().map(String.init) : Set(labelTexts).sorted()
    guard classNames.count >= 2 else {
      throw CSVError.oneClass(path: path, className: classNames[0])
    }
    let labelOf = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
    var featureNames = columns
    featureNames.remove(at: labelIndex)
    return LabeledTable(
      featureNames: featureNames, features: features, labels: keys.map { labelOf[$0]! },
      classNames: classNames)
  }
}
