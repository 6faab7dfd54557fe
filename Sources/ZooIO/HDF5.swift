import CHDF5
import Foundation
import ZooTensor

// A thin, safe layer over libhdf5's C API: files, groups, float and integer datasets of any
// rank, and string and numeric attributes.
//
// Safety rules kept throughout:
// - Every HDF5 call runs inside `HDF5Library.run`, under one process-wide lock, with HDF5's
//   error printing switched off for the calling thread (the setting is per thread in
//   thread-safe builds, and any thread may call). Nothing is ever printed to stderr; each
//   failure becomes an `HDF5Error` carrying HDF5's innermost message.
// - Only the file handle lives beyond one call. Groups, datasets, attributes, dataspaces,
//   types and property lists are opened for one operation and closed by `defer`.
// - Variable-length strings HDF5 allocates while reading are reclaimed.

/// Why an HDF5 call failed: what was attempted, on which object, and HDF5's own reason.
public struct HDF5Error: Error, Equatable, Sendable, LocalizedError {
  /// What was attempted (`open`, `read dataset`).
  public var operation: String
  /// The file or the object path inside it.
  public var object: String
  /// HDF5's innermost message (`truncated file: eof = 800, ...`), or our own reason.
  public var detail: String

  public init(operation: String, object: String, detail: String) {
    self.operation = operation
    self.object = object
    self.detail = detail
  }

  public var errorDescription: String? { "HDF5 could not \(operation) \(object): \(detail)" }

  /// The detail of a read whose values do not match their stored checksum.
  public static let checksumMismatch = "its values do not match their fletcher32 checksum"
}

/// The single gate to libhdf5.
enum HDF5Library {
  private static let lock = NSRecursiveLock()

  /// Runs `body` holding the HDF5 lock, with HDF5's error printing off on this thread.
  static func run<T>(_ body: () throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    H5Eset_auto2(zoo_h5e_default(), nil, nil)
    return try body()
  }

  /// The error for a failed call, with HDF5's message for it; clears this thread's error stack.
  static func failure(_ operation: String, _ object: String) -> HDF5Error {
    var buffer = [CChar](repeating: 0, count: 1024)
    zoo_h5e_take_message(&buffer, buffer.count)
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    let message = String(decoding: bytes, as: UTF8.self)
    return HDF5Error(
      operation: operation, object: object,
      detail: message.isEmpty ? "HDF5 gave no reason" : message)
  }

  /// Forgets errors of a failed call whose failure is an answer, not a problem.
  static func clearErrors() {
    H5Eclear2(zoo_h5e_default())
  }

  static var defaultList: hid_t { zoo_h5p_default() }
}

/// What a path inside a file refers to.
public enum HDF5ObjectKind: Sendable, Equatable {
  case group, dataset, other
}

/// The element type of a dataset, as stored in the file.
public enum HDF5ElementType: Sendable, Equatable, CustomStringConvertible {
  case float(bits: Int)
  case integer(bits: Int, signed: Bool)
  case string
  /// Any other HDF5 type class (compound, enum, opaque, ...), by name.
  case other(String)

  public static let float32 = HDF5ElementType.float(bits: 32)

  public var description: String {
    switch self {
    case .float(let bits): return "float\(bits)"
    case .integer(let bits, let signed): return "\(signed ? "" : "u")int\(bits)"
    case .string: return "string"
    case .other(let name): return name
    }
  }
}

/// A dataset's shape, element type and storage, known before its values are read.
public struct HDF5DatasetInfo: Sendable, Equatable {
  /// Sizes outermost first (`[]` for a scalar). A size beyond `Int.max` reads as `Int.max`.
  public var shape: [Int]
  public var elementType: HDF5ElementType
  /// Bytes the file actually stores for the values (0 when none were ever written).
  public var storedBytes: Int
  /// Whether the values pass through filters (compression) on the way to the file.
  public var isFiltered: Bool
  /// Whether the stored values carry a fletcher32 checksum, verified on every read.
  public var hasChecksum: Bool

  /// The number of elements, or nil when it does not fit in an `Int`.
  public var elementCount: Int? { ZooIO.elementCount(shape) }
}

/// The product of `shape`, or nil when it overflows.
func elementCount(_ shape: [Int]) -> Int? {
  var count = 1
  for size in shape {
    let (product, overflow) = count.multipliedReportingOverflow(by: size)
    if overflow { return nil }
    count = product
  }
  return count
}

/// An attribute's values with its shape (`[]` for a scalar).
public struct HDF5Attribute: Sendable, Equatable {
  public enum Values: Sendable, Equatable {
    case strings([String])
    case integers([Int64])
    case floats([Double])
  }

