import COpenSSL

/// A key pair made with OpenSSL: the account key that signs JWS (ES256 or RS256), or the
/// certificate key whose public half a CSR carries.
final class KeyPair {
    enum Kind: String, CaseIterable {
        case ec256, rsa2048
    }

    let kind: Kind
    let pkey: OpaquePointer

    init(_ kind: Kind) throws {
        self.kind = kind
        let (algorithm, configure): (String, (OpaquePointer) -> Int32) = switch kind {
        case .ec256: ("EC", { EVP_PKEY_CTX_set_group_name($0, "P-256") })
        case .rsa2048: ("RSA", { EVP_PKEY_CTX_set_rsa_keygen_bits($0, 2048) })
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, algorithm, nil) else {
            throw BenchFailure.openSSL("cannot create a key context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, configure(context) == 1,
              EVP_PKEY_generate(context, &key) == 1, let key else {
            throw BenchFailure.openSSL("cannot generate a \(kind.rawValue) key")
        }
        pkey = key
    }

    deinit { EVP_PKEY_free(pkey) }

    /// The JWS `alg` this key signs with (RFC 7518 §3.1).
    var algorithm: String { kind == .ec256 ? "ES256" : "RS256" }

    /// The public JWK with its required members in lexicographic order and no whitespace,
    /// so the same text is also the thumbprint input (RFC 7638 §3).
    private(set) lazy var jwk: String = {
        switch kind {
        case .ec256:
            var point = [UInt8](repeating: 0, count: 65)
            var length = 0
            guard EVP_PKEY_get_octet_string_param(pkey, "encoded-pub-key", &point, point.count, &length) == 1,
                  length == 65, point[0] == 4 else { return "" }
            let x = Base64URL.encode(point[1..<33]), y = Base64URL.encode(point[33..<65])
            return #"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#
        case .rsa2048:
            let n = Base64URL.encode(bignum("n")), e = Base64URL.encode(bignum("e"))
            return #"{"e":"\#(e)","kty":"RSA","n":"\#(n)"}"#
        }
    }()

    /// RFC 7638 thumbprint: base64url(SHA-256(JWK)), for key authorizations (RFC 8555 §8.1).
    private(set) lazy var thumbprint: String = Base64URL.encode(Digest.sha256(Array(jwk.utf8)))

    /// SHA-256 signature over `message`: raw r‖s (32 bytes each) for EC (RFC 7518 §3.4),
    /// PKCS#1 v1.5 for RSA.
    func sign(_ message: [UInt8]) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw BenchFailure.openSSL("out of memory") }
        defer { EVP_MD_CTX_free(context) }
        var length = 0
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, pkey) == 1,
              EVP_DigestSign(context, nil, &length, message, message.count) == 1 else {
            throw BenchFailure.openSSL("cannot start a signature")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw BenchFailure.openSSL("cannot sign")
        }
        signature.removeSubrange(length...)
        return kind == .ec256 ? try Self.rawECDSA(der: signature) : signature
    }

    private static func rawECDSA(der: [UInt8]) throws -> [UInt8] {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &pointer, buffer.count)
        }
        guard let parsed else { throw BenchFailure.openSSL("cannot decode an ECDSA signature") }
        defer { ECDSA_SIG_free(parsed) }
        var r: OpaquePointer?, s: OpaquePointer?
        ECDSA_SIG_get0(parsed, &r, &s)
        var raw = [UInt8](repeating: 0, count: 64)
        guard BN_bn2binpad(r, &raw, 32) == 32,
              raw.withUnsafeMutableBufferPointer({ BN_bn2binpad(s, $0.baseAddress! + 32, 32) }) == 32 else {
            throw BenchFailure.openSSL("cannot encode an ECDSA signature")
        }
        return raw
    }

    private func bignum(_ name: String) -> [UInt8] {
        var value: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, name, &value) == 1, let value else { return [] }
        defer { BN_free(value) }
        var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(value) + 7) / 8))
        _ = BN_bn2bin(value, &bytes)
        return bytes
    }
}

/// SHA-256 through OpenSSL's one-shot function.
enum Digest {
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        _ = SHA256(bytes, bytes.count, &digest)
        return digest
    }
}
