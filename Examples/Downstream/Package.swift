// swift-tools-version: 6.1
// A package that uses zoo as a library, the way another project would (by path here; by URL
// and version elsewhere). CI builds and runs it to keep the library usable from outside.
import PackageDescription

let package = Package(
  name: "Downstream",
  dependencies: [.package(name: "zoo", path: "../..")],
  targets: [
    .executableTarget(
      name: "Downstream",
      dependencies: [
        .product(name: "Transfer", package: "zoo"),
        .product(name: "Zoo", package: "zoo"),
        .product(name: "ZooData", package: "zoo"),
        .product(name: "ZooIO", package: "zoo"),
        .product(name: "ZooNN", package: "zoo"),
        .product(name: "ZooTensor", package: "zoo"),
      ])
  ]
)
