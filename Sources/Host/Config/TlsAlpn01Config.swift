/// `challenges.tlsalpn01`: the tls-alpn-01 validator (RFC 8737).
struct TlsAlpn01Config: Sendable, Equatable {
    var port: Int = 443
    var timeoutSeconds: Int = 10
    var maxRetries: Int = 3
    var autoValidate: Bool = true
    /// Networks the validator never connects to (SSRF guard); the same defaults as http-01.
    var blockedNetworks: [String] = ["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10"]
}

extension TlsAlpn01Config {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("port", into: &port, min: 1, max: 65535)
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1)
        r.read("max_retries", into: &maxRetries, min: 0)
        r.read("auto_validate", into: &autoValidate)
        r.read("blocked_networks", into: &blockedNetworks, check: NetworkSyntax.cidrProblem)
        r.finish()
    }
}
