import Foundation

/// The challenge resource (RFC 8555 §7.1.5, §7.5.1): POST-as-GET by its owner shows it;
/// a `{}` payload asks the server to validate it.
extension ACMEServices {
    func challengeResource(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let id = try resourceID(request, "chall")
        let found = try await database.withConnection { connection -> (Challenge, Authorization)? in
            guard let challenge = try connection.challenge(id: id),
                  let authorization = try connection.authorization(id: challenge.authorizationID) else { return nil }
            return (challenge, authorization)
        }
        // Challenges of types no longer enabled are hidden.
        guard let found, runtime.validators[found.0.type] != nil else { throw Self.notFound("chall") }
        var (challenge, authorization) = found
        try Self.requireOwner(authorization.accountID, account, "challenge")

        // §7.5.1: any JSON object (normally {}) is the client's "ready"; an empty payload is a fetch.
        if !request.isPostAsGet {
            _ = try request.object()
            if challenge.status == .pending, authorization.status == .pending, authorization.expires > Date() {
                let types = challengeTypes
                let inRequest = types.autoValidate(challenge.type)
                let claimed = try await database.withConnection {
                    try $0.claimChallenge(id, lockedBy: inRequest ? "request-\(UUID().uuidString.prefix(8))" : nil)
                }
                if claimed {
                    logger.info("challenge triggered", metadata: ["challenge": "\(id)", "type": "\(challenge.type)",
                                                                   "in_request": "\(inRequest)"])
                    if inRequest {
                        challenge.status = .processing
                        await validation.attempt(challenge, holders: (authorization, account))
                    } else {
                        workerBell.ring()
                    }
                }
                if let reloaded = try await database.withConnection({ try $0.challenge(id: id) }) { challenge = reloaded }
            }
        }
        var reply = ACMEReply(status: 200, .json(challengeJSON(challenge, accountID: authorization.accountID)))
        reply.links.append((url("authz", authorization.id), "up"))
        if challenge.status == .processing { reply.retryAfter = config.challenges.retryAfterSeconds }
        return reply
    }
}
