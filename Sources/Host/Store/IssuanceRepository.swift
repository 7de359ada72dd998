import Foundation

/// The `certificates` table as issuance, download and ARI use it (RFC 8555 §7.4.2,
/// RFC 9773), and `certificate_serial_seq`.
extension Connection {
    private static let issuedColumns =
        "id, account_id, order_id, serial, pem_chain, not_before, not_after, revoked_at"

    /// The next serial of `certificate_serial_seq`, lowercase hex (`serial_source: database`).
    func nextCertificateSerial() throws -> String {
        guard let row = try queryFirst("SELECT to_hex(nextval('certificate_serial_seq')) AS serial") else {
            throw StoreError(.decoding, "nextval returned no row")
        }
        let hex = try row.string("serial")
        // Whole bytes, as the CA plugin ABI expects.
        return hex.count % 2 == 1 ? "0" + hex : hex
    }

    func insertCertificate(accountID: UUID, orderID: UUID, serial: String, fingerprint: String, pemChain: String,
                           notBefore: Date, notAfter: Date, publicKeyFingerprint: String, sanValues: [String],
                           caBackend: String) throws -> UUID {
        guard let row = try queryFirst(
            """
            INSERT INTO certificates (account_id, order_id, serial, fingerprint, pem_chain, not_before, not_after,
                                      public_key_fingerprint, san_values, ca_backend)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id
            """, [.uuid(accountID), .uuid(orderID), .string(serial), .string(fingerprint), .string(pemChain),
                  .date(notBefore), .date(notAfter), .string(publicKeyFingerprint), .textArray(sanValues),
                  .string(caBackend)])
        else { throw StoreError(.decoding, "INSERT INTO certificates returned no row") }
        return try row.uuid("id")
    }

    func issuedCertificate(id: UUID) throws -> IssuedCertificate? {
        try queryFirst("SELECT \(Self.issuedColumns) FROM certificates WHERE id = $1", [.uuid(id)]).map(Self.issued)
    }

    func issuedCertificate(serial: String) throws -> IssuedCertificate? {
        try queryFirst("SELECT \(Self.issuedColumns) FROM certificates WHERE serial = $1",
                       [.string(serial)]).map(Self.issued)
    }

    private static func issued(_ row: Row) throws -> IssuedCertificate {
        IssuedCertificate(
            id: try row.uuid("id"), accountID: try row.uuid("account_id"), orderID: try row.uuidIfPresent("order_id"),
            serial: try row.string("serial"), pemChain: try row.string("pem_chain"),
            notBefore: try row.date("not_before"), notAfter: try row.date("not_after"),
            revokedAt: try row.dateIfPresent("revoked_at"))
    }
}
