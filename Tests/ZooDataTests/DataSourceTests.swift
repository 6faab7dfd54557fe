import Foundation
import Testing
import ZooData

@Suite struct DataSourceTests {
  @Test func parsesEveryForm() throws {
    #expect(try DataSource(parsing: "fashion-mnist") == .fashionMNIST(classes: nil))
    #expect(
      try DataSource(parsing: "fashion-mnist:5-9") == .fashionMNIST(classes: [5, 6, 7, 8, 9]))
    #expect(try DataSource(parsing: "fashion-mnist:0,2,4") == .fashionMNIST(classes: [0, 2, 4]))
    #expect(try DataSource(parsing: "fashion-mnist:7,0-1") == .fashionMNIST(classes: [7, 0, 1]))
    #expect(
      try DataSource(parsing: "idx:/d/imgs.gz,/d/labels")
        == .idx(
          images: URL(fileURLWithPath: "/d/imgs.gz"), labels: URL(fileURLWithPath: "/d/labels")))
    #expect(
      try DataSource(parsing: "folder:/data/pets") == .folder(URL(fileURLWithPath: "/data/pets")))
    #expect(
      try DataSource(parsing: "csv:/t/iris.csv")
        == .csv(URL(fileURLWithPath: "/t/iris.csv"), labelColumn: nil))
    #expect(
      try DataSource(parsing: "csv:/t/a,b.csv,label=species")
        == .csv(URL(fileURLWithPath: "/t/a,b.csv"), labelColumn: "species"))
    let home = FileManager.default.homeDirectoryForCurrentUser.path
    #expect(
      try DataSource(parsing: "folder:~/pets") == .folder(URL(fileURLWithPath: home + "/pets")))
  }

  @Test func descriptionsParseBack() throws {
    for spec in [
      "fashion-mnist", "fashion-mnist:5,6,7", "idx:/a,/b", "folder:/p", "csv:/t.csv",
      "csv:/t.csv,label=y",
    ] {
      #expect(try DataSource(parsing: spec).description == spec)
    }
  }

  @Test func badSpecsSayWhatWasExpected() {
    func message(_ spec: String) -> String? {
      do {
        _ = try DataSource(parsing: spec)
        return nil
      } catch {
        return error.localizedDescription
      }
    }
    #expect(
      message("fashon-mnist")
        == "unknown data source 'fashon-mnist'; expected fashion-mnist[:CLASSES], idx:IMAGES,LABELS, folder:PATH or csv:PATH[,label=COLUMN]"
    )
    #expect(throws: DataSourceError.unknownSource("")) { try DataSource(parsing: "") }
    let classes =
      "expected classes 0-9 as a range (fashion-mnist:5-9) or a list (fashion-mnist:0,2,4)"
    #expect(
      message("fashion-mnist:5-12")
        == "data source 'fashion-mnist:5-12': class 12 does not exist; Fashion-MNIST has classes 0-9; \(classes)"
    )
    #expect(
      message("fashion-mnist:9-5")
        == "data source 'fashion-mnist:9-5': the range 9-5 runs backwards; \(classes)")
    #expect(
      message("fashion-mnist:1,1")
        == "data source 'fashion-mnist:1,1': class 1 is listed twice; \(classes)")
    #expect(
      message("fashion-mnist:3")
        == "data source 'fashion-mnist:3': needs at least two classes, got 3 only; \(classes)")
    #expect(
      message("fashion-mnist:")
        == "data source 'fashion-mnist:': no classes given; \(classes)")
    #expect(
      message("fashion-mnist:a-b")
        == "data source 'fashion-mnist:a-b': 'a' is not a class number; \(classes)")
    #expect(
      message("idx:only-one")
        == "data source 'idx:only-one': expected idx:IMAGES,LABELS (two files separated by a comma)"
    )
    #expect(message("folder:") == "data source 'folder:': expected folder:PATH")
    #expect(message("folder") == "data source 'folder': expected folder:PATH")
    #expect(
      message("csv:t.csv,lable=y")
        == "data source 'csv:t.csv,lable=y': unknown option 'lable=y'; expected csv:PATH[,label=COLUMN]"
    )
    #expect(message("csv:t.csv,label=") != nil)
  }

  @Test func folderWithoutSplitsIsSplitPerClass() throws {
    let folder = try TestFolder()
    for i in 0..<10 {
      for name in ["ant", "bee"] {
        try folder.write(
          "\(name)/\(i).png", ImageCodec.encodePNG(solidImage(width: 3, height: 3, [UInt8(i)])))
      }
    }
    try folder.write("bee/broken.png", [0x89, 0x50, 0x4E, 0x47, 1, 2, 3])
    let options = DataOptions(
      imageShape: ImageShape(channels: 1, height: 2, width: 2), validationFraction: 0.2,
      seed: 3, corruptImages: .skip)
    let data = try DataSource.folder(folder.url).load(options)
    #expect(data.classNames == ["ant", "bee"])
    #expect(data.train.classCounts == [8, 8])
    #expect(data.validation.classCounts == [2, 2])
    #expect(data.validationName == "validation")
    #expect(data.train.exampleShape == [1, 2, 2])
    #expect(data.report.skippedImages.map(\.path) == [folder.path("bee/broken.png")])
    let again = try DataSource.folder(folder.url).load(options)
    #expect(again.validation.labels == data.validation.labels)
    guard case .images(let a) = data.validation, case .images(let b) = again.validation else {
      Issue.record("expected images")
      return
    }
    #expect(a.pixels == b.pixels)
    let fewShot = try DataSource.folder(folder.url).load(
      DataOptions(
        imageShape: options.imageShape, seed: 3, shots: 2, corruptImages: .skip))
    #expect(fewShot.train.classCounts == [2, 2])
    #expect(throws: ImageError.self) {
      try DataSource.folder(folder.url).load(DataOptions(imageShape: options.imageShape))
    }
  }

  @Test func trainAndValFoldersAreTheSplits() throws {
    let folder = try TestFolder()
    let png = try ImageCodec.encodePNG(solidImage(width: 5, height: 5, [9, 9, 9]))
    for path in ["train/a/1.png", "train/a/2.png", "train/b/1.png", "test/b/1.png"] {
      try folder.write(path, png)
    }
    let data = try DataSource.folder(folder.url).load()
    #expect(data.train.exampleShape == [3, 224, 224])
    #expect(data.train.count == 3)
    #expect(data.validation.labels == [1])
    #expect(data.validation.classNames == ["a", "b"])
    #expect(data.validationName == "test")
  }

  @Test func csvScalingUsesTrainingStatistics() throws {
    let folder = try TestFolder()
    var text = "x,kind\n"
    for i in 0..<20 { text += "\(i * i),\(i % 2 == 0 ? "even" : "odd")\n" }
    let url = try folder.write("squares.csv", text: text)
    let options = DataOptions(validationFraction: 0.25, seed: 1, scaling: .standard)
    let data = try DataSource.csv(url, labelColumn: nil).load(options)
    guard case .table(let train) = data.train, case .table(let validation) = data.validation,
      let scaler = data.scaler
    else {
      Issue.record("expected tables and a scaler")
      return
    }
    // The scaler's statistics are the training rows', so training features are standardised
    // exactly and validation features are not.
    let raw = try LabeledTable.readCSV(url)
    let (rawTrain, rawValidation) = try raw.stratifiedSplit(validationFraction: 0.25, seed: 1)
    #expect(scaler == FeatureScaler.fit(.standard, to: rawTrain))
    #expect(scaler != FeatureScaler.fit(.standard, to: raw))
    #expect(validation == scaler.apply(to: rawValidation))
    let mean = train.features.reduce(0, +) / Float(train.count)
    #expect(abs(mean) < 1e-5)
    #expect(train.count == 14 && validation.count == 6)  // 2.5 of each class rounds up to 3
    #expect(data.classNames == ["even", "odd"])
  }

  @Test func idxPairIsSplitPerClass() throws {
    let files = try IDXFiles()
    let images = try files.write("images", IDXFiles.header([8, 2, 2]) + Array(0..<32))
    let labels = try files.write("labels", IDXFiles.header([8]) + [0, 1, 0, 1, 0, 1, 0, 1])
    let data = try DataSource.idx(images: images, labels: labels).load(
      DataOptions(validationFraction: 0.25, seed: 0))
    #expect(data.train.classCounts == [3, 3])
    #expect(data.validation.classCounts == [1, 1])
    #expect(data.classNames == ["0", "1"])
  }

  @Test(.enabled(if: FashionMNIST.isInstalled)) func loadsAFashionMNISTSubset() throws {
    let data = try DataSource(parsing: "fashion-mnist:9,0").load(
      DataOptions(imageShape: ImageShape(channels: 3, height: 32, width: 32), shots: 5))
    #expect(data.classNames == ["Ankle boot", "T-shirt/top"])
    #expect(data.validationName == "test")
    #expect(data.train.classCounts == [5, 5])
    #expect(data.validation.classCounts == [1_000, 1_000])
    #expect(data.validation.exampleShape == [3, 32, 32])
  }
}
