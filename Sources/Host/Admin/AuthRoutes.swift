import Foundation

/// `POST /auth/login` and `POST /auth/logout`.
extension AdminAPI {
    func registerAuthRoutes(_ routes: AdminRouteTable) {
        routes.post("/auth/login", .anyone) { call in
            let body = try await call.body()
            let username = try body.requiredString("username")
            let password = try body.requiredString("password")
            guard username.utf8.count <= 256, password.utf8.count <= 1024 else {
                throw AdminProblem(.badRequest, "username or password too long")
            }
            let ip = call.clientIP
            if let seconds = try await call.api.throttle.lockedFor(ip: ip, username: username) {
                await call.audit("auth.login_locked", details: ["username": username])
                throw AdminProblem(.rateLimited, "too many failed logins; try again in \(seconds) s",
                                   headers: [.retryAfter: String(seconds)])
            }
            let user = try await call.api.database.withConnection { try $0.adminUser(username: username) }
            let matches = try await AdminPasswords.verify(password, hash: user?.passwordHash)
            guard let user, matches, user.enabled else {
                try await call.api.throttle.recordFailure(ip: ip, username: username)
                await call.api.audit.record("auth.login_failed", userID: user?.id,
                                            details: ["username": username,
                                                      "reason": user == nil || !matches ? "bad credentials" : "user disabled"],
                                            ip: ip)
                throw AdminProblem(.unauthorized, "invalid username or password", headers: AdminAuthenticator.challenge)
            }
            try await call.api.throttle.recordSuccess(ip: ip, username: username)
            try await call.api.database.withConnection { try $0.recordAdminLogin(id: user.id) }
            let token = AdminToken(user: user).signed(secret: call.api.config.tokenSecret)
            await call.api.audit.record("auth.login", userID: user.id, ip: ip)
            return AdminReply.json(["token": token, "user": AdminUsers.json(user),
                                    "expires_in": call.api.config.tokenExpirySeconds])
        }
        routes.post("/auth/logout", .reader) { call in
            if let token = call.token { try await call.api.authenticator.logout(token) }
            await call.audit("auth.logout")
            return AdminReply.json(["status": "logged_out"])
        }
    }
}
