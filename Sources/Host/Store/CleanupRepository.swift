import Foundation

/// Housekeeping statements of the cleanup worker.
extension Connection {
    /// Orders left `processing` by an interrupted synchronous issuance (a crash between
    /// the CA's answer and the commit) become invalid after `seconds`, with `error`; orders
    /// waiting on a deferring CA are the poller's. Returns their ids.
    func failStaleProcessingOrders(olderThan seconds: Int, error: String) throws -> [UUID] {
        try query(
            """
            UPDATE orders SET status = 'invalid', error = $2::jsonb
            WHERE status = 'processing' AND ca_pending_handle IS NULL
              AND updated_at < now() - make_interval(secs => $1::int)
            RETURNING id
            """, [.int(seconds), .jsonb(error)]
        ).map { try $0.uuid("id") }
    }
}
