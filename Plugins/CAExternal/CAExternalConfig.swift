import PluginKit

/// `ca.external`: where the signing API lives and how to authenticate to it.
struct CAExternalConfig: StrictConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case sign_url, revoke_url, crl_url, auth_header, auth_value, ca_cert_path, client_cert_path, client_key_path
        case timeout_seconds, max_retries, retry_delay_seconds
    }
    /// POST {csr, profile, validity_days} → {certificate_chain}. Required.
    let signURL: String
    /// POST {serial_number, reason?}; nil = revocations are recorded by the host only.
    let revokeURL: String?
    /// POST {crl_number, this_update, next_update, hash_algorithm, revoked} → {crl: base64 DER};
    /// nil = this instance does not sign CRLs (`ca_sign_crl` answers UNSUPPORTED).
    let crlURL: String?
    /// Header carrying `auth_value` ("Authorization").
    let authHeader: String
    /// Secret credential; never logged nor put in error details.
    let authValue: String?
    /// PEM bundle to verify the API's TLS certificate (nil = system trust).
    let caCertPath: String?
    /// Client certificate and key for mutual TLS; both or neither.
    let clientCertPath: String?
    let clientKeyPath: String?
    /// Per-request timeout (30 s).
    let timeoutSeconds: Int
    /// Retries on HTTP ≥ 500 or network errors (0).
    let maxRetries: Int
    /// First retry delay, doubled each retry (1.0 s).
    let retryDelaySeconds: Double

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func optionalString(_ key: CodingKeys) throws -> String? {
            let value = try c.decodeIfPresent(String.self, forKey: key)
            return (value?.isEmpty ?? true) ? nil : value
        }
        guard let sign = try optionalString(.sign_url) else { throw ConfigValueError(CodingKeys.sign_url, "is required") }
        guard NetworkSyntax.isHTTPURL(sign) else {
            throw ConfigValueError(CodingKeys.sign_url, "\"\(sign)\" is not an http(s) URL")
        }
        signURL = sign
        revokeURL = try optionalString(.revoke_url)
        if let revokeURL, !NetworkSyntax.isHTTPURL(revokeURL) {
            throw ConfigValueError(CodingKeys.revoke_url, "\"\(revokeURL)\" is not an http(s) URL")
        }
        crlURL = try optionalString(.crl_url)
        if let crlURL, !NetworkSyntax.isHTTPURL(crlURL) {
            throw ConfigValueError(CodingKeys.crl_url, "\"\(crlURL)\" is not an http(s) URL")
        }
        authHeader = try c.decode(.auth_header, default: "Authorization")
        // RFC 9110 §5.1: a field name is a token.
        let tchar = Set("!#$%&'*+-.^_`|~".utf8)
        guard !authHeader.isEmpty, authHeader.utf8.allSatisfy({
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || tchar.contains($0)
        }) else {
            throw ConfigValueError(CodingKeys.auth_header, "\"\(authHeader)\" is not an HTTP header name")
        }
        authValue = try optionalString(.auth_value)
        if let authValue, authValue.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw ConfigValueError(CodingKeys.auth_value, "must not contain a line break")
        }
        caCertPath = try optionalString(.ca_cert_path)
        clientCertPath = try optionalString(.client_cert_path)
        clientKeyPath = try optionalString(.client_key_path)
        if (clientCertPath == nil) != (clientKeyPath == nil) {
            throw ConfigValueError(clientCertPath == nil ? CodingKeys.client_cert_path : CodingKeys.client_key_path,
                                   "is required when \(clientCertPath == nil ? "client_key_path" : "client_cert_path") is set")
        }
        timeoutSeconds = try c.decode(.timeout_seconds, default: 30, in: 1...3600)
        maxRetries = try c.decode(.max_retries, default: 0, in: 0...100)
        retryDelaySeconds = try c.decode(.retry_delay_seconds, default: 1.0, in: 0...3600)
    }
}
