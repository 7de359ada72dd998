import Foundation

/// The `nonces` table's part in pipelined batches (RFC 8555 §6.5).
extension BatchStatement {
    /// Records `value` as redeemed, with no ON CONFLICT: a nonce already redeemed (by any
    /// instance) hits the primary key and aborts the whole batch, nothing committed, with
    /// `StoreError(.nonceReplayed)`, which the ACME layer answers with `badNonce`
    /// (RFC 8555 §6.5: "the server MUST reject the request").
    static func recordNonce(_ value: String, expiresAt: Date) -> BatchStatement {
        BatchStatement(
            "INSERT INTO nonces (value, expires_at) VALUES ($1, $2)",
            [.string(value), .date(expiresAt)], uniqueViolation: .nonceReplayed)
    }
}
