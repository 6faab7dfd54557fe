import Foundation
import Testing
import ZooData

@Suite struct CSVTableTests {
  func parse(_ text: String, label: String? = nil) throws -> LabeledTable {
    try LabeledTable.parseCSV(Array(text.utf8), path: "t.csv", labelColumn: label)
  }

  @Test func readsFeaturesAndStringLabels() throws {
    let table = try parse(
      """
      sepal_length,sepal_width,species
      5.1,3.5,setosa
      7.0,3.2,versicolor
      4.9, 3.0 ,setosa

      """)
    #expect(table.featureNames == ["sepal_length", "sepal_width"])
    #expect(table.features == [5.1, 3.5, 7.0, 3.2, 4.9, 3.0])
    #expect(table.classNames == ["setosa", "versicolor"])
    #expect(table.labels == [0, 1, 0])
    #expect(table.tensor.shape == [3, 2])
  }

  @Test func integerLabelsSortNumericallyAndTheLabelColumnCanBeNamed() throws {
    let table = try parse("y,a,b\n10,1,2\n9,3,4\n010,5,6\r\n", label: "y")
    #expect(table.featureNames == ["a", "b"])
    #expect(table.classNames == ["9", "10"])
    #expect(table.labels == [1, 0, 1])
    #expect(table.features == [1, 2, 3, 4, 5, 6])
  }

  @Test func quotedFieldsFollowRFC4180() throws {
    let table = try parse(
      "\"weight, kg\",\"height\",\"kind\"\r\n\"1.5\",2,\"big, \"\"heavy\"\"\nanimal\"\r\n3,4,small\r\n"
    )
    #expect(table.featureNames == ["weight, kg", "height"])
    #expect(table.classNames == ["big, \"heavy\"\nanimal", "small"])
    #expect(table.features == [1.5, 2, 3, 4])
  }

  @Test func errorsNameRowAndColumn() {
    // Row numbers are lines, the header being row 1; the quoted line break moves row 3 to 4.
    #expect(
      throws: CSVError.notANumber(path: "t.csv", row: 4, column: "petal_width", value: "abc")
    ) {
      try parse("petal_width,kind\n1,\"a\nb\"\nabc,c\n")
    }
    #expect(
      CSVError.notANumber(path: "t.csv", row: 17, column: "petal_width", value: "abc")
        .localizedDescription == "t.csv: row 17, column 'petal_width': 'abc' is not a number")
    #expect(throws: CSVError.notANumber(path: "t.csv", row: 3, column: "x", value: "")) {
      try parse("x,y\n1,a\n,b\n")
    }
    #expect(throws: CSVError.emptyLabel(path: "t.csv", row: 2, column: "y")) {
      try parse("x,y\n1, \n2,b\n")
    }
  }

  @Test func missingLabelColumnListsTheColumns() {
    let error = CSVError.labelColumnMissing(
      path: "t.csv", column: "species", columns: ["a", "b", "kind"])
    #expect(throws: error) { try parse("a,b,kind\n1,2,x\n3,4,y\n", label: "species") }
    #expect(
      error.localizedDescription
        == "t.csv: no label column 'species'; the columns are 'a', 'b', 'kind'")
  }

  @Test func raggedEmptyAndDegenerateTables() {
    #expect(throws: CSVError.raggedRow(path: "t.csv", row: 3, fields: 2, expected: 3)) {
      try parse("a,b,c\n1,2,x\n3,y\n")
    }
    #expect(
      CSVError.raggedRow(path: "t.csv", row: 3, fields: 2, expected: 3).localizedDescription
        == "t.csv: row 3 has 2 fields, the header has 3")
    #expect(throws: CSVError.emptyFile(path: "t.csv")) { try parse("") }
    #expect(throws: CSVError.emptyFile(path: "t.csv")) { try parse("\n\n") }
    #expect(throws: CSVError.noRows(path: "t.csv")) { try parse("a,b\n") }
    #expect(throws: CSVError.unterminatedQuote(path: "t.csv", row: 2)) { try parse("a,b\n\"1,x\n") }
    #expect(throws: CSVError.noFeatureColumns(path: "t.csv")) { try parse("label\nx\ny\n") }
    #expect(throws: CSVError.oneClass(path: "t.csv", className: "x")) {
      try parse("a,b\n1,x\n2,x\n")
    }
  }

  @Test func scalingIsFittedOnTrainingRowsOnly() throws {
    let train = try parse("a,b,y\n0,5,p\n2,5,q\n4,5,p\n")
    let validation = try parse("a,b,y\n8,7,p\n-2,5,q\n")
    let standard = FeatureScaler.fit(.standard, to: train)
    #expect(standard.center == [2, 5])
    // Population standard deviation of 0, 2, 4; a constant column gets spread 1.
    #expect(abs(standard.spread[0] - (8 / 3 as Float).squareRoot()) < 1e-6)
    #expect(standard.spread[1] == 1)
    let scaled = standard.apply(to: validation)
    #expect(abs(scaled.features[0] - 6 / (8 / 3 as Float).squareRoot()) < 1e-5)
    #expect(scaled.features[1] == 2)
    let minmax = FeatureScaler.fit(.minmax, to: train)
    #expect(minmax.apply(to: validation).features == [2, 2, -0.5, 0])
    #expect(minmax.apply(to: [1, 5]) == [0.25, 0])
    let saved = try JSONDecoder().decode(
      FeatureScaler.self, from: try JSONEncoder().encode(minmax))
    #expect(saved == minmax)
  }

  @Test func readsAFile() throws {
    let folder = try TestFolder()
    let url = try folder.write("iris.csv", text: "a,label\n1,x\n2,y\n")
    #expect(try LabeledTable.readCSV(url).count == 2)
    let missing = folder.url.appendingPathComponent("none.csv")
    #expect(throws: CSVError.self) { try LabeledTable.readCSV(missing) }
  }
}
