/// The `audit_export` section: forwarding audit events to a webhook or syslog collector.
/// Accepted for compatibility; the reference never used these keys.
struct AuditExportConfig: Sendable, Equatable {
    var webhookURL: String? = nil
    var syslogHost: String? = nil
    var syslogPort: Int = 514
}

extension AuditExportConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("webhook_url", into: &webhookURL)
        r.read("syslog_host", into: &syslogHost)
        r.read("syslog_port", into: &syslogPort, min: 1, max: 65535)
        r.finish()
    }
}
