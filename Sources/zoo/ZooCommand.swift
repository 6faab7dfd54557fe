import ArgumentParser
@preconcurrency import Foundation

@main
struct ZooCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "zoo",
    abstract: "A model zoo and transfer-learning toolkit: classic CNNs on the CPU.",
    subcommands: [
      List.self, Info.self, Train.self, Evaluate.self, Predict.self, Finetune.self, Embed.self,
      Export.self, Import.self, Bench.self, TransferBench.self, Scenes.self, CheckWeightFile.self,
      ExplainCommand.self, ExplainSanity.self, Generate.self,
    ])

  static func main() {
    // Line-buffered even into a pipe or a file, so long runs report each epoch as it ends.
    setvbuf(stdout, nil, _IOLBF, 0)
    // Past a file-size limit (ulimit -f) a write then fails with EFBIG, which is reported like a
    // full disk, instead of the signal ending the process mid-write.
    signal(SIGXFSZ, SIG_IGN)
    main(nil)
  }
}
