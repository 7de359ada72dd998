import Foundation

/// The `eab_credentials` table (RFC 8555 §7.3.4).
extension Connection {
    private static let eabColumns = "id, kid, hmac_key, label, account_id, used, used_at, revoked, created_at, created_by"

    func eabCredential(kid: String) throws -> EABCredential? {
        try queryFirst("SELECT \(Self.eabColumns) FROM eab_credentials WHERE kid = $1", [.string(kid)])
            .map(Self.eabCredential)
    }

    func eabCredential(id: UUID) throws -> EABCredential? {
        try queryFirst("SELECT \(Self.eabColumns) FROM eab_credentials WHERE id = $1", [.uuid(id)]).map(Self.eabCredential)
    }

    /// Every credential, oldest first.
    func eabCredentials() throws -> [EABCredential] {
        try query("SELECT \(Self.eabColumns) FROM eab_credentials ORDER BY created_at, kid").map(Self.eabCredential)
    }

    /// Stores a new credential; a duplicate `kid` surfaces as a unique violation.
    func insertEABCredential(kid: String, hmacKey: [UInt8], label: String?, createdBy: UUID? = nil) throws -> EABCredential {
        guard let row = try queryFirst(
            "INSERT INTO eab_credentials (kid, hmac_key, label, created_by) VALUES ($1, $2, $3, $4) RETURNING \(Self.eabColumns)",
            [.string(kid), .bytea(hmacKey), label.map { .string($0) }, createdBy.map { .uuid($0) }])
        else { throw StoreError(.decoding, "INSERT INTO eab_credentials returned no row") }
        return try Self.eabCredential(row)
    }

    private static func eabCredential(_ row: Row) throws -> EABCredential {
        EABCredential(
            id: try row.uuid("id"), kid: try row.string("kid"), hmacKey: try row.bytes("hmac_key"),
            label: try row.stringIfPresent("label"), accountID: try row.uuidIfPresent("account_id"),
            used: try row.bool("used"), usedAt: try row.dateIfPresent("used_at"),
            revoked: try row.bool("revoked"), createdAt: try row.date("created_at"),
            createdBy: try row.uuidIfPresent("created_by"))
    }
}
