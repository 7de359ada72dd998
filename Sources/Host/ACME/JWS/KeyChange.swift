/// The payload of a key-change request (RFC 8555 §7.3.5): an inner JWS, signed by the
/// new key and carrying it as `jwk`, whose payload names the account and its old key.
///
/// `parse` does the checks that need only the request (after the outer JWS has been
/// verified with the account's current key); `check` those that need the account.
/// Whether the new key is already in use (409) is the caller's.
struct KeyChange: Sendable {
    let inner: FlattenedJWS
    /// The key the account is to use from now on (inner `jwk`).
    let newKey: JWK
    /// Payload `account`: the account URL.
    let account: String
    /// Payload `oldKey`: the account's current key.
    let oldKey: JWK

    static func parse(outer: FlattenedJWS) throws(Problem) -> KeyChange {
        guard outer.header.kid != nil else {
            throw Problem(.malformed, "key-change request must be signed with the account's \"kid\"")
        }
        let inner = try FlattenedJWS(object: try JSONObject.parse(outer.payload, what: "key-change payload"),
                                     role: .keyChangeInner)
        guard let newKey = inner.header.jwk else {  // the role guarantees it
            throw Problem(.malformed, "inner key-change JWS must contain \"jwk\"")
        }
        guard inner.header.url == outer.header.url else {
            throw Problem(.malformed, "inner key-change JWS \"url\" must equal the outer \"url\"")
        }
        try inner.header.alg.checkKey(newKey)
        guard inner.verify(key: newKey) else {
            throw Problem(.malformed, "inner key-change JWS does not verify with its own \"jwk\"")
        }
        let payload = try inner.payloadObject()
        guard let account = payload["account"] as? String, !account.isEmpty else {
            throw Problem(.malformed, "key-change payload must contain \"account\" (a URL string)")
        }
        guard let oldKeyObject = payload["oldKey"] as? [String: Any] else {
            throw Problem(.malformed, "key-change payload must contain \"oldKey\" (a JWK)")
        }
        return KeyChange(inner: inner, newKey: newKey, account: account, oldKey: try JWK(object: oldKeyObject))
    }

    /// RFC 8555 §7.3.5: `account` is the outer `kid` (the account URL) and `oldKey` is
    /// the account's current key; both refusals are `malformed`.
    func check(accountURL: String, currentKey: JWK) throws(Problem) {
        guard account == accountURL else {
            throw Problem(.malformed, "key-change \"account\" does not match the requesting account")
        }
        guard oldKey.isSameKey(as: currentKey) else {
            throw Problem(.malformed, "key-change \"oldKey\" is not the account's current key")
        }
    }
}
