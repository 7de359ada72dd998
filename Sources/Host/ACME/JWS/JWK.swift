/// An account public key as sent in a JWS `jwk` header (RFC 7517), parsed into an
/// OpenSSL key. Only the members RFC 7638 requires are kept; they define the key's
/// identity (`thumbprint`, `canonicalJSON`) for comparison and storage.
struct JWK: Sendable {
    /// The kind of key and what the policy and the algorithms need to know about it.
    enum KeyType: Sendable, Equatable {
        case ec(Curve)
        /// `modulusBits` counts the modulus as sent; `exponent` is big-endian, minimal.
        case rsa(modulusBits: Int, exponent: [UInt8])
        case ed25519
    }

    /// The NIST curves of RFC 7518 §6.2.1.1.
    enum Curve: String, Sendable, CaseIterable {
        case p256 = "P-256", p384 = "P-384", p521 = "P-521"

        /// Bytes of one coordinate (and of `r` and `s` in a JWS signature).
        var coordinateSize: Int {
            switch self {
            case .p256: 32
            case .p384: 48
            case .p521: 66
            }
        }

        /// OpenSSL's name of the group.
        var openSSLGroup: String {
            switch self {
            case .p256: "prime256v1"
            case .p384: "secp384r1"
            case .p521: "secp521r1"
            }
        }
    }

    let keyType: KeyType
    let publicKey: PublicKey
    /// RFC 7638 §3.2 required members, base64url values as received (canonical by
    /// construction: strict base64url, exact lengths, no leading zeros).
    let requiredMembers: [(name: String, value: String)]

    /// RFC 7638 §3: the required members in lexicographic order, no whitespace. Values are
    /// base64url or fixed names, so no JSON escaping is ever needed.
    var canonicalJSON: String {
        "{" + requiredMembers.map { "\"\($0.name)\":\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    /// RFC 7638 thumbprint with SHA-256, base64url (also the key authorization's suffix,
    /// RFC 8555 §8.1).
    var thumbprint: String {
        Base64URL.encode(Digest.sha256(Array(canonicalJSON.utf8)))
    }

    /// Same key (same required members).
    func isSameKey(as other: JWK) -> Bool {
        canonicalJSON == other.canonicalJSON
    }

    /// Members that would make this a private key (RFC 7518 §6.2.2, §6.3.2; `k` §6.4.1).
    static let privateMembers: Set<String> = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

    /// RSA moduli above OpenSSL's verification limit are refused outright.
    static let maxRSAModulusBits = 16384

    /// Parses JSON text of one JWK object.
    init(json bytes: [UInt8]) throws(Problem) {
        try self.init(object: try JSONObject.parse(bytes, what: "JWK"))
    }

    /// Parses a decoded JWK object. Structure errors are `malformed`; a key type, curve or
    /// key value the server cannot use is `badPublicKey` (RFC 8555 §6.7).
    init(object: [String: Any]) throws(Problem) {
        if let leak = object.keys.first(where: { Self.privateMembers.contains($0) }) {
            throw Problem(.malformed, "JWK contains private key member \"\(leak)\"")
        }
        let kty = try Self.string(object, "kty")
        switch kty {
        case "EC":
            let crvName = try Self.string(object, "crv")
            guard let curve = Curve(rawValue: crvName) else {
                throw Problem(.badPublicKey, "unsupported EC curve \"\(crvName)\"")
            }
            let xText = try Self.string(object, "x"), yText = try Self.string(object, "y")
            let x = try Self.bytes(xText, "x"), y = try Self.bytes(yText, "y")
            // RFC 7518 §6.2.1.2/3: coordinates are exactly the field size.
            guard x.count == curve.coordinateSize, y.count == curve.coordinateSize else {
                throw Problem(.malformed, "JWK \(crvName) coordinates must be \(curve.coordinateSize) bytes each")
            }
            guard let key = PublicKey.ec(group: curve.openSSLGroup, point: [0x04] + x + y), key.passesPublicCheck() else {
                throw Problem(.badPublicKey, "JWK EC point is not a valid \(crvName) public key")
            }
            keyType = .ec(curve)
            publicKey = key
            requiredMembers = [("crv", crvName), ("kty", kty), ("x", xText), ("y", yText)]
        case "RSA":
            let nText = try Self.string(object, "n"), eText = try Self.string(object, "e")
            let n = try Self.bytes(nText, "n"), e = try Self.bytes(eText, "e")
            // RFC 7518 §6.3.1.1/2: minimum number of octets, so one key has one thumbprint.
            guard let n0 = n.first, n0 != 0, let e0 = e.first, e0 != 0 else {
                throw Problem(.malformed, "JWK RSA \"n\" and \"e\" must be non-empty without leading zero bytes")
            }
            let bits = (n.count - 1) * 8 + (8 - n0.leadingZeroBitCount)
            guard bits <= Self.maxRSAModulusBits, e.count <= 8 else {
                throw Problem(.badPublicKey, "JWK RSA key is too large (\(bits)-bit modulus, \(e.count * 8)-bit exponent)")
            }
            let rsaPublicKey = DER.sequence(DER.unsignedInteger(n), DER.unsignedInteger(e))
            let spki = DER.sequence(DER.sequence(DER.rsaEncryption, DER.null), DER.bitString(rsaPublicKey))
            guard let key = PublicKey.fromSubjectPublicKeyInfo(spki) else {
                throw Problem(.badPublicKey, "JWK RSA key is not a valid public key")
            }
            keyType = .rsa(modulusBits: bits, exponent: e)
            publicKey = key
            requiredMembers = [("e", eText), ("kty", kty), ("n", nText)]
        case "OKP":
            let crvName = try Self.string(object, "crv")
            // RFC 8037 §2; Ed448 and the X curves are not signature keys we accept.
            guard crvName == "Ed25519" else {
                throw Problem(.badPublicKey, "unsupported OKP curve \"\(crvName)\"")
            }
            let xText = try Self.string(object, "x")
            let x = try Self.bytes(xText, "x")
            guard x.count == 32 else {
                throw Problem(.malformed, "JWK Ed25519 \"x\" must be 32 bytes")
            }
            guard let key = PublicKey.ed25519(raw: x) else {
                throw Problem(.badPublicKey, "JWK Ed25519 key is not a valid public key")
            }
            keyType = .ed25519
            publicKey = key
            requiredMembers = [("crv", crvName), ("kty", kty), ("x", xText)]
        default:
            throw Problem(.badPublicKey, "unsupported JWK key type \"\(kty)\"")
        }
    }

    private static func string(_ object: [String: Any], _ name: String) throws(Problem) -> String {
        guard let value = object[name] else {
            throw Problem(.malformed, "JWK is missing \"\(name)\"")
        }
        guard let text = value as? String else {
            throw Problem(.malformed, "JWK \"\(name)\" must be a string")
        }
        return text
    }

    private static func bytes(_ text: String, _ name: String) throws(Problem) -> [UInt8] {
        guard let bytes = Base64URL.decode(text) else {
            throw Problem(.malformed, "JWK \"\(name)\" is not unpadded base64url")
        }
        return bytes
    }
}
