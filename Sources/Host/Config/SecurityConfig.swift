/// The `security` section: accepted JWS algorithms and key sizes, CSR policy, HSTS,
/// request size, plus rate limits and the identifier policy.
struct SecurityConfig: Sendable, Equatable {
    /// JWS `alg` values an account key may use (RFC 8555 §6.2).
    enum Algorithm: String, Sendable, CaseIterable {
        case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
        case es256 = "ES256", es384 = "ES384", es512 = "ES512"
        /// Ed25519 (RFC 8037); not in the reference, allowed when listed.
        case edDSA = "EdDSA"
    }

    /// Elliptic curves an EC account key may use.
    enum Curve: String, Sendable, CaseIterable {
        case p256 = "P-256", p384 = "P-384", p521 = "P-521"
    }

    var allowedAlgorithms: [Algorithm] = [.es256, .rs256]
    var minRSAKeySize: Int = 2048
    var maxRSAKeySize: Int = 8192
    var allowedECCurves: [Curve] = [.p256, .p384]
    var maxRequestBodyBytes: Int = 65536
    var allowedCSRSignatureAlgorithms: [String] = [
        "SHA256withRSA", "SHA384withRSA", "SHA512withRSA",
        "SHA256withECDSA", "SHA384withECDSA", "SHA512withECDSA",
    ]
    var minCSRRSAKeySize: Int = 2048
    var minCSRECKeySize: Int = 256
    var hstsMaxAgeSeconds: Int = 63_072_000
    var requireCSRProfile: Bool = false
    var rateLimits = RateLimitsConfig()
    var identifierPolicy = IdentifierPolicyConfig()
}

extension SecurityConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("allowed_algorithms", into: &allowedAlgorithms, minCount: 1)
        r.read("min_rsa_key_size", into: &minRSAKeySize)  // < 2048 is a cross-field error
        r.read("max_rsa_key_size", into: &maxRSAKeySize, min: 2048, max: 16384)
        r.read("allowed_ec_curves", into: &allowedECCurves, minCount: 1)
        r.read("max_request_body_bytes", into: &maxRequestBodyBytes, min: 1024)
        r.read("allowed_csr_signature_algorithms", into: &allowedCSRSignatureAlgorithms, minCount: 1)
        r.read("min_csr_rsa_key_size", into: &minCSRRSAKeySize, min: 2048)
        r.read("min_csr_ec_key_size", into: &minCSRECKeySize, min: 224)
        r.read("hsts_max_age_seconds", into: &hstsMaxAgeSeconds, min: 0)
        r.read("require_csr_profile", into: &requireCSRProfile)
        rateLimits = RateLimitsConfig(reading: r.object("rate_limits"))
        identifierPolicy = IdentifierPolicyConfig(reading: r.object("identifier_policy"))
        r.finish()
    }
}
