import Foundation
import Testing
import Zoo
import ZooTensor

@Suite struct ClassificationMetricsTests {
  /// Worked by hand: 3 classes, 8 examples.
  ///
  ///              predicted a  b  c
  ///   true a               2  1  0     recall 2/3
  ///   true b               0  3  0     recall 1
  ///   true c               1  1  0     recall 0
  ///   precision          2/3 3/5  0 (never predicted)
  @Test func smallExampleByHand() throws {
    let metrics = try ClassificationMetrics(
      truth: [0, 0, 0, 1, 1, 1, 2, 2], predictions: [0, 0, 1, 1, 1, 1, 0, 1],
      classNames: ["a", "b", "c"])
    #expect(metrics.confusion == [[2, 1, 0], [0, 3, 0], [1, 1, 0]])
    #expect(metrics.correct == 5 && metrics.total == 8)
    #expect(metrics.accuracy == 5.0 / 8)
    let scores = metrics.perClass
    #expect(abs(scores[0].precision - 2.0 / 3) < 1e-12 && abs(scores[0].recall - 2.0 / 3) < 1e-12)
    #expect(abs(scores[0].f1 - 2.0 / 3) < 1e-12)
    #expect(abs(scores[1].precision - 0.6) < 1e-12 && scores[1].recall == 1)
    #expect(abs(scores[1].f1 - 0.75) < 1e-12)  // 2 * 0.6 * 1 / 1.6
    #expect(scores[2] == ClassScores(precision: 0, recall: 0, f1: 0, support: 2))
    #expect(abs(metrics.macroAverage.f1 - (2.0 / 3 + 0.75) / 3) < 1e-12)
    #expect(abs(metrics.weightedAverage.recall - 5.0 / 8) < 1e-12)
    #expect(
      metrics.mostConfused(limit: 3) == [
        ConfusedPair(truth: 0, predicted: 1, count: 1),
        ConfusedPair(truth: 2, predicted: 0, count: 1),
        ConfusedPair(truth: 2, predicted: 1, count: 1),
      ])
    #expect(
      metrics.confusionText == """
        true\\pred 0 1 2
                0 2 1 0
                1 0 3 0
                2 1 1 0
        classes: 0 a, 1 b, 2 c

        """)
  }

  @Test func rejectsLabelsOutsideTheClasses() {
    #expect(throws: MetricsError.labelOutOfRange(index: 1, label: 3, classCount: 3)) {
      try ClassificationMetrics(truth: [0, 1], predictions: [0, 3], classNames: ["a", "b", "c"])
    }
    #expect(throws: MetricsError.countMismatch(truth: 2, predictions: 1)) {
      try ClassificationMetrics(truth: [0, 1], predictions: [0], classNames: ["a", "b"])
    }
  }

  struct ReportCase: Decodable {
    struct Scores: Decodable {
      var precision: Double
      var recall: Double
      var f1: Double
      var support: Double

      enum CodingKeys: String, CodingKey {
        case precision, recall, support
        case f1 = "f1-score"
      }
    }

    enum CodingKeys: String, CodingKey {
      case name, classes, truth, predictions, confusion, accuracy, macro, weighted, text
      case perClass = "per_class"
    }
    var name: String
    var classes: [String]
    var truth: [Int]
    var predictions: [Int]
    var confusion: [[Int]]
    var accuracy: Double
    var perClass: [Scores]
    var macro: Scores
    var weighted: Scores
    var text: String
  }

  static let sklearnCases: [ReportCase] = {
    let url = Bundle.module.url(
      forResource: "classification_report", withExtension: "json", subdirectory: "Fixtures")!
    return try! JSONDecoder().decode([ReportCase].self, from: Data(contentsOf: url))
  }()

  /// scikit-learn's `confusion_matrix` and `classification_report` (Tools/make_metrics_fixtures.py).
  @Test(arguments: sklearnCases.indices)
  func agreesWithScikitLearn(_ index: Int) throws {
    let reference = Self.sklearnCases[index]
    let metrics = try ClassificationMetrics(
      truth: reference.truth, predictions: reference.predictions, classNames: reference.classes)
    #expect(metrics.confusion == reference.confusion, "\(reference.name)")
    #expect(abs(metrics.accuracy - reference.accuracy) < 1e-12)
    func same(_ ours: ClassScores, _ theirs: ReportCase.Scores) -> Bool {
      abs(ours.precision - theirs.precision) < 1e-12 && abs(ours.recall - theirs.recall) < 1e-12
        && abs(ours.f1 - theirs.f1) < 1e-12 && Double(ours.support) == theirs.support
    }
    for (ours, theirs) in zip(metrics.perClass, reference.perClass) {
      #expect(same(ours, theirs), "\(reference.name): \(ours) vs \(theirs)")
    }
    #expect(same(metrics.macroAverage, reference.macro))
    #expect(same(metrics.weightedAverage, reference.weighted))
    #expect(metrics.reportText == reference.text)
  }

  @Test func topClassesAreSortedSoftmaxProbabilities() throws {
    let logits = Tensor(shape: [2, 3], scalars: [1, 3, 2, 0, 0, log(2)])
    let top = try topClasses(logits: logits, k: 2)
    let e: [Float] = [exp(1), exp(3), exp(2)]
    let sum = e.reduce(0, +)
    #expect(top[0].map(\.classIndex) == [1, 2])
    #expect(abs(top[0][0].probability - e[1] / sum) < 1e-6)
    #expect(abs(top[0][1].probability - e[2] / sum) < 1e-6)
    #expect(top[1].map(\.classIndex) == [2, 0])  // ties in class order
    #expect(abs(top[1][0].probability - 0.5) < 1e-6 && abs(top[1][1].probability - 0.25) < 1e-6)
    #expect(try topClasses(logits: logits, k: 10)[0].count == 3)
  }
}
