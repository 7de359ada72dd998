/// The `dns` section: resolvers for the server's own lookups (CAA, RFC 8659), and for
/// every built-in validator whose own `resolvers` is empty.
struct DnsConfig: Sendable, Equatable {
    /// `IP`, `IP:PORT` or `[IPv6]:PORT`; empty = the system resolver.
    var resolvers: [String] = []
    var timeoutSeconds: Int = 10
    /// Further rounds of a CAA query that no resolver answered usably (unused by the reference).
    var retries: Int = 3
}

extension DnsConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("resolvers", into: &resolvers, check: NetworkSyntax.resolverProblem)
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1)
        r.read("retries", into: &retries, min: 0)
        r.finish()
    }
}
