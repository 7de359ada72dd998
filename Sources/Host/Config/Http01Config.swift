/// `challenges.http01`: the http-01 validator (RFC 8555 §8.3).
struct Http01Config: Sendable, Equatable {
    var port: Int = 80
    var timeoutSeconds: Int = 10
    var maxRetries: Int = 3
    /// Validate during the challenge request (true) or leave it to the background worker.
    var autoValidate: Bool = true
    var maxResponseBytes: Int = 1_048_576
    /// Networks the validator never connects to (SSRF guard), checked on every redirect hop.
    var blockedNetworks: [String] = ["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10"]
}

extension Http01Config {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("port", into: &port, min: 1, max: 65535)
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1)
        r.read("max_retries", into: &maxRetries, min: 0)
        r.read("auto_validate", into: &autoValidate)
        r.read("max_response_bytes", into: &maxResponseBytes, min: 1024, max: 10_485_760)
        r.read("blocked_networks", into: &blockedNetworks, check: NetworkSyntax.cidrProblem)
        r.finish()
    }
}
