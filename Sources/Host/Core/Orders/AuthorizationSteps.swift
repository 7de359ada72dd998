import Foundation

/// The authorization steps of RFC 8555: newAuthz (§7.4.1), the fetch (§7.5) and
/// deactivation (§7.5.2).
extension CoreServices {
    /// newAuthz: a pre-authorization, or a reusable valid one; with its challenges.
    func newAuthorization(_ identifier: Identifier, by account: Account, _ requestGuard: RequestGuard? = nil) async throws
        -> (authorization: Authorization, challenges: [Challenge], created: Bool)
    {
        try await orderCreation.newAuthorization(account: account, identifier: identifier, requestGuard)
    }

    /// The authorization with its challenges, for its owner (one batch, opened by the
    /// request's guard). A fetch is a read, committed without waiting for the flush.
    func authorization(_ id: UUID, for account: Account, _ requestGuard: RequestGuard? = nil,
                       fetch: Bool = true) async throws -> (Authorization, [Challenge])
    {
        let results = try await database.runBatch(after: requestGuard, [.authorization(id: id), .challenges(authorizationID: id)],
                                                  asynchronousCommit: fetch)
        guard let authorization = try results[0].authorizations.first else { throw ResourceAccess.notFound("authorization") }
        try ResourceAccess.requireOwner(authorization.accountID, account, "authorization")
        return (authorization, try results[1].challenges)
    }

    /// §7.5.2: pending or valid → deactivated; the pending and ready orders relying on it
    /// become invalid. One batch: the guard, the reads, and the change (for the owner only).
    func deactivateAuthorization(_ id: UUID, by account: Account, _ requestGuard: RequestGuard? = nil) async throws
        -> (Authorization, [Challenge])
    {
        let problem = Problem(.unauthorized, "authorization \(id) was deactivated", refusal: .forbidden)
        let results = try await database.runBatch(after: requestGuard, [
            .authorization(id: id), .challenges(authorizationID: id),
            .deactivateAuthorization(id, ownedBy: account.id, orderError: problem.documentJSON),
        ])
        guard var authorization = try results[0].authorizations.first else { throw ResourceAccess.notFound("authorization") }
        try ResourceAccess.requireOwner(authorization.accountID, account, "authorization")
        guard !results[2].rows.isEmpty else {
            throw Problem(.malformed, "authorization is \(authorization.status.rawValue); only pending or valid ones can be deactivated")
        }
        authorization.status = .deactivated
        logger.info("authorization deactivated", metadata: ["authorization": "\(id)"])
        events.publish(.authorizationDeactivated(authorizationID: id, accountID: account.id,
                                                 identifier: authorization.identifier))
        return (authorization, try results[1].challenges)
    }
}
