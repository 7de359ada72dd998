import Foundation
import Logging
import Synchronization

/// The deployment guide's graceful shutdown after SIGTERM/SIGINT: (1) the HTTP server
/// stops accepting connections and (2) finishes in-flight requests for up to
/// `server.graceful_timeout` (both by the service group); then (3) the processing
/// challenges this instance holds go back to pending, (4) the background workers stop
/// after their current cycle, and (5) the database pool is drained and closed.
final class GracefulShutdown: Sendable {
    let runtime: Runtime
    let maintenance: MaintenanceMode
    let background: Task<Void, Never>
    let logger: Logger
    private let closed = Mutex(false)

    init(runtime: Runtime, maintenance: MaintenanceMode, background: Task<Void, Never>, logger: Logger) {
        self.runtime = runtime
        self.maintenance = maintenance
        self.background = background
        self.logger = logger
    }

    var gracefulTimeout: Duration { .seconds(runtime.config.server.gracefulTimeout) }

    /// Step 3, also run when the in-flight requests outlive `graceful_timeout`: the workers
    /// are told to stop (so they claim nothing more) and every challenge this instance
    /// holds becomes pending. Safe to repeat; does nothing once the pool is closed.
    func drainChallenges() async {
        background.cancel()
        guard !closed.withLock({ $0 }) else { return }
        do {
            let count = try await runtime.database.withConnection {
                try $0.drainChallenges(lockedBy: ChallengeLocks.instance)
            }
            if count > 0 { logger.notice("shutdown: \(count) processing challenge(s) returned to pending") }
        } catch {
            logger.error("shutdown: cannot return processing challenges to pending", metadata: ["error": "\(error)"])
        }
    }

    /// Steps 3 to 5, after the HTTP server stopped.
    func finish() async {
        await drainChallenges()
        // Step 4: the workers' current cycle may finish within graceful_timeout.
        let background = self.background, timeout = gracefulTimeout
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await background.value }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        closed.withLock { $0 = true }
        await maintenance.close()
        await runtime.close()
    }
}
