/// `challenges.tlsalpn01`: the tls-alpn-01 validator (RFC 8737).
struct TlsAlpn01Config: Sendable, Equatable {
    var port: Int = 443
    var timeoutSeconds: Int = 10
    var maxRetries: Int = 3
    var autoValidate: Bool = true
}

extension TlsAlpn01Config {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("port", into: &port, min: 1, max: 65535)
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1)
        r.read("max_retries", into: &maxRetries, min: 0)
        r.read("auto_validate", into: &autoValidate)
        r.finish()
    }
}
