import Foundation

/// The authorization steps of RFC 8555: newAuthz (§7.4.1), the fetch (§7.5) and
/// deactivation (§7.5.2).
extension CoreServices {
    /// newAuthz: a pre-authorization, or a reusable valid one; with its challenges.
    func newAuthorization(_ identifier: Identifier, by account: Account) async throws
        -> (authorization: Authorization, challenges: [Challenge], created: Bool)
    {
        let (authorization, created) = try await orderCreation.newAuthorization(account: account, identifier: identifier)
        let challenges = try await database.withConnection { try $0.challenges(authorizationID: authorization.id) }
        return (authorization, challenges, created)
    }

    /// The authorization with its challenges, for its owner (one round trip).
    func authorization(_ id: UUID, for account: Account) async throws -> (Authorization, [Challenge]) {
        let found = try await database.withConnection { connection -> (Authorization, [Challenge])? in
            guard let authorization = try connection.authorization(id: id) else { return nil }
            return (authorization, try connection.challenges(authorizationID: id))
        }
        guard let found else { throw ResourceAccess.notFound("authorization") }
        try ResourceAccess.requireOwner(found.0.accountID, account, "authorization")
        return found
    }

    /// §7.5.2: pending or valid → deactivated; the pending and ready orders relying on it
    /// become invalid in the same transaction.
    func deactivateAuthorization(_ id: UUID, by account: Account) async throws -> (Authorization, [Challenge]) {
        var (authorization, challenges) = try await self.authorization(id, for: account)
        let problem = Problem(.unauthorized, "authorization for \(authorization.identifier.value) was deactivated", status: 403)
        let changed = try await database.transaction { connection -> Bool in
            guard try connection.setAuthorizationStatus(id, to: .deactivated, from: [.pending, .valid]) else { return false }
            try connection.invalidateOrders(usingAuthorization: id, statuses: [.pending, .ready], error: problem.documentJSON)
            return true
        }
        guard changed else {
            throw Problem(.malformed, "authorization is \(authorization.status.rawValue); only pending or valid ones can be deactivated")
        }
        authorization.status = .deactivated
        logger.info("authorization deactivated", metadata: ["authorization": "\(id)"])
        events.publish(.authorizationDeactivated(authorizationID: id, accountID: account.id,
                                                 identifier: authorization.identifier))
        return (authorization, challenges)
    }
}
