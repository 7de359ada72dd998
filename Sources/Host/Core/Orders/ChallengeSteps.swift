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

    /// The challenge (after any validation this request ran) and its authorization: the
    /// claim and the reads in one batch opened by the request's guard, then, for a type
    /// validated in the request, the validation and its outcome (one more batch).
    func challenge(_ id: UUID, for account: Account, _ request: ChallengeRequest,
                   _ requestGuard: RequestGuard? = nil) async throws -> (Challenge, Authorization) {
        let respond = if case .respond = request { true } else { false }
        let types = challengeTypes
        let enabled = validators.keys.sorted()
        var statements: [BatchStatement] = [.challenge(id: id), .authorization(ofChallenge: id)]
        if respond {
            try await rateLimiter.admit(.challengeValidation, key: account.id.uuidString, requestGuard)
            // The claim goes first: the reads after it see the challenge as it left it.
            statements.insert(.claimChallenge(id, accountID: account.id, types: enabled,
                                              inRequest: enabled.filter(types.autoValidate),
                                              lock: ChallengeLocks.request()), at: 0)
        }
        // A fetch is a read: committed without waiting for the flush.
        let results = try await database.runBatch(after: requestGuard, statements, asynchronousCommit: !respond)
        let claimed = respond && results[0].affectedRows == 1
        let reads = results.suffix(2)
        // Challenges of types no longer enabled are hidden.
        guard var challenge = try reads.first?.challenges.first, let authorization = try reads.last?.authorizations.first,
              validators[challenge.type] != nil else { throw ResourceAccess.notFound("challenge") }
        try ResourceAccess.requireOwner(authorization.accountID, account, "challenge")
        if case .refused(let problem) = request { throw problem }

        if claimed {
            let inRequest = types.autoValidate(challenge.type)
            logger.info("challenge triggered", metadata: ["challenge": "\(id)", "type": "\(challenge.type)",
                                                           "in_request": "\(inRequest)"])
            if inRequest {
                if let after = await validation.attempt(challenge, holders: (authorization, account)) { challenge = after }
            } else {
                workerBell.ring()
            }
        }
        return (challenge, authorization)
    }
}
