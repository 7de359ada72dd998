import COpenSSL
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// An account (or certificate) key on the test side, generated or loaded with OpenSSL,
/// that signs JWS the way RFC 7515/7518 and RFC 8555 §6.2 want it (ES*: raw r‖s).
final class TestKey: @unchecked Sendable {
    let pkey: OpaquePointer
    /// The JWS `alg` this key signs with.
    let alg: String

    private init(pkey: OpaquePointer, alg: String) {
        self.pkey = pkey
        self.alg = alg
    }

    deinit { EVP_PKEY_free(pkey) }

    /// A fresh EC key: "P-256" (ES256), "P-384" (ES384) or "P-521" (ES512).
    static func ec(_ curve: String = "P-256") -> TestKey {
        let ctx = EVP_PKEY_CTX_new_from_name(nil, "EC", nil)!
        defer { EVP_PKEY_CTX_free(ctx) }
        precondition(EVP_PKEY_keygen_init(ctx) == 1)
        precondition(EVP_PKEY_CTX_set_group_name(ctx, curve) == 1)
        var pkey: OpaquePointer?
        precondition(EVP_PKEY_generate(ctx, &pkey) == 1)
        return TestKey(pkey: pkey!, alg: Self.ecAlg(bits: Int(EVP_PKEY_get_bits(pkey!))))
    }

    /// A fresh RSA key (RS256).
    static func rsa(bits: Int32 = 2048) -> TestKey {
        let ctx = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil)!
        defer { EVP_PKEY_CTX_free(ctx) }
        precondition(EVP_PKEY_keygen_init(ctx) == 1)
        precondition(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) == 1)
        var pkey: OpaquePointer?
        precondition(EVP_PKEY_generate(ctx, &pkey) == 1)
        return TestKey(pkey: pkey!, alg: "RS256")
    }

    /// A PEM private key (e.g. a certificate's key written by `openssl req`).
    static func pem(_ text: String) throws -> TestKey {
        // BIO_new_mem_buf does not copy: the BIO must not outlive the buffer's closure.
        let read = Array(text.utf8).withUnsafeBytes { buffer -> OpaquePointer? in
            let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count))!
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let pkey = read else { throw CLIFailure("not a PEM private key") }
        let isRSA = EVP_PKEY_is_a(pkey, "RSA") == 1
        return TestKey(pkey: pkey, alg: isRSA ? "RS256" : ecAlg(bits: Int(EVP_PKEY_get_bits(pkey))))
    }

    private static func ecAlg(bits: Int) -> String {
        switch bits {
        case 256: "ES256"
        case 384: "ES384"
        default: "ES512"
        }
    }

    private var isRSA: Bool { EVP_PKEY_is_a(pkey, "RSA") == 1 }
    private var coordinateSize: Int { (Int(EVP_PKEY_get_bits(pkey)) + 7) / 8 }

    /// The public JWK (RFC 7517/7518), members as strings.
    var jwk: [String: String] {
        if isRSA {
            return ["kty": "RSA", "n": Base64URLTest.encode(bignum("n")), "e": Base64URLTest.encode(bignum("e"))]
        }
        var point = [UInt8](repeating: 0, count: 200)
        var length = 0
        precondition(EVP_PKEY_get_octet_string_param(pkey, "encoded-pub-key", &point, point.count, &length) == 1)
        let size = coordinateSize
        precondition(length == 1 + 2 * size && point[0] == 4, "expected an uncompressed point")
        let curve = size == 32 ? "P-256" : size == 48 ? "P-384" : "P-521"
        return ["kty": "EC", "crv": curve,
                "x": Base64URLTest.encode(Array(point[1...size])),
                "y": Base64URLTest.encode(Array(point[(1 + size)...(2 * size)]))]
    }

    /// RFC 7638 canonical JSON and thumbprint.
    var canonicalJWK: String {
        let members = isRSA ? ["e", "kty", "n"] : ["crv", "kty", "x", "y"]
        let j = jwk
        return "{" + members.map { "\"\($0)\":\"\(j[$0]!)\"" }.joined(separator: ",") + "}"
    }

    var thumbprint: String { Base64URLTest.encode(Self.sha256(Array(canonicalJWK.utf8))) }

    private func bignum(_ name: String) -> [UInt8] {
        var bn: OpaquePointer?
        precondition(EVP_PKEY_get_bn_param(pkey, name, &bn) == 1)
        defer { BN_free(bn) }
        var out = [UInt8](repeating: 0, count: Int((BN_num_bits(bn) + 7) / 8))
        _ = BN_bn2bin(bn, &out)
        return out
    }

    /// Signs with SHA-256/384/512 as `alg` says; ECDSA signatures as raw r‖s.
    func sign(_ data: [UInt8]) -> [UInt8] {
        let md: OpaquePointer? = switch alg {
        case "ES384": EVP_sha384()
        case "ES512": EVP_sha512()
        default: EVP_sha256()
        }
        let ctx = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(ctx) }
        precondition(EVP_DigestSignInit(ctx, nil, md, nil, pkey) == 1)
        var length = 0
        precondition(EVP_DigestSign(ctx, nil, &length, data, data.count) == 1)
        var signature = [UInt8](repeating: 0, count: length)
        precondition(EVP_DigestSign(ctx, &signature, &length, data, data.count) == 1)
        signature = Array(signature.prefix(length))
        if isRSA { return signature }
        // DER ECDSA-Sig-Value → r‖s, each left-padded to the coordinate size (RFC 7518 §3.4).
        return signature.withUnsafeBufferPointer { buffer -> [UInt8] in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let sig = d2i_ECDSA_SIG(nil, &cursor, buffer.count)!
            defer { ECDSA_SIG_free(sig) }
            var r: OpaquePointer?, s: OpaquePointer?
            ECDSA_SIG_get0(sig, &r, &s)
            let size = coordinateSize
            var out = [UInt8](repeating: 0, count: 2 * size)
            out.withUnsafeMutableBufferPointer { o in
                _ = BN_bn2binpad(r, o.baseAddress, Int32(size))
                _ = BN_bn2binpad(s, o.baseAddress! + size, Int32(size))
            }
            return out
        }
    }

    static func sha256(_ data: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        _ = SHA256(data, data.count, &digest)
        return digest
    }
}

