import Foundation

/// The `accounts` and `account_contacts` tables.
extension Connection {
    static let accountColumns = """
        a.id, a.jwk::text AS jwk, a.jwk_thumbprint, a.status, a.tos_agreed, a.eab_kid, a.created_at,
        COALESCE((SELECT array_agg(c.uri ORDER BY c.id) FROM account_contacts c WHERE c.account_id = a.id), '{}') AS contacts
        """

    func account(id: UUID) throws -> Account? {
        try queryFirst("SELECT \(Self.accountColumns) FROM accounts a WHERE a.id = $1", [.uuid(id)]).map(Self.account)
    }

    func account(thumbprint: String) throws -> Account? {
        try queryFirst("SELECT \(Self.accountColumns) FROM accounts a WHERE a.jwk_thumbprint = $1",
                       [.string(thumbprint)]).map(Self.account)
    }

    /// Inserts a new account with its contacts; a concurrent insert of the same key
    /// surfaces as a unique violation.
    func insertAccount(jwk: String, thumbprint: String, contacts: [String], termsOfServiceAgreed: Bool,
                       eabKID: String?) throws -> Account {
        guard let row = try query(.insertAccount(id: RandomBytes.uuid(), jwk: jwk, thumbprint: thumbprint, contacts: contacts,
                                                 termsOfServiceAgreed: termsOfServiceAgreed, eabKID: eabKID)).first
        else { throw StoreError(.decoding, "INSERT INTO accounts returned no row") }
        return try Self.account(row)
    }

    func replaceContacts(accountID: UUID, _ contacts: [String]) throws {
        try execute("DELETE FROM account_contacts WHERE account_id = $1", [.uuid(accountID)])
        try insertContacts(accountID: accountID, contacts)
    }

    private func insertContacts(accountID: UUID, _ contacts: [String]) throws {
        for uri in contacts {
            try execute("INSERT INTO account_contacts (account_id, uri) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        [.uuid(accountID), .string(uri)])
        }
    }

    static func account(_ row: Row) throws -> Account {
        Account(
            id: try row.uuid("id"),
            jwk: try row.string("jwk"),
            thumbprint: try row.string("jwk_thumbprint"),
            status: Account.Status(rawValue: try row.string("status")) ?? .revoked,
            contacts: try row.stringArray("contacts"),
            termsOfServiceAgreed: try row.bool("tos_agreed"),
            eabKID: try row.stringIfPresent("eab_kid"),
            createdAt: try row.date("created_at"))
    }
}

// MARK: - Account resource (RFC 8555 §7.3.2, §7.3.5, §7.3.6, §7.1.2.1)

extension Connection {
    /// RFC 8555 §7.3.3: the client agrees to the (current) terms of service.
    func setTermsOfServiceAgreed(_ id: UUID) throws {
        try execute("UPDATE accounts SET tos_agreed = true WHERE id = $1 AND NOT tos_agreed", [.uuid(id)])
    }

    /// RFC 8555 §7.3.6: deactivates a valid account and, in the same transaction, what it
    /// had in flight: its pending and valid authorizations become `deactivated`, its pending
    /// and ready orders `invalid` ("the server SHOULD cancel any pending operations").
    /// `orderError` is the problem document the ended orders carry. Returns false when the
    /// account was no longer valid.
    func deactivateAccount(_ id: UUID, orderError: String) throws -> Bool {
        try transaction { db in
            let changed = try db.execute(
                "UPDATE accounts SET status = 'deactivated' WHERE id = $1 AND status = 'valid'", [.uuid(id)])
            guard changed == 1 else { return false }
            try db.execute(
                """
                UPDATE authorizations SET status = 'deactivated'
                WHERE account_id = $1 AND status IN ('pending', 'valid')
                """, [.uuid(id)])
            try db.execute(
                """
                UPDATE orders SET status = 'invalid', error = $2::jsonb
                WHERE account_id = $1 AND status IN ('pending', 'ready')
                """, [.uuid(id), .string(orderError)])
            return true
        }
    }

