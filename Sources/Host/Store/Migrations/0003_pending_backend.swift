/// Deferred signing with `ca.failover`: which backend answered PENDING, so the poller
/// asks that backend (its handle means nothing to the others) and the certificate
/// records it in `certificates.ca_backend`. NULL (rows from before) = the primary.
enum Migration0003 {
    static let pendingBackend = Migration(version: 3, name: "pending_backend", sql: sql)

    private static let sql = #"""
        ALTER TABLE orders ADD COLUMN ca_pending_backend text;
        """#
}