  public var values: Values
  public var shape: [Int]

  /// The type as errors describe it: `string`, `integer` or `float`, with `array of` for rank 1.
  public var typeDescription: String {
    let element: String
    switch values {
    case .strings: element = "string"
    case .integers: element = "integer"
    case .floats: element = "float"
    }
    return shape.isEmpty ? element : "array of \(element)s with shape \(describe(shape: shape))"
  }
}

/// An HDF5 file open for reading, or newly created for writing. Closed by `close()` or, failing
/// that, when released.
public final class HDF5File {
  public let url: URL
  private var id: hid_t

  private init(url: URL, id: hid_t) {
    self.url = url
    self.id = id
  }

  deinit {
    if id >= 0 {
      let id = self.id
      HDF5Library.run { _ = H5Fclose(id) }
    }
  }

  /// Whether the file starts with HDF5's signature (at offset 0, 512, 1024, ...).
  public static func hasSignature(_ url: URL) -> Bool {
    HDF5Library.run {
      let answer = H5Fis_hdf5(url.path)
      if answer < 0 { HDF5Library.clearErrors() }
      return answer > 0
    }
  }

  /// Opens an existing file read-only.
  public static func open(_ url: URL) throws -> HDF5File {
    try HDF5Library.run {
      let id = H5Fopen(url.path, zoo_h5f_acc_rdonly(), HDF5Library.defaultList)
      guard id >= 0 else { throw HDF5Library.failure("open", url.path) }
      return HDF5File(url: url, id: id)
    }
  }

  /// Opens an existing file to read and change it.
  public static func openForUpdate(_ url: URL) throws -> HDF5File {
    try HDF5Library.run {
      let id = H5Fopen(url.path, zoo_h5f_acc_rdwr(), HDF5Library.defaultList)
      guard id >= 0 else { throw HDF5Library.failure("open", url.path) }
      return HDF5File(url: url, id: id)
    }
  }

  /// Creates a new file; fails if one exists at `url`. See `withCreationLists` for its format.
  public static func create(_ url: URL) throws -> HDF5File {
    try withCreationLists(url.path) { creation, access in
      let id = H5Fcreate(url.path, zoo_h5f_acc_excl(), creation, access)
      guard id >= 0 else { throw HDF5Library.failure("create", url.path) }
      return HDF5File(url: url, id: id)
    }
  }

  /// Creates a new file that lives in memory until `image()` takes its bytes: HDF5 never
  /// writes to disk, so the caller chooses how the bytes get there (atomically, with a clear
  /// error when the disk is full). `capacity` is a guess of the file's size in bytes, so the
  /// memory grows seldom.
  public static func createInMemory(named name: String, capacity: Int) throws -> HDF5File {
    try withCreationLists(name) { creation, access in
      guard H5Pset_fapl_core(access, max(capacity, 1 << 20), false) >= 0 else {
        throw HDF5Library.failure("keep in memory", name)
      }
      let id = H5Fcreate(name, zoo_h5f_acc_excl(), creation, access)
      guard id >= 0 else { throw HDF5Library.failure("create", name) }
      return HDF5File(url: URL(fileURLWithPath: name), id: id)
    }
  }

  /// The file's bytes as they would be on disk, everything written so far included.
  public func image() throws -> [UInt8] {
    try withHandle { id in
      // The image copies the driver's memory, so everything cached must reach it first.
      guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else {
        throw HDF5Library.failure("flush", url.path)
      }
      let size = H5Fget_file_image(id, nil, 0)
      guard size >= 0 else { throw HDF5Library.failure("take the image of", url.path) }
      var bytes = [UInt8](repeating: 0, count: size)
      guard H5Fget_file_image(id, &bytes, size) == size,
        zoo_h5_reseal_superblock(&bytes, bytes.count) == 0
      else { throw HDF5Library.failure("take the image of", url.path) }
      return bytes
    }
  }

