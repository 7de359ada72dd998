import Foundation

/// The filters of the admin certificate list; every one set must hold (AND), none set
/// lists every certificate.
struct CertificateSearch: Sendable, Equatable {
    var accountID: UUID? = nil
    /// Exact serial number (any form `CertificateRecord.normalizedSerial` accepts).
    var serial: String? = nil
    /// Any of these serial numbers (same forms); empty: no such filter.
    var serials: [String] = []
    /// Exact SHA-256 hex of the leaf's DER (any case).
    var fingerprint: String? = nil
    /// `active`, `revoked` or `expired`, judged at the database's `now()`.
    var status: CertificateRecord.Status? = nil
    /// A subjectAltName value the certificate holds exactly (a DNS name, any case, or an IP
    /// address); uses the GIN index on `san_values`.
    var domain: String? = nil
    /// `not_after` before this moment.
    var expiringBefore: Date? = nil
    /// Issued (`certificates.created_at`, when acmeeh recorded the signed certificate) at or
    /// after this moment. `not_before` is not used: the CA may backdate it, and an order may
    /// ask for one.
    var issuedAfter: Date? = nil
    /// Issued before this moment (same column).
    var issuedBefore: Date? = nil
}
