/// The decoded JWS Protected Header of an ACME request (RFC 8555 §6.2): the algorithm,
/// the key (embedded `jwk` or account URL `kid`), the anti-replay nonce and the URL.
struct ProtectedHeader: Sendable {
    /// How the request names its key; exactly one of the two (RFC 8555 §6.2).
    enum KeyReference: Sendable {
        case jwk(JWK)
        case kid(String)
    }

    /// What the JWS is for, which decides the algorithms and members it may use.
    enum Role: Sendable {
        /// An ACME request signed by an account key (RFC 8555 §6.2).
        case request
        /// The external account binding inside newAccount (RFC 8555 §7.3.4): a MAC, `kid`, no nonce.
        case externalAccountBinding
        /// The inner JWS of a key change (RFC 8555 §7.3.5): `jwk`, nonce not required.
        case keyChangeInner
    }

    let alg: JWSAlgorithm
    let key: KeyReference
    /// Present on requests (the pipeline requires it, `badNonce`); absent on EAB.
    let nonce: String?
    /// RFC 8555 §6.4: every ACME JWS names the URL it was sent to.
    let url: String

    var jwk: JWK? {
        if case .jwk(let key) = key { return key }
        return nil
    }

    var kid: String? {
        if case .kid(let kid) = key { return kid }
        return nil
    }

    /// The nonce, or `badNonce` when the request has none (RFC 8555 §6.5).
    func requireNonce() throws(Problem) -> String {
        guard let nonce, !nonce.isEmpty else {
            throw Problem(.badNonce, "JWS protected header has no \"nonce\"")
        }
        return nonce
    }

    init(_ header: [String: Any], role: Role) throws(Problem) {
        // RFC 8555 §6.2 (and the reference): no unencoded payloads, no critical extensions.
        for name in ["b64", "crit"] where header[name] != nil {
            throw Problem(.malformed, "JWS protected header member \"\(name)\" is not supported")
        }
        guard let algValue = header["alg"] else {
            throw Problem(.malformed, "JWS protected header has no \"alg\"")
        }
        guard let algName = algValue as? String else {
            throw Problem(.malformed, "JWS protected header \"alg\" must be a string")
        }
        switch role {
        case .request, .keyChangeInner:
            alg = try JWSAlgorithm.forAccountKey(algName)
        case .externalAccountBinding:
            // RFC 8555 §7.3.4: "alg" MUST indicate a MAC-based algorithm.
            guard let mac = JWSAlgorithm(rawValue: algName), mac.isMAC else {
                throw Problem(.badSignatureAlgorithm, "external account binding must use HS256, HS384 or HS512, not \"\(algName)\"")
                    .withAlgorithms(["HS256", "HS384", "HS512"])
            }
            alg = mac
        }

        let jwkValue = header["jwk"], kidValue = header["kid"]
        switch (jwkValue, kidValue) {
        case (.some, .some):
            throw Problem(.malformed, "JWS protected header must not contain both \"jwk\" and \"kid\"")
        case (nil, nil):
            throw Problem(.malformed, "JWS protected header must contain \"jwk\" or \"kid\"")
        case (.some(let value), nil):
            guard role != .externalAccountBinding else {
                throw Problem(.malformed, "external account binding must use \"kid\", not \"jwk\"")
            }
            guard let object = value as? [String: Any] else {
                throw Problem(.malformed, "JWS protected header \"jwk\" must be a JSON object")
            }
            key = .jwk(try JWK(object: object))
        case (nil, .some(let value)):
            // RFC 8555 §7.3.5: the inner JWS of a key change carries the new key itself.
            guard role != .keyChangeInner else {
                throw Problem(.malformed, "inner key-change JWS must use \"jwk\", not \"kid\"")
            }
            guard let kid = value as? String, !kid.isEmpty else {
                throw Problem(.malformed, "JWS protected header \"kid\" must be a non-empty string")
            }
            key = .kid(kid)
        }

        switch header["nonce"] {
        case nil:
            nonce = nil
        case let value as String:
            // RFC 8555 §7.3.4: the binding JWS MUST NOT contain a nonce.
            guard role != .externalAccountBinding else {
                throw Problem(.malformed, "external account binding must not contain \"nonce\"")
            }
            nonce = value
        default:
            // RFC 8555 §6.5.2: a value that is not a valid nonce is badNonce.
            throw Problem(.badNonce, "JWS protected header \"nonce\" must be a string")
        }

        guard let urlValue = header["url"] else {
            throw Problem(.malformed, "JWS protected header has no \"url\"")
        }
        guard let url = urlValue as? String, !url.isEmpty else {
            throw Problem(.malformed, "JWS protected header \"url\" must be a non-empty string")
        }
        self.url = url
    }
}
