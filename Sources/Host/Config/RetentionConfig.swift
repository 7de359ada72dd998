/// The `retention` section: deleting old invalid orders, expired authorizations,
/// invalid challenges and expiration-notice records.
struct RetentionConfig: Sendable, Equatable {
    var enabled: Bool = true
    var invalidOrderMaxAgeDays: Int = 30
    var expiredAuthzMaxAgeDays: Int = 30
    var invalidChallengeMaxAgeDays: Int = 30
    var expirationNoticeMaxAgeDays: Int = 90
    var cleanupIntervalSeconds: Int = 86400
    var cleanupLoopIntervalSeconds: Int = 60
}

extension RetentionConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("invalid_order_max_age_days", into: &invalidOrderMaxAgeDays, min: 1)
        r.read("expired_authz_max_age_days", into: &expiredAuthzMaxAgeDays, min: 1)
        r.read("invalid_challenge_max_age_days", into: &invalidChallengeMaxAgeDays, min: 1)
        r.read("expiration_notice_max_age_days", into: &expirationNoticeMaxAgeDays, min: 1)
        r.read("cleanup_interval_seconds", into: &cleanupIntervalSeconds, min: 1)
        r.read("cleanup_loop_interval_seconds", into: &cleanupLoopIntervalSeconds, min: 1)
        r.finish()
    }
}
