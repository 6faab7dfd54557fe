import ArgumentParser

@main
struct ZooCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "zoo",
    abstract: "A model zoo and transfer-learning toolkit: classic CNNs on the CPU.",
    subcommands: [Train.self, Bench.self])
}
