import Foundation

/// The `nonces` table (RFC 8555 §6.5): nonces already redeemed, kept until they expire so
/// that no instance accepts one twice (recorded by `BatchStatement.recordNonce` and the
/// request guard); and the MAC key every instance signs nonces with.
extension Connection {
    /// Deletes records of nonces that have expired anyway; returns how many.
    func deleteExpiredNonces() throws -> Int {
        try execute("DELETE FROM nonces WHERE expires_at <= now()")
    }

    /// The cluster-wide nonce MAC key (hex in `server_settings`), created by the first
    /// instance that asks; every later caller gets the same key.
    func nonceKey(creatingWith candidate: [UInt8]) throws -> [UInt8] {
        let hex = candidate.map { String(format: "%02x", $0) }.joined()
        let row = try queryFirst(
            """
            WITH created AS (
                INSERT INTO server_settings (key, value) VALUES ('nonce_mac_key', to_jsonb($1::text))
                ON CONFLICT (key) DO NOTHING RETURNING value)
            SELECT value #>> '{}' AS hex FROM created
            UNION ALL SELECT value #>> '{}' FROM server_settings WHERE key = 'nonce_mac_key'
            LIMIT 1
            """, [.string(hex)])
        guard let stored = try row?.string("hex"), let key = Self.bytes(hex: stored), key.count >= 32 else {
            throw StoreError(.decoding, "server_settings.nonce_mac_key is missing or not 32+ bytes of hex")
        }
        return key
    }

    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}
