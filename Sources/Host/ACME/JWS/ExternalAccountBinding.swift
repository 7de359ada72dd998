/// The `externalAccountBinding` of a newAccount request (RFC 8555 §7.3.4): a JWS,
/// MAC'd with a key the CA handed out, whose payload is the account's own key.
/// Parse it first to learn `kid` (to look the MAC key up), then `verify`.
struct ExternalAccountBinding: Sendable {
    let jws: FlattenedJWS

    /// The key identifier the CA gave with the MAC key.
    var kid: String { jws.header.kid ?? "" }

    /// Parses the value of the `externalAccountBinding` member (`malformed` if it is not a
    /// flattened JWS with alg HS256/384/512, `kid`, `url` and no nonce).
    init(_ value: Any) throws(Problem) {
        guard let object = value as? [String: Any] else {
            throw Problem(.malformed, "externalAccountBinding must be a JWS object")
        }
        jws = try FlattenedJWS(object: object, role: .externalAccountBinding)
    }

    /// The binding in a newAccount payload, or nil when the payload has none.
    static func inNewAccountPayload(_ payload: [String: Any]) throws(Problem) -> ExternalAccountBinding? {
        guard let value = payload["externalAccountBinding"] else { return nil }
        return try ExternalAccountBinding(value)
    }

    /// Checks the binding, in this order: `url` is the newAccount URL (`malformed`, as
    /// for the outer JWS, RFC 8555 §6.4); the MAC verifies under `hmacKey` in constant time
    /// (`unauthorized`); the payload is a JWK (`malformed`) equal to the outer key
    /// (`unauthorized`: the binding was made for another key). Returns the kid.
    ///
    /// For an unknown kid, call it with a random key anyway so that timing does not tell
    /// known kids from unknown ones.
    func verify(hmacKey: [UInt8], outerJWK: JWK, expectedURL: String) throws(Problem) -> String {
        guard jws.header.url == expectedURL else {
            throw Problem(.malformed, "externalAccountBinding \"url\" must be the newAccount URL \(expectedURL)")
        }
        guard jws.verifyMAC(key: hmacKey) else {
            throw Problem(.unauthorized, "externalAccountBinding signature does not verify")
        }
        let bound = try JWK(json: jws.payload)
        // Both sides are canonical JSON built from validated members: equal text ⇔ same key.
        guard Digest.constantTimeEqual(Array(bound.canonicalJSON.utf8), Array(outerJWK.canonicalJSON.utf8)) else {
            throw Problem(.unauthorized, "externalAccountBinding payload is not the account's key")
        }
        return kid
    }
}

/// RFC 8555 §7.3.4 binding check; see `ExternalAccountBinding.verify`. Returns the kid.
func verifyEAB(_ eab: ExternalAccountBinding, hmacKey: [UInt8], outerJWK: JWK, expectedURL: String) throws(Problem) -> String {
    try eab.verify(hmacKey: hmacKey, outerJWK: outerJWK, expectedURL: expectedURL)
}
