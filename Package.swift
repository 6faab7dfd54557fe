// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "zoo",
  platforms: [.macOS(.v14)],
  products: [
    .library(name: "ZooTensor", targets: ["ZooTensor"]),
    .library(name: "ZooNN", targets: ["ZooNN"]),
    .library(name: "ZooData", targets: ["ZooData"]),
    .library(name: "ZooIO", targets: ["ZooIO"]),
    .library(name: "Zoo", targets: ["Zoo"]),
    .library(name: "ZooPlot", targets: ["ZooPlot"]),
    .library(name: "Transfer", targets: ["Transfer"]),
    .library(name: "ZooONNX", targets: ["ZooONNX"]),
    .library(name: "Explain", targets: ["Explain"]),
    .executable(name: "zoo", targets: ["zoo"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // `swift package generate-documentation --target Zoo` (and Transfer) builds the DocC docs.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    // C libraries, found through pkg-config (Debian: libopenblas-dev, libhdf5-dev, libpng-dev, zlib1g-dev).
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    // libjpeg with an error manager that returns instead of calling exit().
    .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),

    // The engine's AVX2 and FMA kernels, chosen at run time by a CPU check (no compiler flags).
    .target(name: "CKernels"),

    .target(name: "ZooTensor", dependencies: ["CBLAS", "CKernels"]),
    .target(name: "ZooNN", dependencies: ["ZooTensor"]),
    .target(name: "ZooData", dependencies: ["ZooTensor", "CZlib", "CJPEG", "CPNG"]),
    .target(name: "ZooIO", dependencies: ["CHDF5", "ZooNN", "ZooTensor"]),
    .target(name: "Zoo", dependencies: ["ZooNN", "ZooData", "ZooIO"]),
    .target(name: "ZooPlot", dependencies: ["ZooData", "ZooTensor"]),
    .target(name: "Transfer", dependencies: ["Zoo", "ZooNN", "ZooData", "ZooIO"]),
    // ONNX export (a traced forward pass) and import (initializers by name), through a small
    // protobuf writer and reader of its own.
    .target(name: "ZooONNX", dependencies: ["ZooNN", "ZooTensor"]),
    // Data-parallel training over Open MPI (Debian: libopenmpi-dev, openmpi-bin). Only the
    // command line links it: the library products stay free of MPI.
    .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
    .target(name: "ZooMPI", dependencies: ["CMPI", "ZooTensor"]),
    .target(name: "Explain", dependencies: ["Zoo", "ZooNN", "ZooTensor"]),
    .executableTarget(
      name: "zoo",
      dependencies: [
        "Zoo", "Transfer", "Explain", "ZooData", "ZooIO", "ZooNN", "ZooPlot", "ZooTensor",
        "ZooONNX", "ZooMPI",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // Fuzzing the readers of untrusted files (Tools/fuzz): the entry points, shared with the
    // tests that replay the corpus, and the libFuzzer driver.
    .target(name: "ZooFuzzTargets", dependencies: ["ZooData", "ZooIO"]),
    .target(name: "CLibFuzzer"),
    .executableTarget(name: "zoo-fuzz", dependencies: ["ZooFuzzTargets", "CLibFuzzer", "CHDF5"]),

    // Gradient checks and comparisons shared by the test targets.
    .target(name: "ZooTestSupport", dependencies: ["ZooTensor", "ZooNN"]),
    .testTarget(
      // ZooNN for the modules checked against torch (squeeze-and-excitation); CKernels for the
      // AVX2 kernels' bounds.
      name: "ZooTensorTests", dependencies: ["ZooTensor", "ZooNN", "ZooTestSupport", "CKernels"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "ZooNNTests", dependencies: ["ZooNN", "ZooTestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(
      name: "ZooDataTests", dependencies: ["ZooData"], resources: [.copy("Fixtures")]),
    .testTarget(
      name: "ZooIOTests", dependencies: ["ZooIO", "Zoo", "ZooTestSupport"],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "ZooFuzzTargetsTests", dependencies: ["ZooFuzzTargets", "ZooData", "ZooIO"]),
    .testTarget(name: "ZooPlotTests", dependencies: ["ZooPlot", "ZooData"]),
    .testTarget(name: "TransferTests", dependencies: ["Transfer", "Zoo", "ZooData", "ZooIO"]),
    .testTarget(
      name: "ZooTests", dependencies: ["Zoo", "ZooData", "ZooIO", "ZooTestSupport"],
      resources: [.copy("Fixtures"), .copy("Golden")]),
    .testTarget(
      name: "ExplainTests",
      dependencies: ["Explain", "Zoo", "ZooData", "ZooIO", "ZooNN", "ZooTensor", "ZooTestSupport"],
      resources: [.copy("Fixtures")]),
    // Runs the built `zoo` executable as a child process; its fixtures are read by path.
    .testTarget(
      name: "ZooCommandTests", dependencies: ["Zoo", "ZooData", "ZooIO", "ZooTensor"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "ZooONNXTests", dependencies: ["ZooONNX", "Zoo", "ZooNN", "ZooTensor"],
      resources: [.copy("Fixtures")]),
  ]
)
