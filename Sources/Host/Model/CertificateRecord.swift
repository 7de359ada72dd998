import Foundation

/// An issued certificate as the admin API and `acmeeh inspect` show it: its identity,
/// validity and revocation, without the PEM chain.
struct CertificateRecord: Sendable, Equatable {
    /// Where a certificate stands at a moment: revoked wins over expired.
    enum Status: String, Sendable, CaseIterable {
        /// Not revoked and `not_after` still ahead.
        case active
        case revoked
        /// Not revoked, `not_after` passed.
        case expired
    }

    var id: UUID
    var accountID: UUID
    /// nil once its order was deleted (retention).
    var orderID: UUID?
    /// Lowercase hex without leading zeros, as stored in `certificates.serial`.
    var serial: String
    /// SHA-256 hex of the leaf's DER.
    var fingerprint: String
    var notBefore: Date
    var notAfter: Date
    var revokedAt: Date?
    /// RFC 5280 §5.3.1 CRLReason code; nil when revoked without one (or not revoked).
    var revocationReason: Int?
    /// The DNS names and IP addresses of its subjectAltName.
    var sanValues: [String]
    /// The CA backend that issued it (`ca.backend` or a `ca.failover` name).
    var caBackend: String
    /// When acmeeh recorded it: the issue time.
    var createdAt: Date
    /// Its position in an admin list.
    var pageCursor: PageCursor

    func status(at now: Date = Date()) -> Status {
        if revokedAt != nil { return .revoked }
        return notAfter > now ? .active : .expired
    }

    /// A serial number as an operator writes it (hex, any case, optional `:` separators and
    /// leading zeros) in its stored form; nil when it is not hex.
    static func normalizedSerial(_ text: String) -> String? {
        let hex = text.lowercased().replacingOccurrences(of: ":", with: "")
        guard !hex.isEmpty, hex.allSatisfy({ $0.isHexDigit && $0.isASCII }) else { return nil }
        let trimmed = hex.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }
}
