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

/// The revocation statements on the `certificates` table. Certificates are written at
/// finalize with `fingerprint` = SHA-256 hex of the DER certificate and
/// `public_key_fingerprint` = SHA-256 hex of its DER SubjectPublicKeyInfo.
extension BatchStatement {
    /// The certificate with this fingerprint (no row when this server did not issue it).
    static func revocableCertificate(fingerprint: String) -> BatchStatement {
        BatchStatement(
            """
            SELECT id, account_id, serial, fingerprint, public_key_fingerprint, not_after, revoked_at, revocation_reason,
                   ca_backend
            FROM certificates WHERE fingerprint = $1
            """, [.string(fingerprint.lowercased())])
    }

    /// RFC 8555 §7.6: one row, `holds` = whether the account holds a valid, unexpired
    /// authorization for every identifier (a `*.` name needs one for its base name).
    static func holdsValidAuthorizations(accountID: UUID, identifiers: [Identifier]) -> BatchStatement {
        let values = identifiers.map { identifier in
            let value = identifier.value.lowercased()
            return identifier.type == "dns" && value.hasPrefix("*.") ? String(value.dropFirst(2)) : value
        }
        return BatchStatement(
            """
            SELECT cardinality($2::text[]) > 0 AND COALESCE(bool_and(EXISTS (
                SELECT 1 FROM authorizations a
                WHERE a.account_id = $1 AND a.identifier_type = i.type AND a.identifier_value = i.value
                  AND a.status = 'valid' AND a.expires > now())), false) AS holds
            FROM unnest($2::text[], $3::text[]) AS i(type, value)
            """, [.uuid(accountID), .textArray(identifiers.map(\.type)), .textArray(values)])
    }

    /// Records the revocation and, in the same statement, queues it for the CA backend
    /// (`revocation_outbox`, leased for `leaseSeconds` to the caller, who tries the backend
    /// first); no row when the certificate was already revoked (a concurrent request won).
    static func markCertificateRevoked(_ id: UUID, reason: Int?, leaseSeconds: Int) -> BatchStatement {
        BatchStatement(
            """
            WITH revoked AS (
                UPDATE certificates SET revoked_at = now(), revocation_reason = $2
                WHERE id = $1 AND revoked_at IS NULL RETURNING id),
            queued AS (
                INSERT INTO revocation_outbox (certificate_id, next_at)
                SELECT id, now() + make_interval(secs => $3) FROM revoked RETURNING certificate_id)
            SELECT certificate_id AS id FROM queued
            """,
            [.uuid(id), reason.map { .int($0) }, .int(leaseSeconds)])
    }
}

extension BatchStatementResult {
    var revocableCertificates: [RevocableCertificate] {
        get throws {
            try rows.map { row in
                RevocableCertificate(
                    id: try row.uuid("id"), accountID: try row.uuid("account_id"), serial: try row.string("serial"),
                    fingerprint: try row.string("fingerprint"), publicKeyFingerprint: try row.string("public_key_fingerprint"),
                    notAfter: try row.date("not_after"), revokedAt: try row.dateIfPresent("revoked_at"),
                    revocationReason: try row.intIfPresent("revocation_reason"), caBackend: try row.string("ca_backend"))
            }
        }
    }
}
