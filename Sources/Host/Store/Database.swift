import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The PostgreSQL connection pool: every other layer reaches the database through it.
///
/// - Connections open lazily on demand, up to `maxConnections`. `start()` (called at server
///   startup) opens `minConnections` at once and runs the maintenance loop, which closes
///   connections idle longer than `maxIdleSeconds` (never below `minConnections`) and
///   reopens up to `minConnections` after losses. Without `start()` (CLI commands) the
///   pool is lazy and does no background work.
/// - A checkout waits at most `connectionTimeout` seconds (0 = no limit, as in libpq), then
///   fails with `StoreError(.poolExhausted)` "database pool exhausted …".
/// - A connection that libpq reports broken, or that fails its liveness check on checkout,
///   is discarded and replaced by a fresh one.
/// - libpq blocks, so bodies run on a dedicated `NIOThreadPool` with `maxConnections`
///   threads — never on an event loop or the cooperative pool. One thread per slot means a
///   body that holds a connection always has a thread: work never queues behind threads
///   while connections sit idle, and never more than `maxConnections` threads block at once.
final class Database: Sendable {
    let config: DatabaseConfig
    private let threadPool: NIOThreadPool
    private let state: NIOLockedValueBox<PoolState>
    private let maintenance = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let logger: Logger
    private let roundTripCounter = RoundTripCounter()
    private let batchQueue: BatchQueue

    /// Pool figures for health checks and metrics.
    struct Stats: Sendable, Equatable {
        /// Open connections plus those being opened.
        var size: Int
        /// Idle connections ready for checkout.
        var available: Int
        /// Connections lent to a body (or being opened for one).
        var inUse: Int
        /// Checkouts queued for a connection.
        var waiting: Int
        var minConnections: Int
        var maxConnections: Int
        /// The last failure to open a connection, cleared by the next success.
        var lastConnectError: String?
    }

    init(config: DatabaseConfig, logger: Logger = Logger(label: "acmeeh.store")) {
        self.config = config
        self.logger = logger
        let state = PoolState(minConnections: config.minConnections, maxConnections: config.maxConnections)
        self.state = NIOLockedValueBox(state)
        self.threadPool = NIOThreadPool(numberOfThreads: state.maxConnections)
        self.threadPool.start()
        self.batchQueue = BatchQueue(threadCount: min(System.coreCount, state.maxConnections))
        batchQueue.setRunner { [weak self] batches in
            guard let self else { return batches.map { _ in .failure(StoreError(.poolClosed, "database pool is shut down")) } }
            return self.runCoalesced(batches)
        }
    }

    deinit { batchQueue.stop() }

    var stats: Stats {
        state.withLockedValue { s in
            Stats(
                size: s.size, available: s.idle.count, inUse: s.leased, waiting: s.waiters.count,
                minConnections: s.minConnections, maxConnections: s.maxConnections,
                lastConnectError: s.lastConnectError)
        }
    }

    /// SQL round trips made by every connection this pool has opened, closed ones included
    /// (each statement, each prepare, each pipelined batch; see `Connection.roundTrips`).
    var roundTrips: Int { roundTripCounter.total }

    /// The checkout wait; nil = no limit.
    private var checkoutTimeout: TimeAmount? {
        config.connectionTimeout > 0 ? .seconds(Int64(config.connectionTimeout)) : nil
    }

    // MARK: - Async API (servers, workers)

