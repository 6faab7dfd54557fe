import ArgumentParser
import Foundation

/// Runs `body`, turning a library error into one clear line and a non-zero exit.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as LocalizedError {
    throw ValidationErrorLine(message: error.errorDescription ?? "\(error)")
  }
}

/// An error the command line prints as `Error: <message>` and exits with status 1.
struct ValidationErrorLine: Error, CustomStringConvertible {
  let message: String
  var description: String { message }
}
