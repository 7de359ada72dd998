/// `challenges.dns01`: the dns-01 validator (RFC 8555 §8.4).
struct Dns01Config: Sendable, Equatable {
    /// `IP`, `IP:PORT` or `[IPv6]:PORT`; empty = `dns.resolvers`, then the system resolver.
    var resolvers: [String] = []
    var timeoutSeconds: Int = 30
    /// The least wait before a failed validation is tried again (the reference never waited on it).
    var propagationWaitSeconds: Int = 10
    var maxRetries: Int = 5
    var autoValidate: Bool = false
    var requireDNSSEC: Bool = false
    var requireAuthoritative: Bool = false
}

extension Dns01Config {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("resolvers", into: &resolvers, check: NetworkSyntax.resolverProblem)
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1)
        r.read("propagation_wait_seconds", into: &propagationWaitSeconds, min: 0)
        r.read("max_retries", into: &maxRetries, min: 0)
        r.read("auto_validate", into: &autoValidate)
        r.read("require_dnssec", into: &requireDNSSEC)
        r.read("require_authoritative", into: &requireAuthoritative)
        r.finish()
    }
}
