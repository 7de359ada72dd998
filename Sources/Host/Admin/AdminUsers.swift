import Foundation

/// Creating users and resetting passwords: a random password, stored only as its bcrypt
/// hash, returned once to the caller and mailed to the user when SMTP is on.
struct AdminUsers: Sendable {
    let api: AdminAPI

    /// Creates a user; the password is in the answer and nowhere else.
    func create(username: String, email: String, role: AdminUser.Role) async throws -> (AdminUser, password: String) {
        let password = AdminPasswords.generate(length: api.config.passwordLength)
        let hash = try await AdminPasswords.hash(password)
        let user = try await api.database.withConnection {
            try $0.insertAdminUser(username: username, email: email, passwordHash: hash, role: role)
        }
        await api.core.mailAdministrator(.adminUserCreated, to: email, username: username, role: role.rawValue,
                                         password: password)
        return (user, password)
    }

    /// Gives `user` a new random password; tokens issued before it stop working.
    func resetPassword(_ user: AdminUser) async throws -> (AdminUser, password: String) {
        let password = AdminPasswords.generate(length: api.config.passwordLength)
        let hash = try await AdminPasswords.hash(password)
        guard let updated = try await api.database.withConnection({ try $0.setAdminPassword(id: user.id, passwordHash: hash) })
        else { throw AdminProblem.notFound("user \(user.id)") }
        await api.core.mailAdministrator(.adminPasswordReset, to: updated.email, username: updated.username,
                                         role: updated.role.rawValue, password: password)
        return (updated, password)
    }

    /// With no user at all, creates `admin` (role admin, `initial_admin_email`); returns
    /// its password, which the caller shows once. Two instances starting together create one.
    func bootstrap() async throws -> String? {
        // bcrypt only when there is no user yet (every later start stops here).
        guard try await api.database.withConnection({ try $0.adminUserCount() }) == 0 else { return nil }
        let password = AdminPasswords.generate(length: api.config.passwordLength)
        let hash = try await AdminPasswords.hash(password)
        let email = api.config.initialAdminEmail
        guard try await api.database.withConnection({
            try $0.insertFirstAdminUser(username: "admin", email: email, passwordHash: hash)
        }) != nil else { return nil }
        await api.audit.record("user.bootstrap", userID: nil, details: ["username": "admin"], ip: nil)
        await api.core.mailAdministrator(.adminUserCreated, to: email, username: "admin", role: "admin", password: password)
        return password
    }

    /// The JSON of a user (never its hash).
    static func json(_ user: AdminUser) -> [String: Any] {
        ["id": AdminReply.id(user.id), "username": user.username, "email": user.email, "role": user.role.rawValue,
         "enabled": user.enabled, "created_at": AdminReply.date(user.createdAt), "updated_at": AdminReply.date(user.updatedAt),
         "last_login_at": AdminReply.date(user.lastLoginAt)]
    }
}
