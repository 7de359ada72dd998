import Foundation

/// The `nonces` table (RFC 8555 §6.5): live anti-replay nonces shared by every instance.
extension Connection {
    func insertNonce(_ value: String, expiresAt: Date) throws {
        try execute("INSERT INTO nonces (value, expires_at) VALUES ($1, $2)", [.string(value), .date(expiresAt)])
    }

    /// Consumes a nonce: true when it existed and had not expired (it is gone either way).
    func consumeNonce(_ value: String) throws -> Bool {
        let rows = try query(
            "DELETE FROM nonces WHERE value = $1 RETURNING expires_at > now() AS live", [.string(value)])
        return try rows.first?.bool("live") ?? false
    }

    /// Deletes expired nonces; returns how many.
    func deleteExpiredNonces() throws -> Int {
        try execute("DELETE FROM nonces WHERE expires_at <= now()")
    }
}
