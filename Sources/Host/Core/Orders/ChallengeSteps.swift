import Foundation

/// The challenge step of RFC 8555 §7.5.1: the owner fetches a challenge, or answers it
/// ("ready") and the server validates it — in the request (`auto_validate`) or through
/// the challenge worker.
extension CoreServices {
    /// What the client asked of the challenge.
    enum ChallengeRequest: Sendable {
        /// POST-as-GET.
        case fetch
        /// A JSON object (normally `{}`): validate it.
        case respond
        /// A payload that is not a JSON object; reported once the challenge is known to
        /// exist and belong to the signer.
        case refused(Problem)
    }

    /// The challenge (after any validation this request ran) and its authorization.
    func challenge(_ id: UUID, for account: Account, _ request: ChallengeRequest) async throws
        -> (Challenge, Authorization)
    {
        let respond = if case .respond = request { true } else { false }
        let types = challengeTypes, validators = self.validators
        let lock = "request-\(UUID().uuidString.prefix(8))"
        // Lookup and, for an answer by the owner, the claim: one round trip.
        let found = try await database.withConnection { connection -> (Challenge, Authorization, claimed: Bool)? in
            guard let challenge = try connection.challenge(id: id),
                  let authorization = try connection.authorization(id: challenge.authorizationID) else { return nil }
            guard respond, validators[challenge.type] != nil,
                  authorization.accountID == account.id, challenge.status == .pending,
                  authorization.status == .pending, authorization.expires > Date() else {
                return (challenge, authorization, false)
            }
            let claimed = try connection.claimChallenge(id, lockedBy: types.autoValidate(challenge.type) ? lock : nil)
            return (challenge, authorization, claimed)
        }
        // Challenges of types no longer enabled are hidden.
        guard let found, validators[found.0.type] != nil else { throw ResourceAccess.notFound("challenge") }
        var (challenge, authorization, claimed) = found
        try ResourceAccess.requireOwner(authorization.accountID, account, "challenge")
        if case .refused(let problem) = request { throw problem }

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
        if claimed || (respond && challenge.status == .pending),
           let reloaded = try await database.withConnection({ try $0.challenge(id: id) }) {
            challenge = reloaded
        }
        return (challenge, authorization)
    }
}
