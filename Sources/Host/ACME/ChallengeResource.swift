import Foundation

/// The challenge resource (RFC 8555 §7.1.5, §7.5.1): POST-as-GET by its owner shows it;
/// a `{}` payload asks the server to validate it.
extension ACMEServices {
    func challengeResource(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let id = try resourceID(request, "chall")
        // §7.5.1: any JSON object (normally {}) is the client's "ready"; an empty payload is a
        // fetch. A bad payload is reported after the lookup, so a missing challenge stays 404.
        var payloadProblem: (any Error)?
        let trigger = !request.isPostAsGet
        if trigger {
            do { _ = try request.object() } catch { payloadProblem = error }
        }
        let payloadOK = payloadProblem == nil
        let types = challengeTypes
        let validators = runtime.validators
        let lock = "request-\(UUID().uuidString.prefix(8))"
        // Lookup and, for a trigger by the owner, the claim: one round trip.
        let found = try await database.withConnection { connection -> (Challenge, Authorization, claimed: Bool)? in
            guard let challenge = try connection.challenge(id: id),
                  let authorization = try connection.authorization(id: challenge.authorizationID) else { return nil }
            guard trigger, payloadOK, validators[challenge.type] != nil,
                  authorization.accountID == account.id, challenge.status == .pending,
                  authorization.status == .pending, authorization.expires > Date() else {
                return (challenge, authorization, false)
            }
            let claimed = try connection.claimChallenge(id, lockedBy: types.autoValidate(challenge.type) ? lock : nil)
            return (challenge, authorization, claimed)
        }
        // Challenges of types no longer enabled are hidden.
        guard let found, validators[found.0.type] != nil else { throw Self.notFound("chall") }
        var (challenge, authorization, claimed) = found
        try Self.requireOwner(authorization.accountID, account, "challenge")
        if let payloadProblem { throw payloadProblem }

        if claimed {
            let inRequest = types.autoValidate(challenge.type)
            logger.info("challenge triggered", metadata: ["challenge": "\(id)", "type": "\(challenge.type)",
                                                           "in_request": "\(inRequest)"])
            if inRequest {
                challenge.status = .processing
                await validation.attempt(challenge, holders: (authorization, account))
            } else {
                workerBell.ring()
            }
        }
        if claimed || (trigger && challenge.status == .pending),
           let reloaded = try await database.withConnection({ try $0.challenge(id: id) }) {
            challenge = reloaded
        }
        var reply = ACMEReply(status: 200, .json(challengeJSON(challenge, accountID: authorization.accountID)))
        reply.links.append((url("authz", authorization.id), "up"))
        if challenge.status == .processing { reply.retryAfter = config.challenges.retryAfterSeconds }
        return reply
    }
}
