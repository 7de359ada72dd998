import Foundation

/// `admin.users`: the admin API's operators.
extension Connection {
    private static let adminUserColumns = """
        id, username, email, password_hash, role, enabled, password_changed_at, last_login_at, created_at, updated_at
        """

    func adminUser(id: UUID) throws -> AdminUser? {
        try queryFirst("SELECT \(Self.adminUserColumns) FROM admin.users WHERE id = $1", [.uuid(id)]).map(Self.adminUser)
    }

    func adminUser(username: String) throws -> AdminUser? {
        try queryFirst("SELECT \(Self.adminUserColumns) FROM admin.users WHERE username = $1", [.string(username)])
            .map(Self.adminUser)
    }

    /// Every user, oldest first.
    func adminUsers() throws -> [AdminUser] {
        try query("SELECT \(Self.adminUserColumns) FROM admin.users ORDER BY created_at, id").map(Self.adminUser)
    }

    func adminUserCount() throws -> Int {
        try queryFirst("SELECT count(*) AS n FROM admin.users")?.int("n") ?? 0
    }

    /// Stores a new user; a duplicate username surfaces as a unique violation.
    func insertAdminUser(username: String, email: String, passwordHash: String, role: AdminUser.Role) throws -> AdminUser {
        guard let row = try queryFirst(
            """
            INSERT INTO admin.users (username, email, password_hash, role) VALUES ($1, $2, $3, $4)
            RETURNING \(Self.adminUserColumns)
            """, [.string(username), .string(email), .string(passwordHash), .string(role.rawValue)])
        else { throw StoreError(.decoding, "INSERT INTO admin.users returned no row") }
        return try Self.adminUser(row)
    }

    /// The first user, only while there is none (two instances starting together create one).
    func insertFirstAdminUser(username: String, email: String, passwordHash: String) throws -> AdminUser? {
        try transaction { connection in
            _ = try connection.execute("LOCK TABLE admin.users IN SHARE ROW EXCLUSIVE MODE")
            guard try connection.adminUserCount() == 0 else { return nil }
            return try connection.insertAdminUser(username: username, email: email, passwordHash: passwordHash, role: .admin)
        }
    }

    /// Sets `enabled` and/or `role`; nil when there is no such user.
    func updateAdminUser(id: UUID, enabled: Bool?, role: AdminUser.Role?) throws -> AdminUser? {
        try queryFirst(
            """
            UPDATE admin.users SET enabled = coalesce($2, enabled), role = coalesce($3, role)
            WHERE id = $1 RETURNING \(Self.adminUserColumns)
            """, [.uuid(id), enabled.map { .bool($0) }, role.map { .string($0.rawValue) }]).map(Self.adminUser)
    }

    /// Replaces the password hash; every token issued before now stops working.
    func setAdminPassword(id: UUID, passwordHash: String) throws -> AdminUser? {
        try queryFirst(
            """
            UPDATE admin.users SET password_hash = $2, password_changed_at = clock_timestamp()
            WHERE id = $1 RETURNING \(Self.adminUserColumns)
            """, [.uuid(id), .string(passwordHash)]).map(Self.adminUser)
    }

    func recordAdminLogin(id: UUID) throws {
        _ = try execute("UPDATE admin.users SET last_login_at = now() WHERE id = $1", [.uuid(id)])
    }

    /// Whether a user was deleted.
    func deleteAdminUser(id: UUID) throws -> Bool {
        try execute("DELETE FROM admin.users WHERE id = $1", [.uuid(id)]) == 1
    }

    private static func adminUser(_ row: Row) throws -> AdminUser {
        let role = try row.string("role")
        guard let parsed = AdminUser.Role(rawValue: role) else { throw StoreError(.decoding, "admin.users.role \(role)") }
        return AdminUser(
            id: try row.uuid("id"), username: try row.string("username"), email: try row.string("email"),
            passwordHash: try row.string("password_hash"), role: parsed, enabled: try row.bool("enabled"),
            passwordChangedAt: try row.date("password_changed_at"), lastLoginAt: try row.dateIfPresent("last_login_at"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
