/// An ACME request body: a JWS in flattened JSON serialization (RFC 7515 §7.2.2),
/// the only form RFC 8555 §6.2 allows. The raw base64url texts are kept, since the
/// signature covers them as sent (`protected "." payload`).
struct FlattenedJWS: Sendable {
    let protectedBase64: String
    let payloadBase64: String
    let signature: [UInt8]
    let header: ProtectedHeader
    /// The decoded payload; empty for POST-as-GET.
    let payload: [UInt8]

    /// RFC 8555 §6.3: an empty payload (`""`) is a POST-as-GET request.
    var isPostAsGet: Bool { payloadBase64.isEmpty }

    /// The JWS Signing Input (RFC 7515 §5.1 step 8).
    var signingInput: [UInt8] { Array(protectedBase64.utf8) + [UInt8(ascii: ".")] + Array(payloadBase64.utf8) }

    /// Parses an account request body. Every refusal is `malformed` with a precise detail,
    /// except an unusable algorithm (`badSignatureAlgorithm`) or key (`badPublicKey`) and a
    /// non-string nonce (`badNonce`).
    static func parse(_ body: [UInt8]) throws(Problem) -> FlattenedJWS {
        let trimmed = body.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D })
        if let first = trimmed.first, first != UInt8(ascii: "{"), body.contains(UInt8(ascii: ".")) {
            throw Problem(.malformed, "JWS compact serialization is not supported; use flattened JSON (RFC 8555 §6.2)")
        }
        return try FlattenedJWS(object: try JSONObject.parse(body, what: "JWS"), role: .request)
    }

    /// Parses a flattened JWS already decoded to a JSON object (the EAB and key-change
    /// inner JWS arrive that way).
    init(object: [String: Any], role: ProtectedHeader.Role) throws(Problem) {
        if object["signatures"] != nil {
            throw Problem(.malformed, "JWS general serialization is not supported; use flattened JSON (RFC 8555 §6.2)")
        }
        if object["header"] != nil {
            throw Problem(.malformed, "JWS unprotected \"header\" is not allowed (RFC 8555 §6.2)")
        }
        let expected: Set<String> = ["protected", "payload", "signature"]
        if let extra = object.keys.sorted().first(where: { !expected.contains($0) }) {
            throw Problem(.malformed, "JWS has unexpected member \"\(extra)\"; only protected, payload and signature are allowed")
        }
        func member(_ name: String) throws(Problem) -> String {
            guard let value = object[name] else { throw Problem(.malformed, "JWS has no \"\(name)\"") }
            guard let text = value as? String else { throw Problem(.malformed, "JWS \"\(name)\" must be a string") }
            return text
        }
        protectedBase64 = try member("protected")
        payloadBase64 = try member("payload")
        let signatureBase64 = try member("signature")

        guard !protectedBase64.isEmpty, let headerBytes = Base64URL.decode(protectedBase64) else {
            throw Problem(.malformed, "JWS \"protected\" is not non-empty unpadded base64url")
        }
        // The header first: `alg: none` comes with an empty signature, and is
        // badSignatureAlgorithm (RFC 8555 §6.2), not a malformed signature.
        header = try ProtectedHeader(try JSONObject.parse(headerBytes, what: "JWS protected header"), role: role)
        guard let payload = Base64URL.decode(payloadBase64) else {
            throw Problem(.malformed, "JWS \"payload\" is not unpadded base64url")
        }
        guard let signature = Base64URL.decode(signatureBase64), !signature.isEmpty else {
            throw Problem(.malformed, "JWS \"signature\" is not non-empty unpadded base64url")
        }
        self.payload = payload
        self.signature = signature
    }

    /// The payload as a JSON object (`malformed` if it is not one; POST-as-GET has none).
    func payloadObject() throws(Problem) -> [String: Any] {
        try JSONObject.parse(payload, what: "JWS payload")
    }
}