  /// Runs `body` with the creation and access property lists of a new file. The file uses
  /// HDF5 1.10's format, whose superblock, object headers and chunk indexes carry checksums
  /// (1.8's chunk index, a B-tree, has none: a flipped bit there moves a dataset's values or
  /// skips their checksum), and keeps every group's links and attributes inside its object
  /// header (`keepCompact`), so a flipped bit anywhere in the metadata is an error on reading.
  /// Every reader since HDF5 1.10 (2016; h5py's wheels carry 1.12 or later) opens it.
  private static func withCreationLists(
    _ name: String, _ body: (_ creation: hid_t, _ access: hid_t) throws -> HDF5File
  ) throws -> HDF5File {
    try HDF5Library.run {
      let access = H5Pcreate(zoo_h5p_file_access())
      guard access >= 0 else { throw HDF5Library.failure("create file properties for", name) }
      defer { H5Pclose(access) }
      let creation = H5Pcreate(zoo_h5p_file_create())
      guard creation >= 0 else { throw HDF5Library.failure("create file properties for", name) }
      defer { H5Pclose(creation) }
      guard H5Pset_libver_bounds(access, H5F_LIBVER_V110, H5F_LIBVER_V110) >= 0,
        HDF5Group.keepCompact(creation)
      else { throw HDF5Library.failure("set the format of", name) }
      return try body(creation, access)
    }
  }

  /// Writes what is buffered and closes the file. Later calls do nothing.
  public func close() throws {
    try HDF5Library.run {
      guard id >= 0 else { return }
      let status = H5Fclose(id)
      id = -1
      if status < 0 { throw HDF5Library.failure("close", url.path) }
    }
  }

  /// The root group, `/`.
  public var root: HDF5Group { HDF5Group(file: self, path: "/") }

  /// Runs `body` with the open file's handle.
  func withHandle<T>(_ body: (hid_t) throws -> T) throws -> T {
    try HDF5Library.run {
      guard id >= 0 else {
        throw HDF5Error(operation: "use", object: url.path, detail: "the file is closed")
      }
      return try body(id)
    }
  }
}

/// A group of an open file, named by its absolute path. Each operation opens the group, does
/// its work and closes every handle it opened.
public struct HDF5Group {
  public let file: HDF5File
  /// Absolute path inside the file (`/`, `/conv1`).
  public let path: String

  /// The absolute path of `name`, a path relative to this group.
  public func absolutePath(_ name: String) -> String {
    path == "/" ? "/" + name : path + "/" + name
  }

  /// The group at `name` (relative), without checking that it exists.
  public func group(_ name: String) -> HDF5Group {
    HDF5Group(file: file, path: absolutePath(name))
  }

  /// The dataset at `name` (relative), for its attributes: `attribute`, `setAttribute` and
  /// `removeAttribute` work on it; group operations fail.
  public func dataset(_ name: String) -> HDF5Group {
    HDF5Group(file: file, path: absolutePath(name))
  }

  /// Creates a group at `name`, with any missing intermediate groups.
  @discardableResult
  public func createGroup(_ name: String) throws -> HDF5Group {
    try withHandle { group in
      let creation = H5Pcreate(zoo_h5p_group_create())
      guard creation >= 0, Self.keepCompact(creation) else {
        throw HDF5Library.failure("create group properties for", absolutePath(name))
      }
      defer { H5Pclose(creation) }
      try withLinkCreationList { links in
        let child = H5Gcreate2(group, name, links, creation, HDF5Library.defaultList)
        guard child >= 0 else { throw HDF5Library.failure("create group", absolutePath(name)) }
        H5Gclose(child)
      }
    }
    return group(name)
  }

  /// Sets a group's (or a file's root group's) creation properties to keep its links and
  /// attributes in the object header, which HDF5's newer formats checksum, however many there
  /// are. By default HDF5 moves more than eight of them to a heap that carries no checksum.
  static func keepCompact(_ creation: hid_t) -> Bool {
    let limit: UInt32 = 65535
    return H5Pset_link_phase_change(creation, limit, 0) >= 0
      && H5Pset_attr_phase_change(creation, limit, 0) >= 0
  }

  /// What `name` (a relative path, possibly with `/`) refers to, or nil when nothing.
  public func kind(of name: String) throws -> HDF5ObjectKind? {
    try withHandle { group in
      // H5Lexists fails, rather than answering no, when an intermediate component is missing.
      var prefix = ""
      for component in name.split(separator: "/") {
        prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
        let exists = H5Lexists(group, prefix, HDF5Library.defaultList)
        if exists < 0 { throw HDF5Library.failure("look up", absolutePath(prefix)) }
        if exists == 0 { return nil }
      }
      if prefix.isEmpty { return .group }
      // A link that leads nowhere (damaged, or a dangling soft or external link) is an error:
      // answering "nothing there" would let a reader skip what the file meant to hold.
      let object = H5Oopen(group, prefix, HDF5Library.defaultList)
      guard object >= 0 else { throw HDF5Library.failure("open", absolutePath(prefix)) }
      defer { H5Oclose(object) }
      switch H5Iget_type(object) {
      case H5I_GROUP: return .group
      case H5I_DATASET: return .dataset
      default: return .other
      }
    }
  }

