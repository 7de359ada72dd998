import Foundation

/// The identifier allowlist (`admin.allowed_identifiers`) and its links to accounts and
/// external account binding credentials. A duplicate (type, value) is a unique violation
/// (`StoreError.isUniqueViolation`, constraint `allowed_identifiers_identifier_type_identifier_value_key`).
extension Connection {
    private static func allowedColumns(accounts: Bool) -> String {
        """
        i.id, i.identifier_type, i.identifier_value, i.created_by, i.created_at, \(ListQuery.cursorColumn("i"))\(accounts ? """
            , ARRAY(SELECT l.account_id::text FROM admin.account_allowed_identifiers l
                    WHERE l.identifier_id = i.id ORDER BY l.account_id) AS account_ids
            """ : "")
        """
    }

    /// Stores a new entry (`type` is `dns` or `ip`; the value as Core normalised it).
    func insertAllowedIdentifier(_ identifier: Identifier, createdBy: UUID?) throws -> AllowedIdentifier {
        guard let row = try queryFirst(
            """
            WITH i AS (INSERT INTO admin.allowed_identifiers (identifier_type, identifier_value, created_by)
                       VALUES ($1, $2, $3) RETURNING *)
            SELECT \(Self.allowedColumns(accounts: false)) FROM i
            """, [.string(identifier.type), .string(identifier.value), createdBy.map { .uuid($0) }])
        else { throw StoreError(.decoding, "INSERT INTO admin.allowed_identifiers returned no row") }
        return try Self.allowedIdentifier(row, accounts: false)
    }

    func allowedIdentifier(id: UUID, withAccounts: Bool = false) throws -> AllowedIdentifier? {
        try queryFirst("SELECT \(Self.allowedColumns(accounts: withAccounts)) FROM admin.allowed_identifiers i WHERE i.id = $1",
                       [.uuid(id)]).map { try Self.allowedIdentifier($0, accounts: withAccounts) }
    }

    /// One page of the allowlist, oldest first.
    func allowedIdentifiers(page: PageRequest, withAccounts: Bool = false) throws -> [AllowedIdentifier] {
        var list = ListQuery()
        let tail = list.page(page, alias: "i", newestFirst: false)
        return try query("SELECT \(Self.allowedColumns(accounts: withAccounts)) FROM admin.allowed_identifiers i \(list.whereClause) \(tail)",
                         list.params).map { try Self.allowedIdentifier($0, accounts: withAccounts) }
    }

    /// Deletes the entry and its links; false when there was none.
    @discardableResult
    func deleteAllowedIdentifier(id: UUID) throws -> Bool {
        try execute("DELETE FROM admin.allowed_identifiers WHERE id = $1", [.uuid(id)]) == 1
    }

    /// Links the entry to the account (an operator's link: it survives re-binding). False
    /// when it was linked already; an unknown id on either side is a foreign-key violation.
    @discardableResult
    func linkAllowedIdentifier(_ id: UUID, accountID: UUID) throws -> Bool {
        try execute(
            """
            INSERT INTO admin.account_allowed_identifiers (account_id, identifier_id) VALUES ($1, $2)
            ON CONFLICT (account_id, identifier_id) DO UPDATE SET from_eab = false
            WHERE admin.account_allowed_identifiers.from_eab
            """, [.uuid(accountID), .uuid(id)]) == 1
    }

    /// False when it was not linked.
    @discardableResult
    func unlinkAllowedIdentifier(_ id: UUID, accountID: UUID) throws -> Bool {
        try execute("DELETE FROM admin.account_allowed_identifiers WHERE account_id = $1 AND identifier_id = $2",
                    [.uuid(accountID), .uuid(id)]) == 1
    }

    /// Links the entry to the credential (copied to accounts that register with it).
    @discardableResult
    func linkAllowedIdentifier(_ id: UUID, eabID: UUID) throws -> Bool {
        try execute("INSERT INTO admin.eab_allowed_identifiers (eab_id, identifier_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    [.uuid(eabID), .uuid(id)]) == 1
    }

    @discardableResult
    func unlinkAllowedIdentifier(_ id: UUID, eabID: UUID) throws -> Bool {
        try execute("DELETE FROM admin.eab_allowed_identifiers WHERE eab_id = $1 AND identifier_id = $2",
                    [.uuid(eabID), .uuid(id)]) == 1
    }

    /// The account's allowlist, oldest entry first.
    func allowedIdentifiers(accountID: UUID) throws -> [AllowedIdentifier] {
        try query(.accountAllowedIdentifiers(accountID: accountID)).map { try Self.allowedIdentifier($0, accounts: false) }
    }

    /// The credential's allowlist, oldest entry first.
    func allowedIdentifiers(eabID: UUID) throws -> [AllowedIdentifier] {
        try query(
            """
            SELECT \(Self.allowedColumns(accounts: false)) FROM admin.allowed_identifiers i
            JOIN admin.eab_allowed_identifiers l ON l.identifier_id = i.id
            WHERE l.eab_id = $1 ORDER BY i.created_at, i.id
            """, [.uuid(eabID)]).map { try Self.allowedIdentifier($0, accounts: false) }
    }

    static func allowedIdentifier(_ row: Row, accounts: Bool) throws -> AllowedIdentifier {
        AllowedIdentifier(
            id: try row.uuid("id"),
            identifier: Identifier(type: try row.string("identifier_type"), value: try row.string("identifier_value")),
            createdBy: try row.uuidIfPresent("created_by"), createdAt: try row.date("created_at"),
            pageCursor: try row.pageCursor(),
            accountIDs: accounts ? try row.stringArray("account_ids").compactMap(UUID.init(uuidString:)) : nil)
    }
}

/// The allowlist read that newOrder and newAuthz add to their batch.
extension BatchStatement {
    /// The account's allowlist entries (columns of `Connection.allowedIdentifier`).
    static func accountAllowedIdentifiers(accountID: UUID) -> BatchStatement {
        BatchStatement(
            """
            SELECT i.id, i.identifier_type, i.identifier_value, i.created_by, i.created_at, \(ListQuery.cursorColumn("i"))
            FROM admin.allowed_identifiers i JOIN admin.account_allowed_identifiers l ON l.identifier_id = i.id
            WHERE l.account_id = $1 ORDER BY i.created_at, i.id
            """, [.uuid(accountID)])
    }
}

extension BatchStatementResult {
    var allowedIdentifiers: [AllowedIdentifier] {
        get throws { try rows.map { try Connection.allowedIdentifier($0, accounts: false) } }
    }
}
