import Foundation
import Hummingbird

/// The order-side resources of RFC 8555 §7.1: newOrder, order, finalize, authorization,
/// challenge, certificate, newAuthz, and RFC 9773 renewalInfo; plus the JSON of each
/// resource (§7.1.3–7.1.5) and the owner checks they share.
extension ACMEServices {
    func registerOrderRoutes(on router: Router<ACMERequestContext>) {
        // Each Core step opens its first batch with the request's guard (nonce, signer check).
        // Deployment guide: maintenance mode pauses newOrder and newAuthz (503, Retry-After 300).
        gateway.post(router, urls.route(urls.paths.newOrder), signer: .account, limit: .newOrder, pausable: true) { try await self.newOrder($0) }
        gateway.post(router, urls.route(urls.paths.newAuthz), signer: .account, pausable: true) { try await self.newAuthz($0) }
        gateway.post(router, urls.route("/order/:id"), signer: .account) { try await self.orderResource($0) }
        gateway.post(router, urls.route("/order/:id/finalize"), signer: .account) { try await self.finalize($0) }
        gateway.post(router, urls.route("/authz/:id"), signer: .account) { try await self.authorizationResource($0) }
        gateway.post(router, urls.route("/chall/:id"), signer: .account, limit: .challenge) { try await self.challengeResource($0) }
        gateway.post(router, urls.route("/cert/:id"), signer: .account) { try await self.certificateResource($0) }
        registerRenewalInfo(on: router)
    }

    // MARK: Shared pieces

    /// The id in a resource URL `<base>/<kind>/<uuid>[/suffix]`; unknown ids are 404 `malformed`.
    func resourceID(_ request: ACMERequest, _ kind: String, suffix: String = "") throws(Problem) -> UUID {
        let prefix = urls.absolute("/\(kind)/")
        var rest = request.url.hasPrefix(prefix) ? String(request.url.dropFirst(prefix.count)) : ""
        if let query = rest.firstIndex(of: "?") { rest = String(rest[..<query]) }
        if !suffix.isEmpty, rest.hasSuffix(suffix) { rest = String(rest.dropLast(suffix.count)) }
        guard let id = UUID(uuidString: rest) else { throw ResourceAccess.notFound(Self.names[kind] ?? kind) }
        return id
    }

    private static let names = ["order": "order", "authz": "authorization", "chall": "challenge", "cert": "certificate"]

    // MARK: JSON (RFC 8555 §7.1.3–7.1.5)

    static func timestamp(_ date: Date) -> String { date.formatted(.iso8601) }

    /// RFC 8555 §7.1.3. An open order past its expiry shows as invalid.
    func orderJSON(_ order: Order) -> [String: any Sendable] {
        var status = order.status
        if [.pending, .ready].contains(status), order.expires < Date() { status = .invalid }
        var json: [String: any Sendable] = [
            "status": status.rawValue,
            "expires": Self.timestamp(order.expires),
            "identifiers": order.identifiers.map { ["type": $0.type, "value": $0.value] },
            "authorizations": order.authorizationIDs.map { url("authz", $0) },
            "finalize": url("order", order.id) + "/finalize",
        ]
        if let notBefore = order.notBefore { json["notBefore"] = Self.timestamp(notBefore) }
        if let notAfter = order.notAfter { json["notAfter"] = Self.timestamp(notAfter) }
        if let profile = order.profile { json["profile"] = profile }
        if let replaces = order.replaces { json["replaces"] = replaces }
        if let certificateID = order.certificateID, order.status == .valid { json["certificate"] = url("cert", certificateID) }
        if let error = order.errorJSON.flatMap(Self.object) { json["error"] = error }
        return json
    }

    func orderReply(_ order: Order, status: Int = 200) -> ACMEReply {
        var reply = ACMEReply(status: status, .json(orderJSON(order)), location: url("order", order.id))
        if order.status == .processing { reply.retryAfter = config.order.retryAfterSeconds }
        return reply
    }

    /// RFC 8555 §7.1.4. A pending authorization past its expiry shows as expired.
    func authorizationJSON(_ authorization: Authorization, _ challenges: [Challenge]) -> [String: any Sendable] {
        var status = authorization.status
        if status == .pending, authorization.expires < Date() { status = .expired }
        let enabled = core.validators
        var json: [String: any Sendable] = [
            "identifier": ["type": authorization.identifier.type, "value": authorization.identifier.value],
            "status": status.rawValue,
            "expires": Self.timestamp(authorization.expires),
            // Challenges of types no longer enabled are not offered.
            "challenges": challenges.filter { enabled[$0.type] != nil }.map { challengeJSON($0, accountID: authorization.accountID) },
        ]
        if authorization.wildcard { json["wildcard"] = true }
        return json
    }

    /// RFC 8555 §7.1.5 (and §8.2: the last error while retrying).
    func challengeJSON(_ challenge: Challenge, accountID: UUID) -> [String: any Sendable] {
        var json: [String: any Sendable] = [
            "type": challenge.type, "url": url("chall", challenge.id), "status": challenge.status.rawValue,
        ]
        if let token = challenge.token { json["token"] = token }
        if let validated = challenge.validatedAt { json["validated"] = Self.timestamp(validated) }
        if let error = challenge.errorJSON.flatMap(Self.object) { json["error"] = error }
        if challenge.type == "dns-persist-01" {
            json["accounturi"] = url("acct", accountID)
            json["issuer-domain-names"] = config.challenges.dnspersist01.issuerDomainNames
        }
        return json
    }

    static func object(_ text: String) -> [String: any Sendable]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return sendable(object) as? [String: any Sendable]
    }

    private static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let object as [String: Any]: return object.mapValues { sendable($0) }
        case let array as [Any]: return array.map { sendable($0) }
        case let string as String: return string
        case let int as Int: return int
        case let number as NSNumber: return number.intValue
        default: return "\(value)"
        }
    }

    /// RFC 3339 timestamps of newOrder (`notBefore`, `notAfter`).
    static func parseTimestamp(_ value: Any?, _ name: String) throws(Problem) -> Date? {
        guard let value, !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw Problem(.malformed, "\(name) must be an RFC 3339 timestamp") }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let date = try? fractional.parse(text) { return date }
        throw Problem(.malformed, "\(name) \"\(text)\" is not an RFC 3339 timestamp")
    }
}
