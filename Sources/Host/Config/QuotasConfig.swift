/// The `quotas` section: per-account issuance quotas over a rolling 24 hours (0 = none).
struct QuotasConfig: Sendable, Equatable {
    var enabled: Bool = false
    var maxOrdersPerAccountPerDay: Int = 0
    /// Enforced at finalize (the reference accepted it but never enforced it).
    var maxCertificatesPerAccountPerDay: Int = 0
}

extension QuotasConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("max_orders_per_account_per_day", into: &maxOrdersPerAccountPerDay, min: 0)
        r.read("max_certificates_per_account_per_day", into: &maxCertificatesPerAccountPerDay, min: 0)
        r.finish()
    }
}