    /// Runs `body` with a pooled connection on the database thread pool.
    @discardableResult
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let grant = try await checkout()
        return try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, Error>) in
            threadPool.submit { workState in
                guard case .active = workState else {
                    self.abandon(grant)
                    cont.resume(throwing: StoreError(.poolClosed, "database pool is shut down"))
                    return
                }
                cont.resume(with: Result { try self.run(grant, body) })
            }
        }
    }

    /// Runs `body` in one transaction (COMMIT on return, ROLLBACK on throw).
    @discardableResult
    func transaction<T: Sendable>(
        isolation: Connection.IsolationLevel? = nil, _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        try await withConnection { try $0.transaction(isolation: isolation, body) }
    }

    /// Runs `statements` as one pipelined batch on a pooled connection: one round trip, one
    /// implicit transaction (see `Connection.runBatch` for the contract, the errors and
    /// `asynchronousCommit`). Concurrent batches share pipelines (`BatchQueue`).
    func runBatch(_ statements: [BatchStatement], asynchronousCommit: Bool = false) async throws -> [BatchStatementResult] {
        guard !statements.isEmpty else { return [] }
        let sent = asynchronousCommit ? [.asynchronousCommit] + statements : statements
        let results = try await withCheckedThrowingContinuation { continuation in
            batchQueue.submit(sent) { continuation.resume(with: $0) }
        }
        return Array(results.dropFirst(sent.count - statements.count))
    }

    /// Sends batches taken together by an I/O thread on one pooled connection.
    private func runCoalesced(_ batches: [[BatchStatement]]) -> [BatchQueue.Outcome] {
        do {
            return try run(checkoutSync()) { $0.runBatches(batches) }
        } catch {
            return batches.map { _ in .failure(error) }
        }
    }

    // MARK: - Synchronous API (CLI commands that own their thread)

    /// Runs `body` on the calling thread, which blocks while waiting and while libpq works.
    /// Never call it from async code or from inside another body.
    @available(*, noasync, message: "blocks the thread; use withConnection in async code")
    @discardableResult
    func withConnectionSync<T>(_ body: (Connection) throws -> T) throws -> T {
        try run(checkoutSync(), body)
    }

    @available(*, noasync, message: "blocks the thread; use transaction in async code")
    @discardableResult
    func transactionSync<T>(isolation: Connection.IsolationLevel? = nil, _ body: (Connection) throws -> T) throws -> T {
        try withConnectionSync { try $0.transaction(isolation: isolation, body) }
    }

    // MARK: - Lifecycle

    /// Opens `minConnections` and starts the maintenance loop (idle reaping, refill).
    /// Throws when not even one connection can be opened and `minConnections` > 0.
    func start() async throws {
        try await fillToMinimum(throwing: true)
        let interval = max(1, min(30, config.maxIdleSeconds / 2))
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(interval) * 1_000_000_000)
                guard let self, !Task.isCancelled else { return }
                await self.runMaintenance()
            }
        }
        maintenance.withLockedValue { old in
            old?.cancel()
            old = task
        }
    }

    /// One maintenance pass: close connections idle longer than `maxIdleSeconds` (down to
    /// `minConnections`), then reopen up to `minConnections`. The loop of `start()` calls it;
    /// tests call it directly.
    func runMaintenance() async {
        let cutoff = NIODeadline.now() - .seconds(Int64(max(0, config.maxIdleSeconds)))
        let stale = state.withLockedValue { $0.reap(idleSince: cutoff) }
        if !stale.isEmpty {
            logger.debug("closing idle database connections", metadata: ["count": "\(stale.count)"])
            _ = try? await threadPool.runIfActive { stale.forEach { $0.close() } }
        }
        try? await fillToMinimum(throwing: false)
    }

    /// Stops the pool: fails waiters, closes idle connections, closes lent ones as they
    /// come back, and stops the thread pool after the running bodies finish.
    func shutdown() async {
        maintenance.withLockedValue { task in
            task?.cancel()
            task = nil
        }
        let (idle, waiters) = state.withLockedValue { $0.close() }
        for w in waiters {
            w.timeoutTask?.cancel()
            w.deliver(.failure(StoreError(.poolClosed, "database pool is shut down")))
        }
        idle.forEach { $0.close() }
        batchQueue.stop()
        try? await threadPool.shutdownGracefully()
    }

    // MARK: - Checkout

    private func checkout() async throws -> PoolState.Grant {
        let id = state.withLockedValue { $0.makeWaiterID() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<PoolState.Grant, Error>) in
                let waiter = PoolState.Waiter(id: id, deliver: { cont.resume(with: $0) })
                switch state.withLockedValue({ $0.acquire(orEnqueue: waiter) }) {
                case .granted(let g): cont.resume(returning: g)
                case .failed(let e): cont.resume(throwing: e)
                case .queued:
                    // Cancelled before the waiter was queued: onCancel found nothing to remove.
                    if Task.isCancelled, let w = state.withLockedValue({ $0.removeWaiter(id) }) {
                        w.deliver(.failure(CancellationError()))
                    } else {
                        armTimeout(id)
                    }
                }
            }
        } onCancel: {
            if let w = state.withLockedValue({ $0.removeWaiter(id) }) {
                w.timeoutTask?.cancel()
                w.deliver(.failure(CancellationError()))
            }
        }
    }

    private func armTimeout(_ id: UInt64) {
        guard let timeout = checkoutTimeout else { return }
        let task = Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(timeout.nanoseconds))
            guard !Task.isCancelled, let self else { return }
            if let w = self.state.withLockedValue({ $0.removeWaiter(id) }) {
                w.deliver(.failure(self.exhaustedError()))
            }
        }
        if !state.withLockedValue({ $0.attachTimeout(id, task) }) { task.cancel() }
    }

    private func exhaustedError() -> StoreError {
        let s = stats
        return StoreError(
            .poolExhausted,
            "database pool exhausted: no connection free within \(config.connectionTimeout) s "
                + "(\(s.inUse) in use of max \(s.maxConnections), \(s.waiting) waiting)")
    }

    private func checkoutSync() throws -> PoolState.Grant {
        let id = state.withLockedValue { $0.makeWaiterID() }
        let box = NIOLockedValueBox<Result<PoolState.Grant, any Error>?>(nil)
        let signal = DispatchSemaphore(value: 0)
        let waiter = PoolState.Waiter(id: id, deliver: { result in
            box.withLockedValue { $0 = result }
            signal.signal()
        })
        switch state.withLockedValue({ $0.acquire(orEnqueue: waiter) }) {
        case .granted(let g): return g
        case .failed(let e): throw e
        case .queued: break
        }
        if let timeout = checkoutTimeout {
            if signal.wait(timeout: .now() + .nanoseconds(Int(timeout.nanoseconds))) == .timedOut {
                if state.withLockedValue({ $0.removeWaiter(id) }) != nil { throw exhaustedError() }
                signal.wait()  // served just as the wait ended
            }
        } else {
            signal.wait()
        }
        return try box.withLockedValue { $0! }.get()
    }

    // MARK: - Running a body (on a thread that may block)

    private func run<T>(_ grant: PoolState.Grant, _ body: (Connection) throws -> T) throws -> T {
        let connection = try materialize(grant)
        defer { release(connection) }
        return try body(connection)
    }

    /// Turns a grant into a live connection: checks an idle one, opens for a slot.
    private func materialize(_ grant: PoolState.Grant) throws -> Connection {
        switch grant {
        case .connection(let c):
            if c.checkAlive() { return c }
            logger.info("discarding a broken database connection", metadata: ["backend_pid": "\(c.backendPID)"])
            c.close()
            return try openForSlot()
        case .openSlot:
            return try openForSlot()
        }
    }

    /// Opens a connection for a slot already counted as leased; frees the slot on failure.
    private func openForSlot() throws -> Connection {
        do {
            let c = try Connection(config: config, roundTripCounter: roundTripCounter)
            state.withLockedValue { $0.lastConnectError = nil }
            return c
        } catch {
            let handOver = state.withLockedValue { s -> (PoolState.Waiter, PoolState.Grant)? in
                s.lastConnectError = "\(error)"
                return s.freeSlot()
            }
            if let (w, g) = handOver { deliver(g, to: w) }
            throw error
        }
    }

    private func release(_ connection: Connection) {
        if connection.inTransaction && !connection.isBroken {
            // A body left a transaction open: never hand that state to the next one.
            try? connection.executeScript("ROLLBACK")
        }
        let healthy = !connection.isBroken && connection.isIdle
        switch state.withLockedValue({ $0.release(connection, healthy: healthy, now: .now()) }) {
        case .keep:
            break
        case .handOver(let w, let g):
            deliver(g, to: w)
        case .close(let handOver):
            connection.close()
            if let (w, g) = handOver { deliver(g, to: w) }
        }
    }

    /// The pool closed before a granted work item ran: give the grant back.
    private func abandon(_ grant: PoolState.Grant) {
        switch grant {
        case .connection(let c): release(c)
        case .openSlot: _ = state.withLockedValue { $0.freeSlot() }
        }
    }

    private func deliver(_ grant: PoolState.Grant, to waiter: PoolState.Waiter) {
        waiter.timeoutTask?.cancel()
        waiter.deliver(.success(grant))
    }

    private func fillToMinimum(throwing: Bool) async throws {
        while state.withLockedValue({ $0.reserveForMinimum() }) {
            do {
                let c = try await threadPool.runIfActive { try self.openForSlot() }
                release(c)
            } catch {
                if !(error is StoreError) {
                    // The thread pool refused the work (shutting down): give the slot back.
                    _ = state.withLockedValue { $0.freeSlot() }
                }
                logger.warning("cannot open a database connection", metadata: ["error": "\(error)"])
                if throwing { throw error }
                return
            }
        }
    }
}
