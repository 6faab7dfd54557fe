import Foundation
import Testing
import ZooData
import ZooIO

/// `zoo train`, `generate`, `evaluate` and `finetune` with an autoencoder or a VAE on 600
/// Fashion-MNIST images: the loss falls, a run stopped after its first checkpoint and resumed
/// ends with the uninterrupted run's weights bit for bit, and misuse is one error line.
@Suite(.serialized) struct GenerativeCommandTests {
  static func arguments(data: String, out: URL, extra: [String] = []) -> [String] {
    [
      "train", "vae", "--data", data, "--val-split", "0.2", "--epochs", "3", "--batch-size", "32",
      "--optimizer", "adam", "--lr", "0.002", "--latent", "2", "--seed", "3", "--out", out.path,
    ] + extra
  }

  @Test(.enabled(if: FashionMNIST.isInstalled))
  func trainResumeGenerateEvaluateAndFinetune() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try ResumeCommandTests.writeData(in: folder)
    func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    let reference = try ZooProcess.run(Self.arguments(data: data, out: url("reference.h5")))
    #expect(reference.status == 0, "\(reference.stderr)")
    let log = try String(contentsOf: url("reference.log.csv"), encoding: .utf8)
      .split(separator: "\n")
    #expect(
      log[0]
        == "epoch,train_loss,validation_loss,validation_reconstruction,validation_kl,learning_rate,seconds"
    )
    let heldOut = log.dropFirst().map { Double($0.split(separator: ",")[2])! }
    #expect(heldOut.count == 3 && heldOut[2] < heldOut[0], "\(log)")
    #expect(FileManager.default.fileExists(atPath: url("reference.curves.png").path))

    // SIGKILL as soon as the first checkpoint is in place, then --resume.
    let killedArguments = Self.arguments(data: data, out: url("killed.h5"))
    let killed = try ZooProcess(killedArguments)
    ResumeCommandTests.waitFor("the first checkpoint") {
      FileManager.default.fileExists(atPath: url("killed.checkpoint.json").path)
    }
    kill(killed.process.processIdentifier, SIGKILL)
    _ = killed.wait()
    let changed = try ZooProcess.run(
      killedArguments.map { $0 == "2" ? "3" : $0 } + ["--resume"])
    #expect(changed.status == 1)
    #expect(changed.stderr.contains("(latent 2 there, 3 now)"), "\(changed.stderr)")
    let resumed = try ZooProcess.run(killedArguments + ["--resume"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    try ResumeCommandTests.expectSameWeights(url("reference.h5"), url("killed.h5"))

    let model = url("reference.h5").path
    for extra in [[], ["--manifold"], ["--scatter"], ["--interpolate", "0,5"]] {
      let png = url("generated.png")
      try? FileManager.default.removeItem(at: png)
      let generated = try ZooProcess.run(
        ["generate", model, "--count", "16", "--data", data, "--out", png.path] + extra)
      #expect(generated.status == 0, "\(extra): \(generated.stderr)")
      #expect(FileManager.default.fileExists(atPath: png.path), "\(extra)")
    }
    let evaluated = try ZooProcess.run(["evaluate", model, "--data", data, "--val-split", "0.2"])
    #expect(evaluated.status == 0, "\(evaluated.stderr)")
    #expect(evaluated.stdout.contains("nats per image"), "\(evaluated.stdout)")
    let anomaly = try ZooProcess.run(["evaluate", model, "--anomaly", "3"])
    #expect(anomaly.status == 1)
    #expect(
      anomaly.stderr.contains("--anomaly needs a model trained without it"), "\(anomaly.stderr)")

    let tuned = try ZooProcess.run([
      "finetune", model, "--freeze", "backbone", "--data", data, "--val-split", "0.2", "--shots",
      "5", "--epochs", "3", "--out", url("tuned.h5").path,
    ])
    #expect(tuned.status == 0, "\(tuned.stderr)")
    #expect(tuned.stdout.contains("test accuracy"), "\(tuned.stdout)")
  }

  @Test func misuseIsOneErrorLine() throws {
    let notGenerative = try ZooProcess.run(["generate", "lenet5", "--out", "/dev/null"])
    #expect(notGenerative.status == 1)
    #expect(
      notGenerative.stderr
        == "Error: lenet5 is a classification model; zoo generate needs an autoencoder or a VAE\n",
      "\(notGenerative.stderr)")
    let modes = try ZooProcess.run(["generate", "lenet5", "--manifold", "--scatter"])
    #expect(modes.status != 0)
    #expect(modes.stderr.contains("choose one of --interpolate, --manifold and --scatter"))
  }
}
