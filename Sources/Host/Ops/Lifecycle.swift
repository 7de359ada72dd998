import Synchronization

/// Where the process is in its life: starting, serving, or shutting down.
/// Read by health checks; set by the serve command and the signal handling.
final class Lifecycle: Sendable {
    private let state = Mutex<(started: Bool, shuttingDown: Bool)>((false, false))

    var isStarted: Bool { state.withLock { $0.started } }
    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    func markStarted() { state.withLock { $0.started = true } }
    func markShuttingDown() { state.withLock { $0.shuttingDown = true } }
}
