import ArgumentParser
import Foundation
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
