import Foundation

/// What revokeCert (RFC 8555 §7.6) needs to know of an issued certificate.
struct RevocableCertificate: Sendable, Equatable {
    var id: UUID
    var accountID: UUID
    var serial: String
    /// SHA-256 hex of the leaf's DER.
    var fingerprint: String
    /// SHA-256 hex of the leaf's DER SubjectPublicKeyInfo.
    var publicKeyFingerprint: String
    var notAfter: Date
    var revokedAt: Date?
    var revocationReason: Int?
    /// The CA backend that issued it (`certificates.ca_backend`), where revocations go.
    var caBackend: String? = nil
}

/// Revocation lookups and updates on the `certificates` table. Certificates are written
/// at finalize (the orders code) with `fingerprint` = SHA-256 hex of the DER certificate
/// and `public_key_fingerprint` = SHA-256 hex of its DER SubjectPublicKeyInfo.
extension Connection {
    func certificateForRevocation(fingerprint: String) throws -> RevocableCertificate? {
        guard let row = try queryFirst(
            """
            SELECT id, account_id, serial, fingerprint, public_key_fingerprint, not_after, revoked_at, revocation_reason,
                   ca_backend
            FROM certificates WHERE fingerprint = $1
            """, [.string(fingerprint.lowercased())])
        else { return nil }
        return RevocableCertificate(
            id: try row.uuid("id"), accountID: try row.uuid("account_id"), serial: try row.string("serial"),
            fingerprint: try row.string("fingerprint"), publicKeyFingerprint: try row.string("public_key_fingerprint"),
            notAfter: try row.date("not_after"), revokedAt: try row.dateIfPresent("revoked_at"),
            revocationReason: try row.intIfPresent("revocation_reason"), caBackend: try row.string("ca_backend"))
    }

    /// Records the revocation; false when the certificate was already revoked (a
    /// concurrent request won).
    func markCertificateRevoked(_ id: UUID, reason: Int?) throws -> Bool {
        try execute(
            "UPDATE certificates SET revoked_at = now(), revocation_reason = $2 WHERE id = $1 AND revoked_at IS NULL",
            [.uuid(id), reason.map { .int($0) }]) == 1
    }

    /// RFC 8555 §7.6: whether the account holds a valid, unexpired authorization for every
    /// identifier (a `*.` name needs one for its base name).
    func accountHoldsValidAuthorizations(accountID: UUID, identifiers: [Identifier]) throws -> Bool {
        guard !identifiers.isEmpty else { return false }
        for identifier in identifiers {
            var value = identifier.value.lowercased()
            if identifier.type == "dns", value.hasPrefix("*.") { value.removeFirst(2) }
            let found = try queryFirst(
                """
                SELECT 1 FROM authorizations
                WHERE account_id = $1 AND identifier_type = $2 AND identifier_value = $3
                  AND status = 'valid' AND expires > now()
                LIMIT 1
                """, [.uuid(accountID), .string(identifier.type), .string(value)])
            if found == nil { return false }
        }
        return true
    }
}
