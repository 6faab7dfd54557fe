import Foundation

/// A rank stopped by SIGTERM from outside the job (`kill PID`, a scheduler) says so in one
/// line and exits with status 1, which makes mpirun stop the other ranks and exit with 1. The
/// SIGTERM that mpirun (or its daemon, the rank's parent) sends to the other ranks when it
/// stops the job ends them as usual, without a misleading line of their own.
public enum RankTermination {
  // Written once before the handler is installed, read only by the handler.
  nonisolated(unsafe) private static var message: UnsafeMutablePointer<CChar>?

  public static func install(rank: Int, size: Int) {
    message = strdup(
      "Error: rank \(rank) of \(size) was terminated (SIGTERM from outside the job); the other ranks stop too\n"
    )
    var action = sigaction()
    action.sa_flags = SA_SIGINFO
    action.__sigaction_handler.sa_sigaction = { signal, info, _ in
      if let info, info.pointee._sifields._kill.si_pid != getppid(),
        let message = RankTermination.message
      {
        write(STDERR_FILENO, message, strlen(message))
        _exit(1)
      }
      Glibc.signal(signal, SIG_DFL)
      raise(signal)
    }
    sigaction(SIGTERM, &action, nil)
  }
}
