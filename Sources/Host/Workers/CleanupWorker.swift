import Foundation
import Logging
import NIOConcurrencyHelpers

/// The cleanup worker, run by the leader of advisory lock 712001. Each task has its own
/// interval: expired nonces are deleted every `nonce.gc_interval_seconds`; pending
/// authorizations and open orders past their expiry move on every
/// `order.cleanup_interval_seconds` (RFC 8555 §7.1.6); orders whose issuance was
/// interrupted (`processing` past `order.stale_processing_threshold_seconds`) become
/// invalid, checked as often as that threshold; with `security.rate_limits.backend:
/// database`, rate-limit counters of windows older than `gc_max_age_seconds` are deleted
/// every `gc_interval_seconds`; with `retention.enabled`, invalid orders, long-expired
/// authorizations, invalid challenges and the expiration notices of expired certificates
/// older than their `retention.*_max_age_days` are
/// deleted every `retention.cleanup_interval_seconds`, in batches; with
/// `audit_retention.enabled`, admin audit-log rows older than `audit_retention.max_age_days`
/// are deleted every `audit_retention.cleanup_interval_seconds`, in batches. The loop wakes every
/// `retention.cleanup_loop_interval_seconds` (sooner when a task's interval is shorter). A new
/// leader runs every task at once.
struct CleanupWorker: Sendable {
    enum Job: String, CaseIterable, Sendable {
        case nonces, orderExpiry, staleProcessing, rateLimitCounters, retention, auditRetention

        /// The `task` label of its metrics.
        var metric: WorkerMetrics.CleanupTask {
            switch self {
            case .nonces: .nonceGC
            case .orderExpiry: .orderExpiry
            case .staleProcessing: .staleProcessingOrders
            case .rateLimitCounters: .rateLimitGC
            case .retention: .retention
            case .auditRetention: .auditRetention
            }
        }
    }

    let database: Database
    let nonce: NonceConfig
    let order: OrderConfig
    let logger: Logger
    private let lastRun = NIOLockedValueBox<[Job: Date]>([:])

    let rateLimits: RateLimitsConfig
    let retention: RetentionConfig
    let auditRetention: AuditRetentionConfig
    let metrics: WorkerMetrics
    /// Told of each order the stale-processing task ends (`order.stale_recovered`).
    let events: EventDispatcher?

    /// Rows one retention statement deletes at most.
    static let retentionBatch = 1000

    init(database: Database, nonce: NonceConfig, order: OrderConfig, logger: Logger,
         rateLimits: RateLimitsConfig = RateLimitsConfig(), retention: RetentionConfig = RetentionConfig(),
         auditRetention: AuditRetentionConfig = AuditRetentionConfig(),
         metrics: WorkerMetrics = .disabled, events: EventDispatcher? = nil) {
        self.auditRetention = auditRetention
        self.database = database
        self.events = events
        self.nonce = nonce
        self.order = order
        self.logger = logger
        self.rateLimits = rateLimits
        self.retention = retention
        self.metrics = metrics
    }

    /// The tasks this instance has: counters live in PostgreSQL only with the database backend;
    /// retention runs while `retention.enabled`, audit-log retention while `audit_retention.enabled`.
    var jobs: [Job] {
        Job.allCases.filter { job in
            switch job {
            case .rateLimitCounters: rateLimits.enabled && rateLimits.backend == .database
            case .retention: retention.enabled
            case .auditRetention: auditRetention.enabled
            default: true
            }
        }
    }

    func interval(_ task: Job) -> Int {
        switch task {
        case .nonces: nonce.gcIntervalSeconds
        case .orderExpiry: order.cleanupIntervalSeconds
        case .staleProcessing: order.staleProcessingThresholdSeconds
        case .rateLimitCounters: rateLimits.gcIntervalSeconds
        case .retention: retention.cleanupIntervalSeconds
        case .auditRetention: auditRetention.cleanupIntervalSeconds
        }
    }

    /// How often the loop looks for a due task: `retention.cleanup_loop_interval_seconds`, or
    /// the shortest task interval when that is shorter.
    var pollSeconds: Int { (jobs.map(interval) + [retention.cleanupLoopIntervalSeconds]).min()! }

    /// Runs the tasks that are due; never more work waiting at once (false).
    func round(now: Date = Date()) async throws -> Bool {
        let due = lastRun.withLockedValue { last in
            jobs.filter { task in last[task].map { now.timeIntervalSince($0) >= Double(interval(task)) } ?? true }
        }
        for task in due {
            do {
                try await run(task)
            } catch {
                metrics.cleanupFailed(task.metric)
                throw error
            }
            metrics.cleanupRan(task.metric)
            lastRun.withLockedValue { $0[task] = now }
        }
        return false
    }

