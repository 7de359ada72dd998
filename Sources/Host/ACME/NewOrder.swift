import Foundation

/// newOrder (RFC 8555 §7.4; draft-ietf-acme-profiles `profile`; RFC 9773 §5 `replaces`).
extension ACMEServices {
    func newOrder(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let payload = try request.object()
        guard let list = payload["identifiers"] as? [Any] else {
            throw Problem(.malformed, "newOrder needs \"identifiers\", an array of {type, value}")
        }
        var identifiers: [Identifier] = []
        for item in list {
            guard let object = item as? [String: Any], let type = object["type"] as? String,
                  let value = object["value"] as? String else {
                throw Problem(.malformed, "each identifier must be an object with string \"type\" and \"value\"")
            }
            identifiers.append(Identifier(type: type, value: value))
        }
        var profile: String? = nil
        if let value = payload["profile"], !(value is NSNull) {
            guard let text = value as? String else { throw Problem(.malformed, "profile must be a string") }
            profile = text
        }
        var replaces: String? = nil
        if let value = payload["replaces"], !(value is NSNull) {
            guard let text = value as? String else { throw Problem(.malformed, "replaces must be a string (RFC 9773 §5)") }
            replaces = text
        }
        let (order, created) = try await core.newOrder(.init(
            identifiers: identifiers,
            notBefore: try Self.parseTimestamp(payload["notBefore"], "notBefore"),
            notAfter: try Self.parseTimestamp(payload["notAfter"], "notAfter"),
            profile: profile, replaces: replaces), by: account, request.requestGuard)
        // §7.4: 201 Created for a new order; an identical open order is returned with 200.
        return orderReply(order, status: created ? 201 : 200)
    }
}