  /// Names of the links in this group, in name order.
  public func memberNames() throws -> [String] {
    try withHandle { group in
      var info = H5G_info_t()
      guard H5Gget_info(group, &info) >= 0 else {
        throw HDF5Library.failure("list group", path)
      }
      var names: [String] = []
      for index in 0..<info.nlinks {
        let length = H5Lget_name_by_idx(
          group, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, HDF5Library.defaultList)
        guard length >= 0 else { throw HDF5Library.failure("list group", path) }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        guard
          H5Lget_name_by_idx(
            group, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count,
            HDF5Library.defaultList) >= 0
        else { throw HDF5Library.failure("list group", path) }
        names.append(decodeUTF8(buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }))
      }
      return names
    }
  }

  /// Relative paths of every dataset below this group, visiting at most `limit` objects and
  /// `maximumDepth` levels (a hard-linked cycle cannot loop forever).
  public func datasetPaths(limit: Int = 1_000_000, maximumDepth: Int = 64) throws -> [String] {
    var found: [String] = []
    var visited = 0
    func visit(_ group: HDF5Group, _ prefix: String, depth: Int) throws {
      for name in try group.memberNames() {
        visited += 1
        guard visited <= limit, depth <= maximumDepth else {
          throw HDF5Error(
            operation: "list", object: group.path,
            detail: "more than \(limit) objects or \(maximumDepth) levels of groups")
        }
        let relative = prefix.isEmpty ? name : prefix + "/" + name
        switch try group.kind(of: name) {
        case .dataset: found.append(relative)
        case .group: try visit(group.group(name), relative, depth: depth + 1)
        default: break
        }
      }
    }
    try visit(self, "", depth: 0)
    return found
  }

  /// Removes the link `name` (a group or dataset, relative). HDF5 does not reclaim the space.
  public func removeLink(_ name: String) throws {
    try withHandle { group in
      guard H5Ldelete(group, name, HDF5Library.defaultList) >= 0 else {
        throw HDF5Library.failure("remove", absolutePath(name))
      }
    }
  }

  /// Renames the link `name` to `newName` (both relative to this group).
  public func moveLink(_ name: String, to newName: String) throws {
    try withHandle { group in
      try withLinkCreationList { links in
        guard
          H5Lmove(group, name, group, newName, links, HDF5Library.defaultList) >= 0
        else { throw HDF5Library.failure("move", absolutePath(name)) }
      }
    }
  }

  // MARK: Datasets

  /// Shape, element type and storage of the dataset at `name`.
  public func datasetInfo(_ name: String) throws -> HDF5DatasetInfo {
    try withDataset(name) { dataset in try Self.info(of: dataset, absolutePath(name)) }
  }

  /// Reads the dataset at `name` as float32 values (HDF5 converts other numeric types).
  /// `accept` sees the dataset's description first and may throw to refuse it before any
  /// memory is allocated for its values.
  public func readFloats(_ name: String, accept: (HDF5DatasetInfo) throws -> Void = { _ in })
    throws -> (info: HDF5DatasetInfo, values: [Float])
  {
    let object = absolutePath(name)
    return try withDataset(name) { dataset in
      let info = try Self.info(of: dataset, object)
      try accept(info)
      guard let count = info.elementCount else {
        throw HDF5Error(
          operation: "read", object: object,
          detail: "shape \(describe(shape: info.shape)) has too many elements")
      }
      var values = [Float](repeating: 0, count: count)
      if count > 0 {
        let status = values.withUnsafeMutableBytes {
          H5Dread(
            dataset, zoo_h5t_native_float(), zoo_h5s_all(), zoo_h5s_all(),
            HDF5Library.defaultList, $0.baseAddress)
        }
        guard status >= 0 else {
          let failure = HDF5Library.failure("read", object)
          guard info.hasChecksum, failure.detail.contains("Fletcher32") else { throw failure }
          throw HDF5Error(
            operation: "read", object: object,
            detail: HDF5Error.checksumMismatch)
        }
      }
      return (info, values)
    }
  }

  /// Creates a float32 (little-endian, as h5py writes `<f4`) dataset at `name` holding
  /// `values` in row-major order, with any missing intermediate groups. Datasets created with
  /// values (of rank 1 or more, not empty) carry a fletcher32 checksum (`checksumChunks`).
  public func createDataset(_ name: String, shape: [Int], floats values: [Float]) throws {
    precondition(shape.reduce(1, *) == values.count, "shape \(shape) needs as many values")
    try values.withUnsafeBytes {
      try createDataset(
        name, shape: shape, fileType: zoo_h5t_ieee_f32le(), memoryType: zoo_h5t_native_float(),
        data: $0.baseAddress)
    }
  }

  /// Creates a float64 dataset.
  public func createDataset(_ name: String, shape: [Int], doubles values: [Double]) throws {
    precondition(shape.reduce(1, *) == values.count, "shape \(shape) needs as many values")
    try values.withUnsafeBytes {
      try createDataset(
        name, shape: shape, fileType: zoo_h5t_ieee_f64le(), memoryType: zoo_h5t_native_double(),
        data: $0.baseAddress)
    }
  }

  /// Creates an int32 dataset.
  public func createDataset(_ name: String, shape: [Int], integers values: [Int32]) throws {
    precondition(shape.reduce(1, *) == values.count, "shape \(shape) needs as many values")
    try values.withUnsafeBytes {
      try createDataset(
        name, shape: shape, fileType: zoo_h5t_std_i32le(), memoryType: zoo_h5t_native_int32(),
        data: $0.baseAddress)
    }
  }

  /// Declares a float32 dataset of `shape` without writing values: HDF5 allocates nothing
  /// until something is written, and reads return the fill value (0).
  public func declareFloatDataset(_ name: String, shape: [Int]) throws {
    try createDataset(
      name, shape: shape, fileType: zoo_h5t_ieee_f32le(), memoryType: zoo_h5t_native_float(),
      data: nil)
  }

  private func createDataset(
    _ name: String, shape: [Int], fileType: hid_t, memoryType: hid_t, data: UnsafeRawPointer?
  ) throws {
    let object = absolutePath(name)
    try withHandle { group in
      let space = try Self.createSpace(shape, object)
      defer { H5Sclose(space) }
      let creation = try Self.creationList(shape, checksummed: data != nil, object)
      defer { H5Pclose(creation) }
      try withLinkCreationList { links in
        let dataset = H5Dcreate2(
          group, name, fileType, space, links, creation, HDF5Library.defaultList)
        guard dataset >= 0 else { throw HDF5Library.failure("create dataset", object) }
        defer { H5Dclose(dataset) }
        if let data, shape.reduce(1, *) > 0 {
          guard
            H5Dwrite(
              dataset, memoryType, zoo_h5s_all(), zoo_h5s_all(), HDF5Library.defaultList, data)
              >= 0
          else { throw HDF5Library.failure("write dataset", object) }
        }
      }
    }
  }

  // MARK: Attributes

  /// Whether this group has an attribute called `name`.
  public func hasAttribute(_ name: String) throws -> Bool {
    try withObjectHandle { group in
      let exists = H5Aexists(group, name)
      guard exists >= 0 else { throw HDF5Library.failure("look up attribute \(name) of", path) }
      return exists > 0
    }
  }

  /// The attribute called `name`, or nil when there is none. Strings may be fixed-length
  /// (null- or space-padded) or variable-length; integers read as Int64, floats as Double.
  public func attribute(_ name: String) throws -> HDF5Attribute? {
    let object = "attribute \(name) of \(path)"
    return try withObjectHandle { group -> HDF5Attribute? in
      let exists = H5Aexists(group, name)
      guard exists >= 0 else { throw HDF5Library.failure("look up", object) }
      guard exists > 0 else { return nil }
      let attribute = H5Aopen(group, name, HDF5Library.defaultList)
      guard attribute >= 0 else { throw HDF5Library.failure("open", object) }
      defer { H5Aclose(attribute) }
      let space = H5Aget_space(attribute)
      guard space >= 0 else { throw HDF5Library.failure("read", object) }
      defer { H5Sclose(space) }
      let shape = try Self.shape(of: space, object)
      guard let count = elementCount(shape), count <= 1 << 24 else {
        throw HDF5Error(
          operation: "read", object: object,
          detail: "shape \(describe(shape: shape)) is too large for an attribute")
      }
      let type = H5Aget_type(attribute)
      guard type >= 0 else { throw HDF5Library.failure("read", object) }
      defer { H5Tclose(type) }
      let values: HDF5Attribute.Values
      switch H5Tget_class(type) {
      case H5T_STRING:
        values = .strings(try Self.readStrings(attribute, type: type, space: space, count, object))
      case H5T_INTEGER:
        var integers = [Int64](repeating: 0, count: count)
        if count > 0 {
          guard H5Aread(attribute, zoo_h5t_native_int64(), &integers) >= 0 else {
            throw HDF5Library.failure("read", object)
          }
        }
        values = .integers(integers)
      case H5T_FLOAT:
        var floats = [Double](repeating: 0, count: count)
        if count > 0 {
          guard H5Aread(attribute, zoo_h5t_native_double(), &floats) >= 0 else {
            throw HDF5Library.failure("read", object)
          }
        }
        values = .floats(floats)
      default:
        throw HDF5Error(
          operation: "read", object: object,
          detail: "it holds \(Self.elementType(type)) values, not strings or numbers")
      }
      return HDF5Attribute(values: values, shape: shape)
    }
  }

  /// Sets a string attribute, replacing any of the same name: one string when `scalar`, else
  /// a one-dimensional array. Fixed-length strings (null-padded UTF-8, the size of the
  /// longest) are what numpy's `S` arrays and Keras write; variable-length ones read back as
  /// `str` in h5py and have no size limit.
  public func setAttribute(
    _ name: String, strings: [String], scalar: Bool = false, variableLength: Bool = false
  ) throws {
    precondition(!scalar || strings.count == 1, "a scalar attribute holds one value")
    try HDF5Library.run {
      let object = "attribute \(name) of \(path)"
      let type = H5Tcopy(zoo_h5t_c_s1())
      guard type >= 0 else { throw HDF5Library.failure("create the type of", object) }
      defer { H5Tclose(type) }
      H5Tset_cset(type, H5T_CSET_UTF8)
      let shape = scalar ? [] : [strings.count]
      if variableLength {
        H5Tset_size(type, zoo_h5t_variable())
        // One spare null pointer, so an empty array still has a buffer to point at.
        let pointers = strings.map { strdup($0) } + [nil]
        defer {
          for pointer in pointers { free(pointer) }
        }
        try pointers.withUnsafeBytes {
          try writeAttribute(name, shape: shape, fileType: type, memoryType: type, $0.baseAddress!)
        }
      } else {
        let size = max(1, strings.map(\.utf8.count).max() ?? 1)
        H5Tset_size(type, size)
        H5Tset_strpad(type, H5T_STR_NULLPAD)
        var bytes = [UInt8](repeating: 0, count: max(1, strings.count * size))
        for (index, string) in strings.enumerated() {
          bytes.replaceSubrange(
            index * size..<(index * size + string.utf8.count), with: string.utf8)
        }
        try bytes.withUnsafeBytes {
          try writeAttribute(name, shape: shape, fileType: type, memoryType: type, $0.baseAddress!)
        }
      }
    }
  }

  /// Sets an int64 attribute (one value when `scalar`, else an array).
  public func setAttribute(_ name: String, integers: [Int], scalar: Bool = false) throws {
    precondition(!scalar || integers.count == 1, "a scalar attribute holds one value")
    let values = integers.map(Int64.init) + [0]  // never empty, so the pointer is never nil
    try values.withUnsafeBytes {
      try writeAttribute(
        name, shape: scalar ? [] : [integers.count], fileType: zoo_h5t_std_i64le(),
        memoryType: zoo_h5t_native_int64(), $0.baseAddress!)
    }
  }

  /// Sets a float32 attribute (one value when `scalar`, else an array).
  public func setAttribute(_ name: String, floats: [Float], scalar: Bool = false) throws {
    precondition(!scalar || floats.count == 1, "a scalar attribute holds one value")
    let values = floats + [0]
    try values.withUnsafeBytes {
      try writeAttribute(
        name, shape: scalar ? [] : [floats.count], fileType: zoo_h5t_ieee_f32le(),
        memoryType: zoo_h5t_native_float(), $0.baseAddress!)
    }
  }

  /// Sets a float64 attribute (one value when `scalar`, else an array).
  public func setAttribute(_ name: String, doubles: [Double], scalar: Bool = false) throws {
    precondition(!scalar || doubles.count == 1, "a scalar attribute holds one value")
    let values = doubles + [0]
    try values.withUnsafeBytes {
      try writeAttribute(
        name, shape: scalar ? [] : [doubles.count], fileType: zoo_h5t_ieee_f64le(),
        memoryType: zoo_h5t_native_double(), $0.baseAddress!)
    }
  }

  /// Removes the attribute called `name`, if there is one.
  public func removeAttribute(_ name: String) throws {
    try withObjectHandle { group in
      guard H5Aexists(group, name) > 0 else {
        HDF5Library.clearErrors()
        return
      }
      guard H5Adelete(group, name) >= 0 else {
        throw HDF5Library.failure("remove attribute \(name) of", path)
      }
    }
  }

  private func writeAttribute(
    _ name: String, shape: [Int], fileType: hid_t, memoryType: hid_t, _ data: UnsafeRawPointer
  ) throws {
    let object = "attribute \(name) of \(path)"
    try withObjectHandle { group in
      if H5Aexists(group, name) > 0, H5Adelete(group, name) < 0 {
        throw HDF5Library.failure("replace", object)
      }
      let space = try Self.createSpace(shape, object)
      defer { H5Sclose(space) }
      let attribute = H5Acreate2(
        group, name, fileType, space, HDF5Library.defaultList, HDF5Library.defaultList)
      guard attribute >= 0 else { throw HDF5Library.failure("create", object) }
      defer { H5Aclose(attribute) }
      guard H5Awrite(attribute, memoryType, data) >= 0 else {
        throw HDF5Library.failure("write", object)
      }
    }
  }

  // MARK: Handles

  private func withHandle<T>(_ body: (hid_t) throws -> T) throws -> T {
    try file.withHandle { file in
      let group = H5Gopen2(file, path, HDF5Library.defaultList)
      guard group >= 0 else { throw HDF5Library.failure("open group", path) }
      defer { H5Gclose(group) }
      return try body(group)
    }
  }

  /// Opens the group, or the dataset when this value was made by `dataset(_:)`: attributes
  /// live on either.
  private func withObjectHandle<T>(_ body: (hid_t) throws -> T) throws -> T {
    try file.withHandle { file in
      let object = H5Oopen(file, path, HDF5Library.defaultList)
      guard object >= 0 else { throw HDF5Library.failure("open", path) }
      defer { H5Oclose(object) }
      return try body(object)
    }
  }

  private func withDataset<T>(_ name: String, _ body: (hid_t) throws -> T) throws -> T {
    try withHandle { group in
      let dataset = H5Dopen2(group, name, HDF5Library.defaultList)
      guard dataset >= 0 else { throw HDF5Library.failure("open dataset", absolutePath(name)) }
      defer { H5Dclose(dataset) }
      return try body(dataset)
    }
  }

  /// Link creation that makes missing intermediate groups (Keras's `conv1/kernel:0` inside
  /// group `conv1`) and marks names as UTF-8.
  private func withLinkCreationList<T>(_ body: (hid_t) throws -> T) throws -> T {
    let links = H5Pcreate(zoo_h5p_link_create())
    guard links >= 0 else { throw HDF5Library.failure("create link properties for", path) }
    defer { H5Pclose(links) }
    guard H5Pset_create_intermediate_group(links, 1) >= 0,
      H5Pset_char_encoding(links, H5T_CSET_UTF8) >= 0
    else { throw HDF5Library.failure("set link properties for", path) }
    return try body(links)
  }

  /// Dataset creation properties: chunks with the fletcher32 filter when `checksummed` (HDF5
  /// filters only chunked data), otherwise contiguous storage.
  private static func creationList(_ shape: [Int], checksummed: Bool, _ object: String) throws
    -> hid_t
  {
    let list = H5Pcreate(zoo_h5p_dataset_create())
    guard list >= 0 else { throw HDF5Library.failure("create dataset properties for", object) }
    guard checksummed, let chunk = checksumChunk(shape) else { return list }
    guard H5Pset_chunk(list, Int32(chunk.count), chunk.map { hsize_t($0) }) >= 0,
      H5Pset_fletcher32(list) >= 0
    else {
      H5Pclose(list)
      throw HDF5Library.failure("set the checksum of", object)
    }
    return list
  }

  /// The chunk shape for a checksummed dataset: the whole dataset where it fits in a chunk of
  /// at most `maximumChunkBytes` (one checksum over all values), else the largest dimension
  /// halved until it does. Nil for scalars and empty datasets, which HDF5 cannot chunk.
  static func checksumChunk(_ shape: [Int], elementBytes: Int = 4) -> [Int]? {
    guard !shape.isEmpty, !shape.contains(0), let count = elementCount(shape) else { return nil }
    var chunk = shape
    var bytes = count * elementBytes
    while bytes > maximumChunkBytes {
      let largest = chunk.indices.max { chunk[$0] < chunk[$1] }!
      let halved = (chunk[largest] + 1) / 2
      bytes = bytes / chunk[largest] * halved
      chunk[largest] = halved
    }
    return chunk
  }

  /// HDF5 allows chunks under 4 GiB; a reader holds one whole chunk in memory while it checks it.
  static let maximumChunkBytes = 1 << 30

  private static func createSpace(_ shape: [Int], _ object: String) throws -> hid_t {
    let space =
      shape.isEmpty
      ? H5Screate(H5S_SCALAR)
      : H5Screate_simple(Int32(shape.count), shape.map { hsize_t($0) }, nil)
    guard space >= 0 else { throw HDF5Library.failure("create dataspace for", object) }
    return space
  }

  private static func shape(of space: hid_t, _ object: String) throws -> [Int] {
    switch H5Sget_simple_extent_type(space) {
    case H5S_NULL: return [0]
    case H5S_SCALAR: return []
    default: break
    }
    let rank = H5Sget_simple_extent_ndims(space)
    guard rank >= 0 else { throw HDF5Library.failure("read the shape of", object) }
    var dimensions = [hsize_t](repeating: 0, count: Int(rank))
    guard H5Sget_simple_extent_dims(space, &dimensions, nil) >= 0 else {
      throw HDF5Library.failure("read the shape of", object)
    }
    return dimensions.map { Int(exactly: $0) ?? Int.max }
  }

  private static func elementType(_ type: hid_t) -> HDF5ElementType {
    let bits = H5Tget_size(type) * 8
    switch H5Tget_class(type) {
    case H5T_FLOAT: return .float(bits: bits)
    case H5T_INTEGER: return .integer(bits: bits, signed: H5Tget_sign(type) != H5T_SGN_NONE)
    case H5T_STRING: return .string
    case H5T_COMPOUND: return .other("compound")
    case H5T_ENUM: return .other("enum")
    case H5T_OPAQUE: return .other("opaque")
    case H5T_ARRAY: return .other("array")
    case H5T_VLEN: return .other("variable-length sequence")
    case H5T_REFERENCE: return .other("reference")
    case H5T_BITFIELD: return .other("bitfield")
    default: return .other("unknown type")
    }
  }

  private static func info(of dataset: hid_t, _ object: String) throws -> HDF5DatasetInfo {
    let space = H5Dget_space(dataset)
    guard space >= 0 else { throw HDF5Library.failure("read the shape of", object) }
    defer { H5Sclose(space) }
    let type = H5Dget_type(dataset)
    guard type >= 0 else { throw HDF5Library.failure("read the type of", object) }
    defer { H5Tclose(type) }
    let properties = H5Dget_create_plist(dataset)
    guard properties >= 0 else { throw HDF5Library.failure("read the layout of", object) }
    defer { H5Pclose(properties) }
    let filters = H5Pget_nfilters(properties)
    guard filters >= 0 else { throw HDF5Library.failure("read the filters of", object) }
    var flags: UInt32 = 0
    var parameterCount = 0
    let filterIDs = (0..<filters).map {
      H5Pget_filter2(properties, UInt32($0), &flags, &parameterCount, nil, 0, nil, nil)
    }
    let stored = H5Dget_storage_size(dataset)
    HDF5Library.clearErrors()  // a storage size of 0 may leave an error behind
    return HDF5DatasetInfo(
      shape: try shape(of: space, object), elementType: elementType(type),
      storedBytes: Int(exactly: stored) ?? Int.max, isFiltered: filters > 0,
      hasChecksum: filterIDs.contains(H5Z_FILTER_FLETCHER32))
  }

  private static func readStrings(
    _ attribute: hid_t, type: hid_t, space: hid_t, _ count: Int, _ object: String
  ) throws -> [String] {
    guard count > 0 else { return [] }
    if H5Tis_variable_str(type) > 0 {
      let memory = H5Tcopy(zoo_h5t_c_s1())
      guard memory >= 0 else { throw HDF5Library.failure("read", object) }
      defer { H5Tclose(memory) }
      H5Tset_size(memory, zoo_h5t_variable())
      H5Tset_cset(memory, H5Tget_cset(type))
      var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
      guard H5Aread(attribute, memory, &pointers) >= 0 else {
        throw HDF5Library.failure("read", object)
      }
      defer { _ = zoo_h5_reclaim(memory, space, &pointers) }
      return pointers.map { pointer in
        guard let pointer else { return "" }
        return decodeUTF8(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
      }
    }
    let size = H5Tget_size(type)
    guard size > 0, size <= 1 << 24 else {
      throw HDF5Error(operation: "read", object: object, detail: "strings of \(size) bytes")
    }
    var bytes = [UInt8](repeating: 0, count: count * size)
    guard H5Aread(attribute, type, &bytes) >= 0 else { throw HDF5Library.failure("read", object) }
    let spacePadded = H5Tget_strpad(type) == H5T_STR_SPACEPAD
    return (0..<count).map { index in
      var element = bytes[index * size..<(index + 1) * size].prefix { $0 != 0 }
      if spacePadded {
        while element.last == 0x20 { element.removeLast() }
      }
      return decodeUTF8(element)
    }
  }
}

private func decodeUTF8<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
  String(decoding: bytes, as: UTF8.self)
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
