/// The `audit_retention` section: purging old admin audit-log rows.
struct AuditRetentionConfig: Sendable, Equatable {
    var enabled: Bool = false
    var maxAgeDays: Int = 90
    var cleanupIntervalSeconds: Int = 86400
}

extension AuditRetentionConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("max_age_days", into: &maxAgeDays, min: 1)
        r.read("cleanup_interval_seconds", into: &cleanupIntervalSeconds, min: 1)
        r.finish()
    }
}
