import Foundation

/// A deferred signing whose poll is due (`claimDueSigningPolls`).
struct DueSigningPoll: Sendable {
    let orderID: UUID
    /// The `ca.backend`/`ca.failover` name that deferred; nil = the primary (older rows).
    let backend: String?
    let handle: String
    /// When the CA first deferred.
    let since: Date
}

/// The `orders` and `order_authorizations` tables (RFC 8555 §7.1.3, §7.4).
extension Connection {
    static let orderColumns = """
        o.id, o.account_id, o.status, o.identifiers::text AS identifiers, o.expires, o.not_before, o.not_after,
        o.profile, o.replaces, o.error::text AS error, o.certificate_id, o.updated_at,
        COALESCE((SELECT array_agg(oa.authorization_id::text ORDER BY oa.position)
                  FROM order_authorizations oa WHERE oa.order_id = o.id), '{}') AS authorization_ids
        """

    func order(id: UUID) throws -> Order? {
        try query(.order(id: id)).first.map(Self.order)
    }

    /// Compare-and-set of an order's status; false when it was not in one of `from`.
    @discardableResult
    func setOrderStatus(_ id: UUID, to status: Order.Status, from: [Order.Status], error: String? = nil) throws -> Bool {
        try execute(
            """
            UPDATE orders SET status = $2, error = COALESCE($3, error)
            WHERE id = $1 AND status = ANY($4)
            """, [.uuid(id), .string(status.rawValue), error.map { .jsonb($0) },
                  .textArray(from.map(\.rawValue))]) == 1
    }

    /// Orders using an authorization that failed or was deactivated become invalid.
    /// Deferred signing: remembers the CA backend that deferred, its handle and when to poll it.
    func setOrderPendingSigning(_ id: UUID, backend: String, handle: String, pollAt: Date) throws {
        try execute(
            """
            UPDATE orders SET ca_pending_backend = $2, ca_pending_handle = $3, ca_poll_at = $4,
                              ca_pending_since = COALESCE(ca_pending_since, now())
            WHERE id = $1 AND status = 'processing'
            """,
                    [.uuid(id), .string(backend), .string(handle), .date(pollAt)])
    }

    /// Processing orders whose CA poll is due, leased for `leaseSeconds` (`FOR UPDATE SKIP
    /// LOCKED`: several instances share them).
    func claimDueSigningPolls(limit: Int, leaseSeconds: Int) throws -> [DueSigningPoll] {
        try query(
            """
            UPDATE orders o SET ca_poll_at = now() + make_interval(secs => $2)
            WHERE o.id IN (SELECT id FROM orders
                           WHERE status = 'processing' AND ca_pending_handle IS NOT NULL AND ca_poll_at <= now()
                           ORDER BY ca_poll_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING o.id, o.ca_pending_backend, o.ca_pending_handle, o.ca_pending_since
            """, [.int(limit), .int(leaseSeconds)]).map {
            DueSigningPoll(orderID: try $0.uuid("id"), backend: try $0.stringIfPresent("ca_pending_backend"),
                           handle: try $0.string("ca_pending_handle"), since: try $0.date("ca_pending_since"))
        }
    }

    /// RFC 9773 §5: an order, not invalid, that already replaces this certID.
    func orderReplacing(_ certID: String) throws -> UUID? {
        try queryFirst("SELECT id FROM orders WHERE replaces = $1 AND status <> 'invalid' LIMIT 1",
                       [.string(certID)]).map { try $0.uuid("id") }
    }

    static func order(_ row: Row) throws -> Order {
        let identifiers = try JSONDecoder().decode([Identifier].self, from: Data(try row.json("identifiers").utf8))
        return Order(
            id: try row.uuid("id"), accountID: try row.uuid("account_id"),
            status: Order.Status(rawValue: try row.string("status")) ?? .invalid,
            identifiers: identifiers, expires: try row.date("expires"),
            notBefore: try row.dateIfPresent("not_before"), notAfter: try row.dateIfPresent("not_after"),
            profile: try row.stringIfPresent("profile"), replaces: try row.stringIfPresent("replaces"),
            errorJSON: try row.jsonIfPresent("error"), certificateID: try row.uuidIfPresent("certificate_id"),
            authorizationIDs: try row.stringArray("authorization_ids").compactMap(UUID.init(uuidString:)),
            updatedAt: try row.date("updated_at"))
    }
}

/// The `orders` statements that steps send in batches.
extension BatchStatement {
    static func order(id: UUID) -> BatchStatement {
        BatchStatement("SELECT \(Connection.orderColumns) FROM orders o WHERE o.id = $1", [.uuid(id)])
    }

