import Foundation

/// The authorization resource (RFC 8555 §7.1.4, §7.5): POST-as-GET by its owner, and
/// deactivation with `{"status":"deactivated"}` (§7.5.2).
extension ACMEServices {
    func authorizationResource(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let id = try resourceID(request, "authz")
        // The authorization with its challenges in one round trip (the challenges are only
        // shown to the owner, checked next).
        let found = try await database.withConnection { connection -> (Authorization, [Challenge])? in
            guard let authorization = try connection.authorization(id: id) else { return nil }
            return (authorization, try connection.challenges(authorizationID: id))
        }
        guard var (authorization, challenges) = found else { throw Self.notFound("authz") }
        try Self.requireOwner(authorization.accountID, account, "authorization")

        let payload = try request.object()
        if let status = payload["status"] {
            guard status as? String == "deactivated" else {
                throw Problem(.malformed, "an authorization can only be updated to {\"status\":\"deactivated\"} (RFC 8555 §7.5.2)")
            }
            let problem = Problem(.unauthorized, "authorization for \(authorization.identifier.value) was deactivated", status: 403)
            let changed = try await database.transaction { connection -> Bool in
                // §7.5.2: from pending or valid; orders relying on it can no longer succeed.
                guard try connection.setAuthorizationStatus(id, to: .deactivated, from: [.pending, .valid]) else { return false }
                try connection.invalidateOrders(usingAuthorization: id, statuses: [.pending, .ready],
                                                error: problem.documentJSON)
                return true
            }
            guard changed else {
                throw Problem(.malformed, "authorization is \(authorization.status.rawValue); only pending or valid ones can be deactivated")
            }
            authorization.status = .deactivated
            logger.info("authorization deactivated", metadata: ["authorization": "\(id)"])
        }
        var reply = ACMEReply(status: 200, .json(authorizationJSON(authorization, challenges)))
        if authorization.status == .pending { reply.retryAfter = config.challenges.retryAfterSeconds }
        return reply
    }
}
