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

/// The `accounts` statements that steps send in batches.
extension BatchStatement {
    static func account(id: UUID) -> BatchStatement {
        BatchStatement("SELECT \(Connection.accountColumns) FROM accounts a WHERE a.id = $1", [.uuid(id)])
    }

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
