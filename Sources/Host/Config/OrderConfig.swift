/// The `order` section: order and authorization lifetimes and the order cleanup.
struct OrderConfig: Sendable, Equatable {
    var expirySeconds: Int = 604_800
    var authorizationExpirySeconds: Int = 2_592_000
    var cleanupIntervalSeconds: Int = 3600
    /// An order `processing` for longer than this is recovered (set invalid).
    var staleProcessingThresholdSeconds: Int = 600
    /// Lifetime of authorizations made through newAuthz (RFC 8555 §7.4.1).
    var preAuthorizationLifetimeDays: Int = 30
    /// `Retry-After` on a processing order.
    var retryAfterSeconds: Int = 3
}

extension OrderConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("expiry_seconds", into: &expirySeconds, min: 1)
        r.read("authorization_expiry_seconds", into: &authorizationExpirySeconds, min: 1)
        r.read("cleanup_interval_seconds", into: &cleanupIntervalSeconds, min: 1)
        r.read("stale_processing_threshold_seconds", into: &staleProcessingThresholdSeconds, min: 1)
        r.read("pre_authorization_lifetime_days", into: &preAuthorizationLifetimeDays, min: 1)
        r.read("retry_after_seconds", into: &retryAfterSeconds, min: 1)
        r.finish()
    }
}
