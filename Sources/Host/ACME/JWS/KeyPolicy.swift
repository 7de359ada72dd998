/// Which account keys the server accepts (`security.min_rsa_key_size`,
/// `max_rsa_key_size`, `allowed_ec_curves`). A refused key is `badPublicKey`
/// (RFC 8555 §6.7: "The JWS was signed by a public key the server does not support").
struct KeyPolicy: Sendable, Equatable {
    var minRSAKeySize: Int = 2048
    var maxRSAKeySize: Int = 8192
    /// Curve names as in JWK `crv`: "P-256", "P-384", "P-521", and "Ed25519" for OKP keys.
    var allowedECCurves: Set<String> = ["P-256", "P-384"]

    init(minRSAKeySize: Int = 2048, maxRSAKeySize: Int = 8192, allowedECCurves: Set<String> = ["P-256", "P-384"]) {
        self.minRSAKeySize = minRSAKeySize
        self.maxRSAKeySize = maxRSAKeySize
        self.allowedECCurves = allowedECCurves
    }

    /// The policy the `security` section configures. The config has no Ed25519 switch, so
    /// Ed25519 keys are refused under it (as the reference, which has no EdDSA).
    init(_ security: SecurityConfig) {
        self.init(minRSAKeySize: security.minRSAKeySize, maxRSAKeySize: security.maxRSAKeySize,
                  allowedECCurves: Set(security.allowedECCurves.map(\.rawValue))
                      // EdDSA in allowed_algorithms admits Ed25519 account keys.
                      .union(security.allowedAlgorithms.contains(.edDSA) ? ["Ed25519"] : []))
    }

    func check(_ key: JWK) throws(Problem) {
        switch key.keyType {
        case .rsa(let bits, let exponent):
            guard bits >= minRSAKeySize, bits <= maxRSAKeySize else {
                throw Problem(.badPublicKey,
                              "RSA key of \(bits) bits; accepted sizes are \(minRSAKeySize) to \(maxRSAKeySize) bits")
            }
            // Exponent odd and at least 65537 (minimal big-endian, at most 8 bytes: see JWK).
            let e = exponent.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard e & 1 == 1, e >= 65537 else {
                throw Problem(.badPublicKey, "RSA public exponent must be odd and at least 65537")
            }
        case .ec(let curve):
            guard allowedECCurves.contains(curve.rawValue) else {
                throw Problem(.badPublicKey, "EC curve \(curve.rawValue) is not accepted; accepted: \(allowedECCurves.sorted().joined(separator: ", "))")
            }
        case .ed25519:
            guard allowedECCurves.contains("Ed25519") else {
                throw Problem(.badPublicKey, "Ed25519 keys are not accepted")
            }
        }
    }
}
