import Foundation
import Logging

/// The cleanup worker (a background worker of the reference ACMEEH 2.1): expired nonces are
/// deleted every `nonce.gc_interval_seconds`, and orders whose issuance was interrupted
/// (`processing` past `order.stale_processing_threshold_seconds`) become invalid so that
/// the client orders again; rate-limit counters (`backend: database`) of windows older than
/// `gc_max_age_seconds` are deleted every `gc_interval_seconds`. One instance at a time
/// (advisory lock 712001).
struct CleanupWorker: Sendable {
    let database: Database
    let nonce: NonceConfig
    let order: OrderConfig
    let logger: Logger
    var rateLimits = RateLimitsConfig()

    /// Runs until the task is cancelled.
    func run() async {
        let threshold = order.staleProcessingThresholdSeconds
        let collectsCounters = rateLimits.enabled && rateLimits.backend == .database
        var nextCounterGC = Date()
        while !Task.isCancelled {
            if collectsCounters, Date() >= nextCounterGC {
                nextCounterGC = Date().addingTimeInterval(TimeInterval(rateLimits.gcIntervalSeconds))
                do {
                    let deleted = try await sweepRateLimitCounters()
                    if deleted > 0 { logger.debug("deleted \(deleted) old rate-limit counters") }
                } catch {
                    logger.warning("rate-limit counter cleanup failed", metadata: ["error": "\(error)"])
                }
            }
            do {
                let (nonces, orders) = try await sweep()
                if nonces > 0 { logger.debug("deleted \(nonces) expired nonces") }
                for id in orders {
                    logger.warning("order \(id) was processing for over \(threshold) s; marked invalid")
                }
            } catch {
                logger.warning("cleanup failed", metadata: ["error": "\(error)"])
            }
            let interval = min(nonce.gcIntervalSeconds, threshold, collectsCounters ? rateLimits.gcIntervalSeconds : .max)
            try? await Task.sleep(for: .seconds(max(1, interval)))
        }
    }

    /// One pass: how many nonces were deleted, which orders were given up. Does nothing
    /// while another instance holds the leader lock.
    func sweep() async throws -> (nonces: Int, orders: [UUID]) {
        let threshold = order.staleProcessingThresholdSeconds
        let interrupted = Problem(.serverInternal, "issuance was interrupted; create a new order").documentJSON
        return try await database.transaction { connection -> (nonces: Int, orders: [UUID]) in
            guard try connection.tryCleanupLeadership() else { return (0, []) }
            return (try connection.deleteExpiredNonces(),
                    try connection.failStaleProcessingOrders(olderThan: threshold, error: interrupted))
        }
    }

    /// Deletes the rate-limit counters older than `gc_max_age_seconds`; returns how many.
    /// Does nothing while another instance holds the leader lock.
    func sweepRateLimitCounters() async throws -> Int {
        let maxAge = rateLimits.gcMaxAgeSeconds
        return try await database.transaction { connection in
            guard try connection.tryCleanupLeadership() else { return 0 }
            return try connection.deleteRateLimitCounters(olderThan: maxAge)
        }
    }
}
