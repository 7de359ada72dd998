import Foundation

/// newAuthz (RFC 8555 §7.4.1): pre-authorization under the same identifier policy as newOrder.
extension ACMEServices {
    func newAuthz(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let payload = try request.object()
        guard let object = payload["identifier"] as? [String: Any], let type = object["type"] as? String,
              let value = object["value"] as? String else {
            throw Problem(.malformed, "newAuthz needs \"identifier\": {type, value}")
        }
        let (authorization, challenges, created) = try await core.newAuthorization(
            Identifier(type: type, value: value), by: account, request.requestGuard)
        return ACMEReply(status: created ? 201 : 200, .json(authorizationJSON(authorization, challenges)),
                         location: url("authz", authorization.id))
    }
}
