import ArgumentParser
import Transfer

/// The fine-tuning recipe `zoo finetune` and `zoo transfer-bench` share.
struct FineTuneArguments: ParsableArguments {
  // Chosen on the validation split of the default run (ResNet-20, 20 shots): at 0.03 the
  // validation loss still fell after 100 epochs; 0.1 and a 128-unit hidden layer did worse.
  @Option(help: "Epochs for the new head (first stage).")
  var epochs = 150

  @Option(
    help: ArgumentHelp(
      "Epochs with everything unfrozen and per-stage rates (second stage); finetune: 0, transfer-bench's two-stage runs: 10 unless given.",
      valueName: "epochs"))
  var unfreezeEpochs: Int?

  @Option(help: "Base learning rate (AdamW).")
  var lr: Float = 0.03

  @Option(
    help:
      "Base learning rate of the second stage (the head's; earlier stages get down to 1/100 of it)."
  )
  var unfreezeLr: Float = 1e-3

  @Option(help: "Examples per step.")
  var batchSize = 16

  @Option(help: "Hidden units in the new head (none: a single linear layer).")
  var hidden: Int?

  @Option(help: "Epochs without a lower validation loss before a stage stops.")
  var patience = 10

  func validate() throws {
    guard epochs >= 0, (unfreezeEpochs ?? 0) >= 0 else {
      throw ValidationError("--epochs and --unfreeze-epochs must not be negative")
    }
    guard lr > 0, unfreezeLr > 0 else {
      throw ValidationError("--lr and --unfreeze-lr must be positive, got \(lr) and \(unfreezeLr)")
    }
    guard batchSize > 0 else {
      throw ValidationError("--batch-size must be at least 1, got \(batchSize)")
    }
    if let hidden, hidden < 1 {
      throw ValidationError("--hidden must be at least 1, got \(hidden)")
    }
    guard patience > 0 else { throw ValidationError("--patience must be at least 1") }
  }

  /// The configuration for one run; `unfreezeEpochs` replaces the option's value when given.
  func configuration(
    freeze: FreezePolicy, seed: UInt64, unfreezeEpochs: Int? = nil
  ) -> FineTuneConfiguration {
    var configuration = FineTuneConfiguration()
    configuration.freeze = freeze
    configuration.headEpochs = epochs
    configuration.unfreezeEpochs = unfreezeEpochs ?? self.unfreezeEpochs ?? 0
    configuration.learningRate = lr
    configuration.unfrozenRateFactor = unfreezeLr / lr
    configuration.batchSize = batchSize
    configuration.patience = patience
    configuration.seed = seed
    return configuration
  }

  /// The settings a model card records.
  func recipe(freeze: FreezePolicy) -> [String: String] {
    [
      "freeze": "\(freeze)", "epochs": "\(epochs)", "unfreeze_epochs": "\(unfreezeEpochs ?? 0)",
      "lr": "\(lr)", "unfreeze_lr": "\(unfreezeLr)", "optimizer": "adamw",
      "batch_size": "\(batchSize)",
      "hidden": hidden.map(String.init) ?? "none", "patience": "\(patience)",
    ]
  }
}
