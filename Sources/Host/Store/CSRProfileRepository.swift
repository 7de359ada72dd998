import Foundation

/// The CSR profiles (`admin.csr_profiles`) and their links: one profile per account, one
/// per external account binding credential. A duplicate name is a unique violation
/// (`StoreError.isUniqueViolation`, constraint `csr_profiles_name_key`); `profileData`
/// is stored as Core checked it.
extension Connection {
    static func csrProfileColumns(accounts: Bool) -> String {
        """
        p.id, p.name, p.description, p.profile_data::text AS profile_data, p.created_by, p.created_at, p.updated_at,
        \(ListQuery.cursorColumn("p"))\(accounts ? """
            , ARRAY(SELECT l.account_id::text FROM admin.account_csr_profiles l
                    WHERE l.profile_id = p.id ORDER BY l.account_id) AS account_ids
            """ : "")
        """
    }

    func insertCSRProfile(name: String, description: String, profileData: String, createdBy: UUID?) throws -> CSRProfileRecord {
        guard let row = try queryFirst(
            """
            WITH p AS (INSERT INTO admin.csr_profiles (name, description, profile_data, created_by)
                       VALUES ($1, $2, $3, $4) RETURNING *)
            SELECT \(Self.csrProfileColumns(accounts: false)) FROM p
            """, [.string(name), .string(description), .jsonb(profileData), createdBy.map { .uuid($0) }])
        else { throw StoreError(.decoding, "INSERT INTO admin.csr_profiles returned no row") }
        return try Self.csrProfile(row, accounts: false)
    }

    /// Replaces name, description and rules; nil when there is no such profile.
    func updateCSRProfile(id: UUID, name: String, description: String, profileData: String) throws -> CSRProfileRecord? {
        try queryFirst(
            """
            WITH p AS (UPDATE admin.csr_profiles SET name = $2, description = $3, profile_data = $4 WHERE id = $1 RETURNING *)
            SELECT \(Self.csrProfileColumns(accounts: false)) FROM p
            """, [.uuid(id), .string(name), .string(description), .jsonb(profileData)])
            .map { try Self.csrProfile($0, accounts: false) }
    }

    func csrProfile(id: UUID, withAccounts: Bool = false) throws -> CSRProfileRecord? {
        try queryFirst("SELECT \(Self.csrProfileColumns(accounts: withAccounts)) FROM admin.csr_profiles p WHERE p.id = $1",
                       [.uuid(id)]).map { try Self.csrProfile($0, accounts: withAccounts) }
    }

    /// One page of the profiles, oldest first.
    func csrProfiles(page: PageRequest, withAccounts: Bool = false) throws -> [CSRProfileRecord] {
        var list = ListQuery()
        let tail = list.page(page, alias: "p", newestFirst: false)
        return try query("SELECT \(Self.csrProfileColumns(accounts: withAccounts)) FROM admin.csr_profiles p \(list.whereClause) \(tail)",
                         list.params).map { try Self.csrProfile($0, accounts: withAccounts) }
    }

    /// Deletes the profile and its links; false when there was none.
    @discardableResult
    func deleteCSRProfile(id: UUID) throws -> Bool {
        try execute("DELETE FROM admin.csr_profiles WHERE id = $1", [.uuid(id)]) == 1
    }

    /// The account's profile becomes `profileID` (an operator's link: it survives
    /// re-binding). An unknown id on either side is a foreign-key violation.
    func setAccountCSRProfile(accountID: UUID, profileID: UUID) throws {
        try execute(
            """
            INSERT INTO admin.account_csr_profiles (account_id, profile_id) VALUES ($1, $2)
            ON CONFLICT (account_id) DO UPDATE SET profile_id = EXCLUDED.profile_id, from_eab = false
            """, [.uuid(accountID), .uuid(profileID)])
    }

    /// The account has no profile any more (only if it is `profileID`, when given); false when it had none.
    @discardableResult
    func clearAccountCSRProfile(accountID: UUID, profileID: UUID? = nil) throws -> Bool {
        try execute("DELETE FROM admin.account_csr_profiles WHERE account_id = $1 AND ($2::uuid IS NULL OR profile_id = $2)",
                    [.uuid(accountID), profileID.map { .uuid($0) }]) == 1
    }

