import Foundation

/// What an OCSP response says of one issued certificate (RFC 6960 §2.2).
struct CertificateRevocationState: Sendable, Equatable {
    /// Lowercase hex without leading zeros, as stored in `certificates.serial`.
    var serial: String
    var revokedAt: Date?
    /// RFC 5280 §5.3.1 CRLReason; nil when none was given.
    var reason: Int?
}

/// The certificate lookups of the OCSP responder.
extension Connection {
    /// The certificates of `backend` with these serials (lowercase hex without leading
    /// zeros); a serial this server never issued through `backend` has no entry.
    func revocationStates(serials: [String], backend: String) throws -> [CertificateRevocationState] {
        guard !serials.isEmpty else { return [] }
        return try query(
            "SELECT serial, revoked_at, revocation_reason FROM certificates WHERE serial = ANY($1::text[]) AND ca_backend = $2",
            [.textArray(serials), .string(backend)]
        ).map { row in
            CertificateRevocationState(serial: try row.string("serial"), revokedAt: try row.dateIfPresent("revoked_at"),
                                       reason: try row.intIfPresent("revocation_reason"))
        }
    }
}
