/// A JWS `alg` (RFC 7518 §3.1, RFC 8037 §3.1) the server can verify. The HMAC ones are
/// only for external account binding (RFC 8555 §7.3.4); account keys sign with the rest.
enum JWSAlgorithm: String, Sendable, CaseIterable {
    case es256 = "ES256", es384 = "ES384", es512 = "ES512"
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
    case edDSA = "EdDSA"
    case hs256 = "HS256", hs384 = "HS384", hs512 = "HS512"

    /// A MAC algorithm (EAB only); RFC 8555 §6.2 forbids MACs on account requests.
    var isMAC: Bool {
        switch self {
        case .hs256, .hs384, .hs512: true
        default: false
        }
    }

    /// The digest; nil for EdDSA, which hashes internally.
    var hash: Digest.Hash? {
        switch self {
        case .es256, .rs256, .hs256: .sha256
        case .es384, .rs384, .hs384: .sha384
        case .es512, .rs512, .hs512: .sha512
        case .edDSA: nil
        }
    }

    /// The curve an ES* algorithm is defined on (RFC 7518 §3.4).
    var curve: JWK.Curve? {
        switch self {
        case .es256: .p256
        case .es384: .p384
        case .es512: .p521
        default: nil
        }
    }

    /// Parses an account-request `alg`: unknown, `none` and MAC algorithms are
    /// `badSignatureAlgorithm` (RFC 8555 §6.2).
    static func forAccountKey(_ name: String) throws(Problem) -> JWSAlgorithm {
        guard let alg = JWSAlgorithm(rawValue: name), !alg.isMAC else {
            throw Problem(.badSignatureAlgorithm, "unsupported JWS algorithm \"\(name)\"")
        }
        return alg
    }

    /// Refuses an algorithm the configuration does not allow (`security.allowed_algorithms`).
    func checkAllowed(_ allowed: some Collection<JWSAlgorithm>) throws(Problem) {
        guard allowed.contains(self) else {
            let list = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            throw Problem(.badSignatureAlgorithm, "JWS algorithm \(rawValue) is not accepted; accepted: \(list)")
        }
    }

    /// Whether `key` can verify this algorithm: ES256↔P-256, ES384↔P-384, ES512↔P-521,
    /// RS* ↔ RSA, EdDSA ↔ Ed25519. A mismatch is `badSignatureAlgorithm`: RFC 7518 §3.4
    /// defines ES256 as ECDSA *on P-256*, so ES256 with a P-384 key is an algorithm the
    /// server does not support for that key (RFC 8555 §6.2; Boulder and Pebble answer the same).
    func checkKey(_ key: JWK) throws(Problem) {
        let fits: Bool
        switch (self, key.keyType) {
        case (.es256, .ec(let c)), (.es384, .ec(let c)), (.es512, .ec(let c)): fits = c == curve
        case (.rs256, .rsa), (.rs384, .rsa), (.rs512, .rsa): fits = true
        case (.edDSA, .ed25519): fits = true
        default: fits = false
        }
        guard fits else {
            throw Problem(.badSignatureAlgorithm, "JWS algorithm \(rawValue) does not match the key (\(key.keyDescription))")
        }
    }
}

extension JWK {
    /// "EC P-256", "RSA 2048", "Ed25519": for messages.
    var keyDescription: String {
        switch keyType {
        case .ec(let curve): "EC \(curve.rawValue)"
        case .rsa(let bits, _): "RSA \(bits)"
        case .ed25519: "Ed25519"
        }
    }
}
