import Foundation

/// The `certificates` table as issuance, download and ARI use it (RFC 8555 §7.4.2,
/// RFC 9773), and `certificate_serial_seq`.
extension Connection {
    static let issuedColumns =
        "id, account_id, order_id, serial, pem_chain, not_before, not_after, revoked_at"

    func issuedCertificate(id: UUID) throws -> IssuedCertificate? {
        try query(.issuedCertificate(id: id)).first.map(Self.issued)
    }

    func issuedCertificate(serial: String) throws -> IssuedCertificate? {
        try queryFirst("SELECT \(Self.issuedColumns) FROM certificates WHERE serial = $1",
                       [.string(serial)]).map(Self.issued)
    }

    static func issued(_ row: Row) throws -> IssuedCertificate {
        IssuedCertificate(
            id: try row.uuid("id"), accountID: try row.uuid("account_id"), orderID: try row.uuidIfPresent("order_id"),
            serial: try row.string("serial"), pemChain: try row.string("pem_chain"),
            notBefore: try row.date("not_before"), notAfter: try row.date("not_after"),
            revokedAt: try row.dateIfPresent("revoked_at"))
    }
}

/// The `certificates` statements that steps send in batches.
extension BatchStatement {
    static func issuedCertificate(id: UUID) -> BatchStatement {
        BatchStatement("SELECT \(Connection.issuedColumns) FROM certificates WHERE id = $1", [.uuid(id)])
    }

    static func insertCertificate(id: UUID, accountID: UUID, orderID: UUID, serial: String, fingerprint: String,
                                  pemChain: String, notBefore: Date, notAfter: Date, publicKeyFingerprint: String,
                                  sanValues: [String], caBackend: String) -> BatchStatement {
        BatchStatement(
            """
            INSERT INTO certificates (id, account_id, order_id, serial, fingerprint, pem_chain, not_before, not_after,
                                      public_key_fingerprint, san_values, ca_backend)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """, [.uuid(id), .uuid(accountID), .uuid(orderID), .string(serial), .string(fingerprint), .string(pemChain),
                  .date(notBefore), .date(notAfter), .string(publicKeyFingerprint), .textArray(sanValues),
                  .string(caBackend)])
    }
}
