/// The `metrics` section: the Prometheus endpoint.
struct MetricsConfig: Sendable, Equatable {
    var enabled: Bool = false
    var path: String = "/metrics"
    /// Require an admin bearer token.
    var authRequired: Bool = false
}

extension MetricsConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("path", into: &path)
        r.read("auth_required", into: &authRequired)
        r.finish()
    }
}
