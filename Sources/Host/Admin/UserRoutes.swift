import Foundation

/// `/users` (admins manage operators; auditors may read) and `/me`.
extension AdminAPI {
    func registerUserRoutes(_ routes: AdminRouteTable) {
        routes.get("/users", .reader) { call in
            let users = try await call.api.database.withConnection { try $0.adminUsers() }
            return AdminReply.json(users.map(AdminUsers.json))
        }
        routes.get("/users/:id", .reader) { call in
            let id = try call.uuidParameter("id")
            guard let user = try await call.api.database.withConnection({ try $0.adminUser(id: id) }) else {
                throw AdminProblem.notFound("user \(id)")
            }
            return AdminReply.json(AdminUsers.json(user))
        }
        routes.post("/users", .admin) { call in
            let body = try await call.body()
            try body.allowOnly(["username", "email", "role"])
            let username = try body.requiredString("username")
            let email = try body.requiredString("email")
            guard username.count <= 128, username.allSatisfy({ $0.isLetter || $0.isNumber || "._@-".contains($0) }) else {
                throw AdminProblem(.badRequest, "username may hold letters, digits and . _ @ - (at most 128)")
            }
            guard email.contains("@"), email.count <= 254 else { throw AdminProblem(.badRequest, "\"email\" is not a mail address") }
            let role = try Self.role(body.string("role") ?? AdminUser.Role.auditor.rawValue)
            if try await call.api.database.withConnection({ try $0.adminUser(username: username) }) != nil {
                throw AdminProblem(.conflict, "user \(username) already exists")
            }
            let (user, password) = try await call.api.users.create(username: username, email: email, role: role)
            await call.audit("user.create", target: user.id, details: ["username": username, "role": role.rawValue])
            var json = AdminUsers.json(user)
            json["password"] = password
            return AdminReply.json(json, status: .created)
        }
        routes.patch("/users/:id", .admin) { call in
            let id = try call.uuidParameter("id")
            let body = try await call.body()
            try body.allowOnly(["enabled", "role"])
            let enabled = try body.bool("enabled")
            let role = try body.string("role").map(Self.role)
            guard enabled != nil || role != nil else { throw AdminProblem(.badRequest, "nothing to change: give enabled or role") }
            if id == (try call.actor).id, enabled == false || role == .auditor {
                throw AdminProblem(.conflict, "you cannot disable or demote yourself; another admin can")
            }
            guard let user = try await call.api.database.withConnection({ try $0.updateAdminUser(id: id, enabled: enabled, role: role) })
            else { throw AdminProblem.notFound("user \(id)") }
            var details: [String: Any] = [:]
            if let enabled { details["enabled"] = enabled }
            if let role { details["role"] = role.rawValue }
            await call.audit("user.update", target: id, details: details)
            return AdminReply.json(AdminUsers.json(user))
        }
        routes.delete("/users/:id", .admin) { call in
            let id = try call.uuidParameter("id")
            guard id != (try call.actor).id else { throw AdminProblem(.conflict, "you cannot delete yourself") }
            guard try await call.api.database.withConnection({ try $0.deleteAdminUser(id: id) }) else {
                throw AdminProblem.notFound("user \(id)")
            }
            await call.audit("user.delete", details: ["user_id": id.uuidString.lowercased()])
            return AdminReply.noContent()
        }
        routes.get("/me", .reader) { call in
            AdminReply.json(AdminUsers.json(try call.actor))
        }
        routes.post("/me/reset-password", .reader) { call in
            let (user, password) = try await call.api.users.resetPassword(try call.actor)
            await call.audit("user.reset_password", target: user.id)
            var json = AdminUsers.json(user)
            json["password"] = password
            return AdminReply.json(json)
        }
    }

    private static func role(_ text: String) throws -> AdminUser.Role {
        guard let role = AdminUser.Role(rawValue: text) else { throw AdminProblem(.badRequest, "role must be admin or auditor") }
        return role
    }
}
