/// `ca.external`: a remote signing API reached over HTTPS (Vault/EJBCA-style).
struct ExternalCAConfig: Sendable, Equatable {
    var signURL: String = ""
    /// Empty: revocation is recorded in the database only.
    var revokeURL: String = ""
    /// Empty: the external CA signs no CRLs (`crl.enabled` is refused with it).
    var crlURL: String = ""
    var authHeader: String = "Authorization"
    var authValue: String = ""
    var caCertPath: String? = nil
    var clientCertPath: String? = nil
    var clientKeyPath: String? = nil
    var timeoutSeconds: Int = 30
    var maxRetries: Int = 0
    var retryDelaySeconds: Double = 1.0
}

extension ExternalCAConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("sign_url", into: &signURL)
        r.read("revoke_url", into: &revokeURL)
        r.read("crl_url", into: &crlURL)
        r.read("auth_header", into: &authHeader)
        r.read("auth_value", into: &authValue)
        r.read("ca_cert_path", into: &caCertPath)
        r.read("client_cert_path", into: &clientCertPath)
        r.read("client_key_path", into: &clientKeyPath)
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1)
        r.read("max_retries", into: &maxRetries, min: 0)
        r.read("retry_delay_seconds", into: &retryDelaySeconds, min: 0)
        r.finish()
    }
}
