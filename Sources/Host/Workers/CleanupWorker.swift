import Foundation
import Logging

/// The cleanup worker (a background worker of the reference ACMEEH 2.1): expired nonces are
/// deleted every `nonce.gc_interval_seconds`, and orders whose issuance was interrupted
/// (`processing` past `order.stale_processing_threshold_seconds`) become invalid so that
/// the client orders again. One instance at a time (advisory lock 712001).
struct CleanupWorker: Sendable {
    let database: Database
    let nonce: NonceConfig
    let order: OrderConfig
    let logger: Logger
    var metrics: WorkerMetrics = .disabled

    /// Runs until the task is cancelled.
    func run() async {
        let threshold = order.staleProcessingThresholdSeconds
        while !Task.isCancelled {
            do {
                let (leader, nonces, orders) = try await sweep()
                if leader { WorkerMetrics.CleanupTask.allCases.forEach(metrics.cleanupRan) }
                if nonces > 0 { logger.debug("deleted \(nonces) expired nonces") }
                for id in orders {
                    logger.warning("order \(id) was processing for over \(threshold) s; marked invalid")
                }
            } catch {
                // Both tasks run in one transaction: a failure is each task's.
                WorkerMetrics.CleanupTask.allCases.forEach(metrics.cleanupFailed)
                logger.warning("cleanup failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(max(1, min(nonce.gcIntervalSeconds, threshold))))
        }
    }

    /// One pass: whether this instance led it, how many nonces were deleted, which orders
    /// were given up. Does nothing while another instance holds the leader lock.
    func sweep() async throws -> (leader: Bool, nonces: Int, orders: [UUID]) {
        let threshold = order.staleProcessingThresholdSeconds
        let interrupted = Problem(.serverInternal, "issuance was interrupted; create a new order").documentJSON
        return try await database.transaction { connection -> (leader: Bool, nonces: Int, orders: [UUID]) in
            guard try connection.tryCleanupLeadership() else { return (false, 0, []) }
            return (true, try connection.deleteExpiredNonces(),
                    try connection.failStaleProcessingOrders(olderThan: threshold, error: interrupted))
        }
    }
}
