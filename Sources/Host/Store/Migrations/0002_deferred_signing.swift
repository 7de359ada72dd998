/// Deferred signing (a CA plugin answering PENDING, `ca_poll`): the handle to ask again
/// with and when, kept on the order while it is processing (RFC 8555 §7.4: the order
/// stays "processing" until the certificate is issued).
enum Migration0002 {
    static let deferredSigning = Migration(version: 2, name: "deferred_signing", sql: sql)

    private static let sql = #"""
        ALTER TABLE orders ADD COLUMN ca_pending_handle text;
        ALTER TABLE orders ADD COLUMN ca_poll_at timestamptz;
        -- when the CA first deferred (ca.deferred_signing_timeout counts from here)
        ALTER TABLE orders ADD COLUMN ca_pending_since timestamptz;
        CREATE INDEX orders_ca_poll_idx ON orders (ca_poll_at) WHERE ca_pending_handle IS NOT NULL;
        """#
}
