import Foundation

/// The statements of the account resource's steps (RFC 8555 §7.3.2 update, §7.3.5 key
/// change, §7.3.6 deactivation, §7.1.2.1 orders list), sent in batches opened by the
/// request guard.
extension BatchStatement {
    /// The account's contacts become `contacts` (listed once each, in order): a delete and
    /// an insert, in this order.
    static func replaceContacts(accountID: UUID, _ contacts: [String]) -> [BatchStatement] {
        let unique = contacts.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return [
            BatchStatement("DELETE FROM account_contacts WHERE account_id = $1", [.uuid(accountID)]),
            BatchStatement(
                """
                INSERT INTO account_contacts (account_id, uri)
                SELECT $1, uri FROM unnest($2::text[]) WITH ORDINALITY AS c(uri, position) ORDER BY position
                """, [.uuid(accountID), .textArray(unique)]),
        ]
    }

    /// §7.3.3: the client agrees to the (current) terms of service.
    static func agreeToTerms(accountID: UUID) -> BatchStatement {
        BatchStatement("UPDATE accounts SET tos_agreed = true WHERE id = $1 AND NOT tos_agreed", [.uuid(accountID)])
    }

    /// §7.3.6: a valid account becomes deactivated (its id returned; no row when it was no
    /// longer valid), and what it had in flight ends: pending and valid authorizations
    /// become `deactivated`, pending and ready orders `invalid` with `orderError`.
    static func deactivateAccount(_ id: UUID, orderError: String) -> [BatchStatement] {
        [
            BatchStatement("UPDATE accounts SET status = 'deactivated' WHERE id = $1 AND status = 'valid' RETURNING id",
                           [.uuid(id)]),
            BatchStatement(
                "UPDATE authorizations SET status = 'deactivated' WHERE account_id = $1 AND status IN ('pending', 'valid')",
                [.uuid(id)]),
            BatchStatement(
                "UPDATE orders SET status = 'invalid', error = $2::jsonb WHERE account_id = $1 AND status IN ('pending', 'ready')",
                [.uuid(id), .string(orderError)]),
        ]
    }

    /// §7.3.5: the key of a valid account still at `oldThumbprint` becomes `jwk`, unless
    /// another account holds it (then no row); returns the account as stored. A concurrent
    /// holder that wins the race aborts the batch with `.accountKeyTaken`.
    static func replaceAccountKey(_ id: UUID, oldThumbprint: String, jwk: String, thumbprint: String) -> BatchStatement {
        BatchStatement(
            """
            UPDATE accounts a SET jwk = $3, jwk_thumbprint = $4
            WHERE a.id = $1 AND a.jwk_thumbprint = $2 AND a.status = 'valid'
              AND NOT EXISTS (SELECT 1 FROM accounts h WHERE h.jwk_thumbprint = $4)
            RETURNING \(Connection.accountColumns)
            """, [.uuid(id), .string(oldThumbprint), .jsonb(jwk), .string(thumbprint)], uniqueViolation: .accountKeyTaken)
    }

    /// One page of an account's orders list, newest first (`limit` + 1 ids, so the caller
    /// sees whether more follow): every order that is not invalid, and not a pending/ready
    /// one past its expiry ("SHOULD include pending orders and SHOULD NOT include orders
    /// that are invalid"). `after` is the last order of the previous page; an order that
    /// is not the account's lists nothing.
    static func accountOrders(accountID: UUID, after cursor: UUID?, limit: Int) -> BatchStatement {
        let listed = """
            o.account_id = $1 AND o.status <> 'invalid'
            AND NOT (o.status IN ('pending', 'ready') AND o.expires <= now())
            """
        guard let cursor else {
            return BatchStatement(
                "SELECT o.id FROM orders o WHERE \(listed) ORDER BY o.created_at DESC, o.id DESC LIMIT $2",
                [.uuid(accountID), .int(limit + 1)])
        }
        return BatchStatement(
            """
            SELECT o.id FROM orders o, orders c
            WHERE \(listed) AND c.id = $2 AND c.account_id = $1
              AND (o.created_at < c.created_at OR (o.created_at = c.created_at AND o.id < c.id))
            ORDER BY o.created_at DESC, o.id DESC LIMIT $3
            """, [.uuid(accountID), .uuid(cursor), .int(limit + 1)])
    }

    /// One row when `orderID` is one of the account's orders (a valid orders-list cursor).
    static func accountOwnsOrder(accountID: UUID, orderID: UUID) -> BatchStatement {
        BatchStatement("SELECT 1 AS owned FROM orders WHERE id = $1 AND account_id = $2", [.uuid(orderID), .uuid(accountID)])
    }
}
