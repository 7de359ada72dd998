import Foundation
import Hummingbird

/// Checks the bearer token of an admin request: MAC and age (`AdminToken`), then what
/// every instance shares in PostgreSQL: not logged out, the user exists and is enabled,
/// and the token is not older than the user's last password change. The role applied is
/// the user's current one, not the one the token was issued with.
struct AdminAuthenticator: Sendable {
    let database: Database
    let secret: String
    let lifetimeSeconds: Int

    static let challenge: HTTPFields = [.wwwAuthenticate: #"Bearer realm="acmeeh-admin""#]

    /// The user a request's `Authorization: Bearer` token names, and the token text.
    func authenticate(_ headers: HTTPFields) async throws -> (user: AdminUser, token: String) {
        guard let header = headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer "
        else { throw AdminProblem(.unauthorized, "an admin bearer token is required", headers: Self.challenge) }
        let text = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let token: AdminToken
        do {
            token = try AdminToken.verify(text, secret: secret, lifetimeSeconds: lifetimeSeconds)
        } catch {
            let reason = error == .expired ? "the token has expired" : "the token is not valid"
            throw Self.refused(reason)
        }
        let digest = AdminToken.digest(text)
        let (revoked, user) = try await database.withConnection { connection in
            (try connection.isAdminTokenRevoked(digest: digest), try connection.adminUser(id: token.userID))
        }
        guard !revoked else { throw Self.refused("the token was logged out") }
        guard let user, user.enabled else { throw Self.refused("the token's user is disabled or deleted") }
        let changedMillis = Int64((user.passwordChangedAt.timeIntervalSince1970 * 1000).rounded(.down))
        guard token.issuedAtMillis >= changedMillis else {
            throw Self.refused("the token was issued before the user's last password change")
        }
        return (user, text)
    }

    /// Ends `token` for every instance until it would have expired.
    func logout(_ token: String) async throws {
        guard let claims = try? AdminToken.verify(token, secret: secret, lifetimeSeconds: lifetimeSeconds) else { return }
        let expires = claims.issuedAt.addingTimeInterval(TimeInterval(lifetimeSeconds))
        try await database.withConnection { try $0.revokeAdminToken(digest: AdminToken.digest(token), expiresAt: expires) }
    }

    private static func refused(_ reason: String) -> AdminProblem {
        AdminProblem(.unauthorized, reason,
                     headers: [.wwwAuthenticate: #"Bearer realm="acmeeh-admin", error="invalid_token""#])
    }
}