    func accountCSRProfile(accountID: UUID) throws -> CSRProfileRecord? {
        try queryFirst(
            """
            SELECT \(Self.csrProfileColumns(accounts: false)) FROM admin.csr_profiles p
            JOIN admin.account_csr_profiles l ON l.profile_id = p.id WHERE l.account_id = $1
            """, [.uuid(accountID)]).map { try Self.csrProfile($0, accounts: false) }
    }

    /// The credential's profile becomes `profileID` (copied to accounts that register with it).
    func setEABCSRProfile(eabID: UUID, profileID: UUID) throws {
        try execute(
            """
            INSERT INTO admin.eab_csr_profiles (eab_id, profile_id) VALUES ($1, $2)
            ON CONFLICT (eab_id) DO UPDATE SET profile_id = EXCLUDED.profile_id
            """, [.uuid(eabID), .uuid(profileID)])
    }

    /// The credential has no profile any more (only if it is `profileID`, when given); false when it had none.
    @discardableResult
    func clearEABCSRProfile(eabID: UUID, profileID: UUID? = nil) throws -> Bool {
        try execute("DELETE FROM admin.eab_csr_profiles WHERE eab_id = $1 AND ($2::uuid IS NULL OR profile_id = $2)",
                    [.uuid(eabID), profileID.map { .uuid($0) }]) == 1
    }

    func eabCSRProfile(eabID: UUID) throws -> CSRProfileRecord? {
        try queryFirst(
            """
            SELECT \(Self.csrProfileColumns(accounts: false)) FROM admin.csr_profiles p
            JOIN admin.eab_csr_profiles l ON l.profile_id = p.id WHERE l.eab_id = $1
            """, [.uuid(eabID)]).map { try Self.csrProfile($0, accounts: false) }
    }

    static func csrProfile(_ row: Row, accounts: Bool) throws -> CSRProfileRecord {
        CSRProfileRecord(
            id: try row.uuid("id"), name: try row.string("name"), description: try row.string("description"),
            profileData: try row.json("profile_data"), createdBy: try row.uuidIfPresent("created_by"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            pageCursor: try row.pageCursor(),
            accountIDs: accounts ? try row.stringArray("account_ids").compactMap(UUID.init(uuidString:)) : nil)
    }
}

/// The profile read that finalize adds to its batch.
extension BatchStatement {
    /// The account's profile with the facts its rules need (no row: no profile):
    /// `key_issued` — a certificate of this server has the SubjectPublicKeyInfo whose
    /// SHA-256 hex is `publicKeyFingerprint`; `same_names_not_after` — the latest
    /// `not_after` of the account's unrevoked, unexpired certificates for exactly `names`.
    static func accountCSRProfileFacts(accountID: UUID, publicKeyFingerprint: String, names: [String]) -> BatchStatement {
        BatchStatement(
            """
            SELECT \(Connection.csrProfileColumns(accounts: false)),
                   EXISTS (SELECT 1 FROM certificates c WHERE c.public_key_fingerprint = $2) AS key_issued,
                   (SELECT max(c.not_after) FROM certificates c
                    WHERE c.account_id = $1 AND c.revoked_at IS NULL AND c.not_after > now()
                      AND c.san_values @> $3::text[] AND c.san_values <@ $3::text[]) AS same_names_not_after
            FROM admin.csr_profiles p JOIN admin.account_csr_profiles l ON l.profile_id = p.id
            WHERE l.account_id = $1
            """, [.uuid(accountID), .string(publicKeyFingerprint), .textArray(names)])
    }
}

extension BatchStatementResult {
    /// The row of `accountCSRProfileFacts`, nil when the account has no profile.
    var csrProfileFacts: CSRProfileFacts? {
        get throws {
            guard let row = rows.first else { return nil }
            return CSRProfileFacts(profile: try Connection.csrProfile(row, accounts: false),
                                   keyAlreadyIssued: try row.bool("key_issued"),
                                   sameNamesNotAfter: try row.dateIfPresent("same_names_not_after"))
        }
    }
}
