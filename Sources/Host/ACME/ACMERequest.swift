import Foundation

/// A POST whose JWS has passed every check of RFC 8555 §6.2–6.5: what a resource
/// handler works from.
struct ACMERequest: Sendable {
    /// The URL the client signed (the resource's own URL).
    let url: String
    let jws: FlattenedJWS
    /// The signing account, for requests signed with `kid`.
    let account: Account?
    /// The signing key.
    let key: JWK
    /// Query items of the request URL (e.g. `cursor` of the orders list).
    let query: [String: String]
    /// What the request's first batch must open with (nonce, signer check).
    var requestGuard: RequestGuard? = nil
    /// The peer's address, for the audit trail.
    var clientIP: String? = nil

    /// RFC 8555 §6.3: an empty payload is a POST-as-GET.
    var isPostAsGet: Bool { jws.payload.isEmpty }

    /// The signing account; the gateway guarantees it for `kid`-signed resources.
    var signer: Account {
        get throws(Problem) {
            guard let account else { throw Problem(.malformed, "this resource requires a kid-signed request") }
            return account
        }
    }

    /// Decodes the payload as a JSON object of `T`, refusing anything else as `malformed`.
    func decode<T: Decodable>(_ type: T.Type) throws(Problem) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(jws.payload))
        } catch {
            throw Problem(.malformed, "payload is not a valid \(T.self) JSON object: \(Self.describe(error))")
        }
    }

    /// The payload as a JSON object (for resources whose fields are all optional).
    func object() throws(Problem) -> [String: Any] {
        if jws.payload.isEmpty { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(jws.payload)) as? [String: Any] else {
            throw Problem(.malformed, "payload is not a JSON object")
        }
        return object
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "wrong type at \"\(path)\""
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription
        default: return "\(error)"
        }
    }
}
