/// The `notifications` section: recording and delivering notification emails, and the
/// certificate expiration warnings.
struct NotificationsConfig: Sendable, Equatable {
    /// The notification types a site may switch off with `disabled_types`.
    static let types: Set<String> = [
        "delivery_succeeded", "delivery_failed", "revocation_succeeded", "revocation_failed",
        "registration_succeeded", "registration_failed", "admin_user_created", "admin_password_reset",
        "expiration_warning", "order_rejected", "order_quota_exceeded", "order_stale_recovered",
        "challenge_failed", "csr_validation_failed", "account_deactivated", "account_revoked",
        "key_rollover_succeeded", "authorization_deactivated",
    ]

    var enabled: Bool = true
    var maxRetries: Int = 3
    var retryDelaySeconds: Int = 60
    var batchSize: Int = 50
    /// Accepted for compatibility; unused by the reference.
    var retryIntervalSeconds: Int = 300
    /// Days before `notAfter` at which contacts are warned.
    var expirationWarningDays: [Int] = [30, 14, 7, 1]
    var expirationCheckIntervalSeconds: Int = 3600
    var retryBackoffMultiplier: Double = 2.0
    var retryMaxDelaySeconds: Int = 3600
    var disabledTypes: [String] = []
}

extension NotificationsConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("max_retries", into: &maxRetries, min: 0)
        r.read("retry_delay_seconds", into: &retryDelaySeconds, min: 1)
        r.read("batch_size", into: &batchSize, min: 1)
        r.read("retry_interval_seconds", into: &retryIntervalSeconds, min: 1)
        r.read("expiration_warning_days", into: &expirationWarningDays, min: 1)
        r.read("expiration_check_interval_seconds", into: &expirationCheckIntervalSeconds, min: 1)
        r.read("retry_backoff_multiplier", into: &retryBackoffMultiplier, min: 1.0, max: 10.0)
        r.read("retry_max_delay_seconds", into: &retryMaxDelaySeconds, min: 1)
        r.read("disabled_types", into: &disabledTypes) {
            Self.types.contains($0) ? nil : "unknown notification type \"\($0)\""
        }
        r.finish()
    }
}
