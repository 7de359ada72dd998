/// The CRLReason codes a client may give in revokeCert (RFC 8555 §7.6, RFC 5280 §5.3.1):
/// 0–6 and 8–10; 7 is unassigned.
enum RevocationReason {
    static let allowed: Set<Int> = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10]

    static func check(_ reason: Int?) throws(Problem) -> Int? {
        guard let reason else { return nil }
        guard allowed.contains(reason) else {
            throw Problem(.badRevocationReason,
                          "revocation reason \(reason) is not allowed; allowed: 0-6, 8-10 (RFC 5280 §5.3.1)")
        }
        return reason
    }

    /// RFC 5280 §5.3.1's name of a code; `unspecified` when none was given.
    static func name(_ reason: Int?) -> String {
        switch reason ?? 0 {
        case 0: "unspecified"
        case 1: "keyCompromise"
        case 2: "cACompromise"
        case 3: "affiliationChanged"
        case 4: "superseded"
        case 5: "cessationOfOperation"
        case 6: "certificateHold"
        case 8: "removeFromCRL"
        case 9: "privilegeWithdrawn"
        case 10: "aACompromise"
        default: "unknown"
        }
    }
}

extension CertificateRecord {
    /// RFC 5280 §5.3.1's name of its revocation reason (`unspecified` when revoked without
    /// one); nil while not revoked.
    var revocationReasonName: String? { revokedAt == nil ? nil : RevocationReason.name(revocationReason) }
}