    /// newOrder dedup: an unexpired pending or ready order of the account for the same identifiers.
    static func openOrder(accountID: UUID, identifiersHash: String) -> BatchStatement {
        BatchStatement(
            """
            SELECT \(Connection.orderColumns) FROM orders o
            WHERE o.account_id = $1 AND o.identifiers_hash = $2 AND o.status IN ('pending', 'ready')
              AND o.expires > now()
            ORDER BY o.created_at DESC LIMIT 1
            """, [.uuid(accountID), .string(identifiersHash)])
    }

    static func insertOrder(id: UUID, accountID: UUID, identifiers: [Identifier], identifiersHash: String,
                            status: Order.Status, expires: Date, notBefore: Date?, notAfter: Date?, profile: String?,
                            replaces: String?) -> BatchStatement {
        let json = String(decoding: (try? JSONEncoder().encode(identifiers)) ?? Data("[]".utf8), as: UTF8.self)
        return BatchStatement(
            """
            INSERT INTO orders (id, account_id, status, identifiers, identifiers_hash, expires, not_before, not_after,
                                profile, replaces)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """,
            [.uuid(id), .uuid(accountID), .string(status.rawValue), .jsonb(json), .string(identifiersHash),
             .date(expires), notBefore.map { .date($0) }, notAfter.map { .date($0) }, profile.map { .string($0) },
             replaces.map { .string($0) }])
    }

    static func linkOrder(_ orderID: UUID, authorization authorizationID: UUID, position: Int) -> BatchStatement {
        BatchStatement("INSERT INTO order_authorizations (order_id, authorization_id, position) VALUES ($1, $2, $3)",
                       [.uuid(orderID), .uuid(authorizationID), .int(position)])
    }

    /// ready → processing for the account that owns the order, while it is unexpired and
    /// its identifiers hash to `identifiersHash`; and the next serial of
    /// `certificate_serial_seq` (lowercase hex) when `drawSerial`. One row with `claimed`
    /// (0 or 1) and `serial`.
    static func claimOrderForSigning(_ id: UUID, accountID: UUID, identifiersHash: String,
                                     drawSerial: Bool) -> BatchStatement {
        BatchStatement(
            """
            WITH claimed AS (
                UPDATE orders SET status = 'processing'
                WHERE id = $1 AND account_id = $2 AND status = 'ready' AND identifiers_hash = $3 AND expires > now()
                RETURNING id)
            SELECT (SELECT count(*) FROM claimed) AS claimed,
                   CASE WHEN $4 AND EXISTS (SELECT 1 FROM claimed)
                        THEN to_hex(nextval('certificate_serial_seq')) END AS serial
            """, [.uuid(id), .uuid(accountID), .string(identifiersHash), .bool(drawSerial)])
    }

    /// processing → valid with its certificate; the batch aborts when the order left processing.
    static func setOrderCertificate(_ id: UUID, certificateID: UUID) -> BatchStatement {
        .exactlyOneRow(
            "order-processing",
            """
            UPDATE orders SET status = 'valid', certificate_id = $2, ca_pending_handle = NULL, ca_poll_at = NULL
            WHERE id = $1 AND status = 'processing' RETURNING id
            """, [.uuid(id), .uuid(certificateID)])
    }

    /// RFC 8555 §7.1.6: pending orders whose authorizations are now all valid become ready.
    static func readyOrders(usingAuthorization authorizationID: UUID) -> BatchStatement {
        BatchStatement(
            """
            UPDATE orders o SET status = 'ready'
            WHERE o.status = 'pending'
              AND o.id IN (SELECT order_id FROM order_authorizations WHERE authorization_id = $1)
              AND NOT EXISTS (SELECT 1 FROM order_authorizations oa JOIN authorizations a ON a.id = oa.authorization_id
                              WHERE oa.order_id = o.id AND a.status <> 'valid')
            """, [.uuid(authorizationID)])
    }

    /// Orders using an authorization that failed or was deactivated become invalid.
    static func invalidateOrders(usingAuthorization authorizationID: UUID, statuses: [Order.Status],
                                 error: String) -> BatchStatement {
        BatchStatement(
            """
            UPDATE orders SET status = 'invalid', error = $2
            WHERE status = ANY($3)
              AND id IN (SELECT order_id FROM order_authorizations WHERE authorization_id = $1)
            """, [.uuid(authorizationID), .jsonb(error), .textArray(statuses.map(\.rawValue))])
    }
}
