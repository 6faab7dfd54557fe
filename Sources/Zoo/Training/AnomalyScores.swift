/// The area under the ROC curve of `scores` for telling `positives` (true) from the rest: the
/// probability that a random positive scores higher than a random negative, ties counting
/// half (the Mann-Whitney U statistic over the product of the class sizes). Nil when either
/// class is empty.
public func areaUnderROC(scores: [Float], positives: [Bool]) -> Double? {
  precondition(scores.count == positives.count, "one label per score")
  let positiveCount = positives.filter { $0 }.count
  let negativeCount = positives.count - positiveCount
  guard positiveCount > 0, negativeCount > 0 else { return nil }
  let order = scores.indices.sorted { scores[$0] < scores[$1] }
  // Mid-ranks (from 1) over runs of equal scores.
  var rankSum = 0.0
  var start = 0
  while start < order.count {
    var end = start
    while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
    let midRank = Double(start + end + 2) / 2
    for k in start...end where positives[order[k]] { rankSum += midRank }
    start = end + 1
  }
  let u = rankSum - Double(positiveCount) * Double(positiveCount + 1) / 2
  return u / (Double(positiveCount) * Double(negativeCount))
}
