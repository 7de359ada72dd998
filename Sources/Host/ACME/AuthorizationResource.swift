import Foundation

/// The authorization resource (RFC 8555 §7.1.4, §7.5): POST-as-GET by its owner, and
/// deactivation with `{"status":"deactivated"}` (§7.5.2).
extension ACMEServices {
    func authorizationResource(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let id = try resourceID(request, "authz")
        let payload = try request.object()
        let (authorization, challenges): (Authorization, [Challenge])
        if let status = payload["status"] {
            guard status as? String == "deactivated" else {
                // The resource must exist and be the signer's before its payload is judged.
                _ = try await core.authorization(id, for: account, request.requestGuard)
                throw Problem(.malformed, "an authorization can only be updated to {\"status\":\"deactivated\"} (RFC 8555 §7.5.2)")
            }
            (authorization, challenges) = try await core.deactivateAuthorization(id, by: account, request.requestGuard)
        } else {
            (authorization, challenges) = try await core.authorization(id, for: account, request.requestGuard)
        }
        var reply = ACMEReply(status: 200, .json(authorizationJSON(authorization, challenges)))
        if authorization.status == .pending { reply.retryAfter = config.challenges.retryAfterSeconds }
        return reply
    }
}
