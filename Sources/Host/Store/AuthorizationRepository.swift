import Foundation

/// The `authorizations` table (RFC 8555 §7.1.4, §7.5).
extension Connection {
    static let authorizationColumns =
        "a.id, a.account_id, a.identifier_type, a.identifier_value, a.wildcard, a.status, a.expires"

    func authorization(id: UUID) throws -> Authorization? {
        try query(.authorization(id: id)).first.map(Self.authorization)
    }

    /// RFC 8555 §7.1.6: pending authorizations past their expiry become expired, and the
    /// open orders past theirs (or relying on an expired authorization) invalid.
    /// Returns (authorizations expired, orders invalidated).
    @discardableResult
    func expireStaleAuthorizationsAndOrders(orderError: String) throws -> (Int, Int) {
        let authorizations = try execute(
            "UPDATE authorizations SET status = 'expired' WHERE status = 'pending' AND expires < now()")
        let orders = try execute(
            """
            UPDATE orders o SET status = 'invalid', error = $1
            WHERE o.status IN ('pending', 'ready')
              AND (o.expires < now()
                   OR EXISTS (SELECT 1 FROM order_authorizations oa JOIN authorizations a ON a.id = oa.authorization_id
                              WHERE oa.order_id = o.id AND a.status = 'expired'))
            """, [.jsonb(orderError)])
        return (authorizations, orders)
    }

    static func authorization(_ row: Row) throws -> Authorization {
        Authorization(
            id: try row.uuid("id"), accountID: try row.uuid("account_id"),
            identifier: Identifier(type: try row.string("identifier_type"), value: try row.string("identifier_value")),
            wildcard: try row.bool("wildcard"),
            status: Authorization.Status(rawValue: try row.string("status")) ?? .invalid,
            expires: try row.date("expires"))
    }
}

/// The `authorizations` statements that steps send in batches.
extension BatchStatement {
    static func authorization(id: UUID) -> BatchStatement {
        BatchStatement("SELECT \(Connection.authorizationColumns) FROM authorizations a WHERE a.id = $1", [.uuid(id)])
    }

    /// A valid, unexpired authorization of the account for exactly this identifier and
    /// wildcard flag (a non-wildcard one never stands in for a wildcard).
    static func reusableAuthorization(accountID: UUID, identifier: Identifier, wildcard: Bool,
                                      validUntil: Date) -> BatchStatement {
        BatchStatement(
            """
            SELECT \(Connection.authorizationColumns) FROM authorizations a
            WHERE a.account_id = $1 AND a.identifier_type = $2 AND a.identifier_value = $3 AND a.wildcard = $4
              AND a.status = 'valid' AND a.expires > $5
            ORDER BY a.expires DESC LIMIT 1
            """, [.uuid(accountID), .string(identifier.type), .string(identifier.value), .bool(wildcard),
                  .date(validUntil)])
    }

    /// Aborts the batch unless every one of `ids` is still valid and unexpired (reused authorizations).
    static func authorizationsStillValid(_ ids: [UUID]) -> BatchStatement {
        .isTrue("reused-authorizations-valid",
                "SELECT count(*) = $2 FROM authorizations WHERE id = ANY($1::uuid[]) AND status = 'valid' AND expires > now()",
                [.textArray(ids.map { $0.uuidString.lowercased() }), .int(ids.count)])
    }

    static func insertAuthorization(id: UUID, accountID: UUID, identifier: Identifier, wildcard: Bool,
                                    status: Authorization.Status, expires: Date) -> BatchStatement {
        BatchStatement(
            """
            INSERT INTO authorizations (id, account_id, identifier_type, identifier_value, wildcard, status, expires)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """, [.uuid(id), .uuid(accountID), .string(identifier.type), .string(identifier.value), .bool(wildcard),
                  .string(status.rawValue), .date(expires)])
    }

    /// Compare-and-set of an authorization's status (affects 0 or 1 row).
    /// RFC 8555 §7.5.2 for the owner only: pending or valid → deactivated, and the pending
    /// and ready orders relying on it → invalid with `orderError`, in one statement.
    /// Returns the authorization's id when it changed, no row otherwise.
    static func deactivateAuthorization(_ id: UUID, ownedBy accountID: UUID, orderError: String) -> BatchStatement {
        BatchStatement(
            """
            WITH deactivated AS (
                UPDATE authorizations SET status = 'deactivated'
                WHERE id = $1 AND account_id = $2 AND status IN ('pending', 'valid')
                RETURNING id),
            invalidated AS (
                UPDATE orders SET status = 'invalid', error = $3
                WHERE status IN ('pending', 'ready')
                  AND id IN (SELECT order_id FROM order_authorizations
                             WHERE authorization_id IN (SELECT id FROM deactivated)))
            SELECT id FROM deactivated
            """, [.uuid(id), .uuid(accountID), .jsonb(orderError)])
    }

    static func setAuthorizationStatus(_ id: UUID, to status: Authorization.Status,
                                       from: [Authorization.Status]) -> BatchStatement {
        BatchStatement("UPDATE authorizations SET status = $2 WHERE id = $1 AND status = ANY($3)",
                       [.uuid(id), .string(status.rawValue), .textArray(from.map(\.rawValue))])
    }
}
