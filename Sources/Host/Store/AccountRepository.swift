import Foundation

/// The `accounts` and `account_contacts` tables.
extension Connection {
    private static let accountColumns = """
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
        guard let row = try queryFirst(
            """
            INSERT INTO accounts (jwk, jwk_thumbprint, tos_agreed, eab_kid) VALUES ($1, $2, $3, $4)
            RETURNING id
            """, [.jsonb(jwk), .string(thumbprint), .bool(termsOfServiceAgreed), eabKID.map { .string($0) }])
        else { throw StoreError(.decoding, "INSERT INTO accounts returned no row") }
        let id = try row.uuid("id")
        try replaceContacts(accountID: id, contacts)
        guard let account = try account(id: id) else { throw StoreError(.decoding, "account \(id) vanished") }
        return account
    }

    func replaceContacts(accountID: UUID, _ contacts: [String]) throws {
        try execute("DELETE FROM account_contacts WHERE account_id = $1", [.uuid(accountID)])
        for uri in contacts {
            try execute("INSERT INTO account_contacts (account_id, uri) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        [.uuid(accountID), .string(uri)])
        }
    }

    func setAccountStatus(_ id: UUID, _ status: Account.Status) throws {
        try execute("UPDATE accounts SET status = $2 WHERE id = $1", [.uuid(id), .string(status.rawValue)])
    }

    func setAccountKey(_ id: UUID, jwk: String, thumbprint: String) throws {
        try execute("UPDATE accounts SET jwk = $2, jwk_thumbprint = $3 WHERE id = $1",
                    [.uuid(id), .jsonb(jwk), .string(thumbprint)])
    }

    private static func account(_ row: Row) throws -> Account {
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
