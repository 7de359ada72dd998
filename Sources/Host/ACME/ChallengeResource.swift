import Foundation

/// The challenge resource (RFC 8555 §7.1.5, §7.5.1): POST-as-GET by its owner shows it;
/// a `{}` payload asks the server to validate it.
extension ACMEServices {
    func challengeResource(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let id = try resourceID(request, "chall")
        // §7.5.1: any JSON object (normally {}) is the client's "ready"; an empty payload is a fetch.
        var asked = CoreServices.ChallengeRequest.fetch
        if !request.isPostAsGet {
            do {
                _ = try request.object()
                asked = .respond
            } catch {
                asked = .refused(error)
            }
        }
        let (challenge, authorization) = try await core.challenge(id, for: account, asked, request.requestGuard)
        var reply = ACMEReply(status: 200, .json(challengeJSON(challenge, accountID: authorization.accountID)))
        reply.links.append((url("authz", authorization.id), "up"))
        if challenge.status == .processing { reply.retryAfter = config.challenges.retryAfterSeconds }
        return reply
    }
}
