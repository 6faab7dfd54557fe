import ArgumentParser

@main
struct ZooCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "zoo",
    abstract: "A model zoo and transfer-learning toolkit: classic CNNs on the CPU.",
    subcommands: [List.self, Info.self, Train.self, Bench.self])
}
