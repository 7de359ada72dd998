import Metrics

/// The counters of the background workers: the challenge worker's poll cycles and failed
/// polls, the pending authorizations the cleanup worker expired, the cleanup worker's runs and
/// failures per task, and the CRLs the CRL worker published and its failed rounds. `disabled` counts nothing (metrics off, or a worker in a test).
struct WorkerMetrics: Sendable {
    /// The cleanup worker's tasks, as the `task` label names them.
    enum CleanupTask: String, CaseIterable, Sendable {
        case nonceGC = "nonce_gc"
        case orderExpiry = "order_expiry"
        case staleProcessingOrders = "stale_processing_orders"
        case rateLimitGC = "rate_limit_gc"
        case retention
        case auditRetention = "audit_retention"
    }

    let challengePolls: Counter
    let challengeErrors: Counter
    let challengesExpired: Counter
    let crlsPublished: Counter
    let crlErrors: Counter
    let expirationErrors: Counter
    private let cleanupRuns: [CleanupTask: Counter]
    private let cleanupErrors: [CleanupTask: Counter]

    init(factory: any MetricsFactory) {
        challengePolls = Counter(label: "acmeeh_challenge_worker_polls_total", factory: factory)
        challengeErrors = Counter(label: "acmeeh_challenge_worker_errors_total", factory: factory)
        challengesExpired = Counter(label: "acmeeh_challenges_expired_total", factory: factory)
        crlsPublished = Counter(label: "acmeeh_crl_rebuilds_total", factory: factory)
        crlErrors = Counter(label: "acmeeh_crl_worker_errors_total", factory: factory)
        expirationErrors = Counter(label: "acmeeh_expiration_worker_errors_total", factory: factory)
        func perTask(_ name: String) -> [CleanupTask: Counter] {
            Dictionary(uniqueKeysWithValues: CleanupTask.allCases.map {
                ($0, Counter(label: name, dimensions: [("task", $0.rawValue)], factory: factory))
            })
        }
        cleanupRuns = perTask("acmeeh_cleanup_runs_total")
        cleanupErrors = perTask("acmeeh_cleanup_errors_total")
    }

    static let disabled = WorkerMetrics(factory: NOOPMetricsHandler.instance)

    func cleanupRan(_ task: CleanupTask) { cleanupRuns[task]?.increment() }
    func cleanupFailed(_ task: CleanupTask) { cleanupErrors[task]?.increment() }
}
