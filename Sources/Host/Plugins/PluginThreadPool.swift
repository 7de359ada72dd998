import NIOPosix

/// The threads that run blocking plugin calls (ABI rule 5): never an event loop, never the
/// cooperative pool, so a plugin waiting on an HSM or a DNS server until its deadline
/// holds up nothing else.
final class PluginThreadPool: Sendable {
    private let pool: NIOThreadPool

    /// Starts `numberOfThreads` threads. Plugin calls mostly wait on the network, so the pool
    /// is sized for concurrent waits, not for cores.
    init(numberOfThreads: Int = 16) {
        pool = NIOThreadPool(numberOfThreads: max(1, numberOfThreads))
        pool.start()
    }

    /// Runs `body` on a pool thread and returns its value. Throws `CancellationError` when the
    /// task was cancelled before the body started, or NIO's error when the pool is shut down.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    func shutdown() async throws {
        try await pool.shutdownGracefully()
    }
}
