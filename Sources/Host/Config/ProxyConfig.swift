/// The `proxy` section: which reverse proxies may set the client address and scheme.
struct ProxyConfig: Sendable, Equatable {
    var enabled: Bool = false
    /// CIDR networks (or single addresses) whose forwarded headers are trusted.
    var trustedProxies: [String] = []
    var forwardedForHeader: String = "X-Forwarded-For"
    var forwardedProtoHeader: String = "X-Forwarded-Proto"
}

extension ProxyConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("trusted_proxies", into: &trustedProxies, check: NetworkSyntax.cidrProblem)
        r.read("forwarded_for_header", into: &forwardedForHeader)
        r.read("forwarded_proto_header", into: &forwardedProtoHeader)
        r.finish()
    }
}