    func run(_ task: Job) async throws {
        switch task {
        case .nonces:
            let deleted = try await deleteExpiredNonces()
            if deleted > 0 { logger.debug("deleted \(deleted) expired nonces") }
        case .orderExpiry:
            let (authorizations, orders) = try await expireAuthorizationsAndOrders()
            if authorizations > 0 { metrics.challengesExpired.increment(by: authorizations) }
            if authorizations + orders > 0 {
                logger.info("expired \(authorizations) authorizations and \(orders) orders")
            }
        case .staleProcessing:
            for id in try await failStaleProcessingOrders() {
                logger.warning("order \(id) was processing for over \(order.staleProcessingThresholdSeconds) s; marked invalid")
                if let events, let failed = try? await database.withConnection({ try $0.order(id: id) }) {
                    events.publish(.orderUnfulfilled(.init(kind: .staleRecovered, orderID: id, accountID: failed.accountID,
                                                           identifiers: failed.identifiers, error: Self.interrupted.detail)))
                }
            }
        case .rateLimitCounters:
            let deleted = try await sweepRateLimitCounters()
            if deleted > 0 { logger.debug("deleted \(deleted) old rate-limit counters") }
        case .retention:
            let deleted = try await applyRetention()
            if deleted.orders + deleted.authorizations + deleted.challenges > 0 {
                logger.info("""
                    retention deleted \(deleted.orders) invalid orders, \(deleted.authorizations) expired \
                    authorizations and \(deleted.challenges) invalid challenges
                    """)
            }
        case .auditRetention:
            let deleted = try await pruneAuditLog()
            if deleted > 0 {
                logger.info("audit retention deleted \(deleted) admin audit-log rows older than \(auditRetention.maxAgeDays) days")
            }
        }
    }

    func deleteExpiredNonces() async throws -> Int {
        try await database.withConnection { try $0.deleteExpiredNonces() }
    }

    /// Returns (authorizations expired, orders invalidated).
    func expireAuthorizationsAndOrders() async throws -> (Int, Int) {
        let expired = Problem(.malformed, "the order or one of its authorizations expired").documentJSON
        return try await database.transaction { try $0.expireStaleAuthorizationsAndOrders(orderError: expired) }
    }

    /// The orders given up.
    static let interrupted = Problem(.serverInternal, "issuance was interrupted; create a new order")

    func failStaleProcessingOrders() async throws -> [UUID] {
        let threshold = order.staleProcessingThresholdSeconds
        let interrupted = Self.interrupted.documentJSON
        return try await database.withConnection { try $0.failStaleProcessingOrders(olderThan: threshold, error: interrupted) }
    }

    /// Deletes the rate-limit counters older than `gc_max_age_seconds`; returns how many.
    func sweepRateLimitCounters() async throws -> Int {
        let maxAge = rateLimits.gcMaxAgeSeconds
        return try await database.withConnection { try $0.deleteRateLimitCounters(olderThan: maxAge) }
    }

    /// Deletes the admin audit-log rows older than `audit_retention.max_age_days`, batch by
    /// batch; returns how many.
    func pruneAuditLog() async throws -> Int {
        let days = auditRetention.maxAgeDays, limit = Self.retentionBatch
        var total = 0
        while true {
            let deleted = try await database.withConnection { try $0.deleteAuditLog(olderThanDays: days, limit: limit) }
            total += deleted
            if deleted < limit { return total }
        }
    }

    /// Deletes what `retention` no longer keeps, batch by batch; returns how many of each.
    func applyRetention() async throws -> (orders: Int, authorizations: Int, challenges: Int) {
        func drain(_ delete: @escaping @Sendable (Connection) throws -> Int) async throws -> Int {
            var total = 0
            while true {
                let deleted = try await database.withConnection(delete)
                total += deleted
                if deleted < Self.retentionBatch { return total }
            }
        }
        let limit = Self.retentionBatch, r = retention
        let challenges = try await drain { try $0.deleteInvalidChallenges(olderThanDays: r.invalidChallengeMaxAgeDays, limit: limit) }
        let orders = try await drain { try $0.deleteInvalidOrders(olderThanDays: r.invalidOrderMaxAgeDays, limit: limit) }
        let authorizations = try await drain {
            try $0.deleteExpiredAuthorizations(olderThanDays: r.expiredAuthzMaxAgeDays, limit: limit)
        }
        _ = try await drain { try $0.deleteExpirationNotices(olderThanDays: r.expirationNoticeMaxAgeDays, limit: limit) }
        return (orders, authorizations, challenges)
    }
}