/// base64url without padding (RFC 7515 §2), for the test side.
enum Base64URLTest {
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}

/// A hand-rolled ACME client for tests: it builds every JWS itself so that tests can get
/// each part wrong on purpose. Immutable after `init`, so threads may share one.
final class ACMETestClient: @unchecked Sendable {
    let directoryURL: String
    let directory: [String: Any]

    /// What the server answered.
    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: Data
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
        var location: String? { header("Location") }
        /// The problem type without `urn:ietf:params:acme:error:` (nil if not an ACME problem).
        var problem: String? {
            guard let type = json?["type"] as? String else { return nil }
            return type.hasPrefix("urn:ietf:params:acme:error:") ? String(type.dropFirst(27)) : type
        }
    }

    /// What a request's payload is.
    enum Payload {
        /// POST-as-GET (RFC 8555 §6.3).
        case empty
        case json(Any)
        case raw([UInt8])

        var bytes: [UInt8] {
            switch self {
            case .empty: []
            case .json(let object): Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
            case .raw(let bytes): bytes
            }
        }
    }

    init(directoryURL: String) throws {
        self.directoryURL = directoryURL
        let reply = try HTTP.get(directoryURL)
        guard reply.status == 200, let json = reply.json else { throw CLIFailure("no directory at \(directoryURL)") }
        directory = json
    }

    /// A directory URL: "newNonce", "newAccount", "newOrder", "revokeCert", "keyChange", …
    func url(_ resource: String) -> String { directory[resource] as? String ?? "" }

    /// A fresh nonce from newNonce (HEAD).
    func newNonce() throws -> String {
        var request = URLRequest(url: URL(string: url("newNonce"))!)
        request.httpMethod = "HEAD"
        let reply = try HTTP.send(request)
        guard let nonce = reply.header("Replay-Nonce") else { throw CLIFailure("newNonce gave no Replay-Nonce") }
        return nonce
    }

    /// A flattened JWS (RFC 7515 §7.2.2) as a JSON object.
    static func jws(protected: [String: Any], payload: [UInt8], key: TestKey) -> [String: String] {
        let protectedText = Base64URLTest.encode(
            Array(try! JSONSerialization.data(withJSONObject: protected, options: [.sortedKeys])))
        let payloadText = Base64URLTest.encode(payload)
        let signature = key.sign(Array("\(protectedText).\(payloadText)".utf8))
        return ["protected": protectedText, "payload": payloadText, "signature": Base64URLTest.encode(signature)]
    }

    /// The protected header an ACME request signed by `key` carries: `kid` when given,
    /// else `jwk`. `override` adds or replaces members; NSNull removes one.
    func protectedHeader(url: String, key: TestKey, kid: String?, nonce: String,
                         override: [String: Any] = [:]) -> [String: Any] {
        var header: [String: Any] = ["alg": key.alg, "nonce": nonce, "url": url]
        if let kid { header["kid"] = kid } else { header["jwk"] = key.jwk }
        for (name, value) in override {
            if value is NSNull { header[name] = nil } else { header[name] = value }
        }
        return header
    }

    /// POSTs a JWS. `nonce` nil = a fresh one; `tamper` may change the JWS object before it is sent.
    func post(_ url: String, _ payload: Payload, key: TestKey, kid: String? = nil, nonce: String? = nil,
              override: [String: Any] = [:], tamper: ((inout [String: String]) -> Void)? = nil,
              contentType: String = "application/jose+json") throws -> Reply {
        let header = protectedHeader(url: url, key: key, kid: kid, nonce: try nonce ?? newNonce(), override: override)
        var body = Self.jws(protected: header, payload: payload.bytes, key: key)
        tamper?(&body)
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return try postRaw(url, Array(data), contentType: contentType)
    }

    /// POSTs bytes as they are.
    func postRaw(_ url: String, _ body: [UInt8], contentType: String = "application/jose+json") throws -> Reply {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.timeoutInterval = 30
        let response = try HTTP.send(request)
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

    /// newAccount with `payload` (default: agree to the terms); returns the reply and the account URL.
    @discardableResult
    func newAccount(_ key: TestKey, _ payload: [String: Any] = ["termsOfServiceAgreed": true]) throws -> (Reply, String) {
        let reply = try post(url("newAccount"), .json(payload), key: key)
        return (reply, reply.location ?? "")
    }

    /// An external account binding (RFC 8555 §7.3.4) for `key`, MAC'd with `hmacKey`.
    func externalAccountBinding(kid: String, hmacKey: [UInt8], key: TestKey, url: String? = nil) -> [String: String] {
        let protected: [String: Any] = ["alg": "HS256", "kid": kid, "url": url ?? self.url("newAccount")]
        let protectedText = Base64URLTest.encode(
            Array(try! JSONSerialization.data(withJSONObject: protected, options: [.sortedKeys])))
        let payloadText = Base64URLTest.encode(Array(key.canonicalJWK.utf8))
        var mac = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let input = Array("\(protectedText).\(payloadText)".utf8)
        _ = HMAC(EVP_sha256(), hmacKey, Int32(hmacKey.count), input, input.count, &mac, &length)
        return ["protected": protectedText, "payload": payloadText, "signature": Base64URLTest.encode(mac)]
    }
}
