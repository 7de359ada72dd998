import Foundation

/// The names this process locks challenges with (`challenges.locked_by`): every one starts
/// with the instance's own prefix, so that a graceful shutdown returns exactly the
/// challenges this instance holds to `pending`.
enum ChallengeLocks {
    /// This process: its pid and a random part (pids repeat across hosts and restarts).
    static let instance = "i-\(ProcessInfo.processInfo.processIdentifier)-\(RandomBytes.uuid().uuidString.prefix(8))/"

    /// The lock of one request that validates in the request.
    static func request() -> String { instance + "request-\(RandomBytes.uuid().uuidString.prefix(8))" }

    /// The lock of this instance's challenge worker.
    static let worker = instance + "worker"
}
