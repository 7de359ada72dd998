/// The `ari` section: ACME Renewal Information (RFC 9773).
struct AriConfig: Sendable, Equatable {
    var enabled: Bool = false
    /// The suggested window starts after this fraction of the lifetime.
    var renewalPercentage: Double = 0.6667
    var path: String = "/renewalInfo"
}

extension AriConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("renewal_percentage", into: &renewalPercentage, min: 0.01, max: 1.0)
        r.read("path", into: &path)
        r.finish()
    }
}