    /// One page of an account's orders list (RFC 8555 §7.1.2.1), newest first: every order
    /// that is not invalid, and not a pending/ready one past its expiry ("SHOULD include
    /// pending orders and SHOULD NOT include orders that are invalid"). `after` is the last
    /// order of the previous page. Returns the ids and whether more follow.
    func accountOrders(accountID: UUID, after cursor: UUID?, limit: Int) throws -> (ids: [UUID], more: Bool) {
        let listed = """
            o.account_id = $1 AND o.status <> 'invalid'
            AND NOT (o.status IN ('pending', 'ready') AND o.expires <= now())
            """
        let rows: [Row]
        if let cursor {
            rows = try query(
                """
                SELECT o.id FROM orders o, orders c
                WHERE \(listed) AND c.id = $2 AND c.account_id = $1
                  AND (o.created_at < c.created_at OR (o.created_at = c.created_at AND o.id < c.id))
                ORDER BY o.created_at DESC, o.id DESC LIMIT $3
                """, [.uuid(accountID), .uuid(cursor), .int(limit + 1)])
        } else {
            rows = try query(
                "SELECT o.id FROM orders o WHERE \(listed) ORDER BY o.created_at DESC, o.id DESC LIMIT $2",
                [.uuid(accountID), .int(limit + 1)])
        }
        let ids = try rows.map { try $0.uuid("id") }
        return (Array(ids.prefix(limit)), ids.count > limit)
    }

    /// Whether `orderID` is one of the account's orders (a valid orders-list cursor).
    func accountOwnsOrder(accountID: UUID, orderID: UUID) throws -> Bool {
        try queryFirst("SELECT 1 FROM orders WHERE id = $1 AND account_id = $2",
                       [.uuid(orderID), .uuid(accountID)]) != nil
    }

    /// RFC 8555 §7.3.5: replaces the account key if it is still `oldThumbprint` (a
    /// concurrent key change loses). A key another account holds surfaces as a unique
    /// violation of `jwk_thumbprint`.
    func replaceAccountKey(_ id: UUID, oldThumbprint: String, jwk: String, thumbprint: String) throws -> Bool {
        try execute(
            "UPDATE accounts SET jwk = $3, jwk_thumbprint = $4 WHERE id = $1 AND jwk_thumbprint = $2 AND status = 'valid'",
            [.uuid(id), .string(oldThumbprint), .jsonb(jwk), .string(thumbprint)]) == 1
    }
}

/// The `accounts` statements that steps send in batches.
extension BatchStatement {
    static func account(thumbprint: String) -> BatchStatement {
        BatchStatement("SELECT \(Connection.accountColumns) FROM accounts a WHERE a.jwk_thumbprint = $1",
                       [.string(thumbprint)])
    }

    /// A new account with its contacts (listed once each, in order), returned as stored.
    /// A key another account holds is a unique violation of `jwk_thumbprint`, or, with
    /// `unlessKeyKnown`, no row.
    static func insertAccount(id: UUID, jwk: String, thumbprint: String, contacts: [String], termsOfServiceAgreed: Bool,
                              eabKID: String?, unlessKeyKnown: Bool = false) -> BatchStatement {
        let unique = contacts.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return BatchStatement(
            """
            WITH inserted AS (
                INSERT INTO accounts (id, jwk, jwk_thumbprint, tos_agreed, eab_kid) VALUES ($1, $2, $3, $4, $5)
                \(unlessKeyKnown ? "ON CONFLICT (jwk_thumbprint) DO NOTHING" : "")
                RETURNING id, jwk::text AS jwk, jwk_thumbprint, status, tos_agreed, eab_kid, created_at),
            contacts AS (
                INSERT INTO account_contacts (account_id, uri)
                SELECT inserted.id, uri FROM inserted, unnest($6::text[]) WITH ORDINALITY AS c(uri, position)
                ORDER BY position)
            SELECT inserted.*, $6::text[] AS contacts FROM inserted
            """, [.uuid(id), .jsonb(jwk), .string(thumbprint), .bool(termsOfServiceAgreed), eabKID.map { .string($0) },
                  .textArray(unique)])
    }

    /// Marks an external account binding credential used by `accountID`; the batch aborts
    /// (guard `eab-credential`) when it was revoked meanwhile, or used and not `reusable`.
    static func claimEABCredential(kid: String, accountID: UUID, reusable: Bool) -> BatchStatement {
        .exactlyOneRow(
            "eab-credential",
            """
            UPDATE eab_credentials SET used = true, used_at = now(), account_id = $2
            WHERE kid = $1 AND NOT revoked AND (NOT used OR $3) RETURNING kid
            """, [.string(kid), .uuid(accountID), .bool(reusable)])
    }
}

extension BatchStatementResult {
    var accounts: [Account] { get throws { try rows.map(Connection.account) } }
}
