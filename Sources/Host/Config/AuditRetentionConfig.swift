/// The `audit_retention` section: the cleanup worker deletes admin audit-log rows
/// (`admin.audit_log`) older than `max_age_days`, every `cleanup_interval_seconds`.
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
