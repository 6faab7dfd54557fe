// Builds LeNet-5, swaps its head for 3 classes, freezes the rest and takes a few SGD steps on
// a fixed batch: the loss must fall by at least a fifth.
import Zoo
import ZooNN
import ZooTensor

let rng = RandomStream(seed: 0)
let model = LeNet5(rng: rng)
model.resetClassifier(classCount: 3, rng: rng)
model.setTrainable(false)
model.setTrainable(true, prefix: model.classifierPath)
print("trainable \(model.trainableParameterCount) of \(model.parameterCount) parameters")

var generator = SeededGenerator(seed: 1)
let images = Tensor.normal(shape: [6, 1, 28, 28], generator: &generator)
let labels = [0, 1, 2, 0, 1, 2]
let optimizer = SGD(parameters: model.trainableParameters(), learningRate: 0.5, momentum: 0.9)
var losses: [Float] = []
for _ in 0..<60 {
  let loss = try crossEntropy(logits: try model(images), labels: labels)
  optimizer.zeroGrad()
  try loss.backward()
  optimizer.step()
  losses.append(loss.item)
}
print("loss \(losses.first!) -> \(losses.last!)")
guard losses.last! < 0.8 * losses.first! else { fatalError("fine-tuning the head did not reduce the loss") }
