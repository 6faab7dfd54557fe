import ArgumentParser
import Foundation
import ZooData
import ZooIO

/// Runs `body`, turning a library error into one clear line and a non-zero exit.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as LocalizedError {
    throw ValidationErrorLine(message: error.errorDescription ?? "\(error)")
  }
}

/// Runs `body`, which reads the weight file at `path` or loads its weights into a model. Most
/// of the file's errors name a dataset or tensor inside it; this puts the file's path in front
/// of those that do not say which file they are about.
@discardableResult
func namingWeightFile<T>(_ path: String, _ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as WeightFileError {
    let message = error.errorDescription ?? "\(error)"
    throw ValidationErrorLine(message: message.contains(path) ? message : "\(path): \(message)")
  }
}

/// An error the command line prints as `Error: <message>` and exits with status 1.
struct ValidationErrorLine: Error, CustomStringConvertible {
  let message: String
  var description: String { message }
}

/// A command that takes a list of image files and carries on past the ones it cannot use.
protocol ImageListCommand {
  var images: [String] { get }
}

extension ImageListCommand {
  /// Each readable image prepared for `shape` (pixels in order), the paths read, and how many
  /// could not be read (each reported in a line of its own).
  func readImages(for shape: ImageShape) throws -> (pixels: [UInt8], paths: [String], failures: Int)
  {
    var pixels: [UInt8] = []
    var readable: [String] = []
    var failures = 0
    for path in images {
      do {
        let image = try ImageCodec.decode(contentsOf: URL(fileURLWithPath: path))
        pixels += ImageTransforms.prepare(image, for: shape)
        readable.append(path)
      } catch let error as ImageError {
        report(error)
        failures += 1
      }
    }
    return (pixels, readable, failures)
  }

  /// Prints an image's error as a line of its own; the other images are still processed.
  func report(_ error: LocalizedError) {
    FileHandle.standardError.write(Data("Error: \(error.errorDescription ?? "\(error)")\n".utf8))
  }

  /// Ends the run with status 1 if any image failed: one image's own line says it all, several
  /// are followed by a count.
  func endRun(failures: Int, couldNotBe verb: String) throws {
    guard failures > 0 else { return }
    if images.count == 1 { throw ExitCode.failure }
    throw ValidationErrorLine(message: "\(failures) of \(images.count) images could not be \(verb)")
  }
}
