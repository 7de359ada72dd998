import COpenSSL

/// An OpenSSL public key (`EVP_PKEY`) owned by Swift: freed when the last reference goes.
/// Immutable after creation, so it may be shared across threads for verification.
final class PublicKey: @unchecked Sendable {
    let pkey: OpaquePointer

    /// Takes ownership of `pkey`.
    init(owning pkey: OpaquePointer) {
        self.pkey = pkey
    }

    deinit {
        EVP_PKEY_free(pkey)
    }

    /// Decodes a DER SubjectPublicKeyInfo; nil if OpenSSL refuses it or bytes are left over
    /// (for EC keys OpenSSL refuses points that are not on the curve).
    static func fromSubjectPublicKeyInfo(_ der: [UInt8]) -> PublicKey? {
        der.withUnsafeBufferPointer { buffer -> PublicKey? in
            guard let base = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            guard let pkey = d2i_PUBKEY(nil, &cursor, buffer.count) else {
                ERR_clear_error()
                return nil
            }
            let key = PublicKey(owning: pkey)
            guard let end = cursor, end == base + buffer.count else { return nil }
            return key
        }
    }

    /// An EC key from its OpenSSL group name and uncompressed point; nil when the point is
    /// not on the curve.
    static func ec(group: String, point: [UInt8]) -> PublicKey? {
        let pkey = point.withUnsafeBufferPointer { acmeeh_ec_public_key(group, $0.baseAddress, $0.count) }
        guard let pkey else {
            ERR_clear_error()
            return nil
        }
        return PublicKey(owning: pkey)
    }

    /// An Ed25519 key from its 32 raw bytes (RFC 8032 §5.1.5).
    static func ed25519(raw: [UInt8]) -> PublicKey? {
        guard raw.count == 32 else { return nil }
        let pkey = raw.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
        guard let pkey else {
            ERR_clear_error()
            return nil
        }
        return PublicKey(owning: pkey)
    }

    /// Whether `signature` verifies over `data` (EVP_DigestVerify, one-shot; `md` nil for
    /// EdDSA). ECDSA signatures are DER; PKCS#1 v1.5 is OpenSSL's RSA default.
    func verifies(_ signature: [UInt8], over data: [UInt8], md: OpaquePointer?) -> Bool {
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, md, nil, pkey) == 1 else {
            ERR_clear_error()
            return false
        }
        let result = signature.withUnsafeBufferPointer { sig in
            data.withUnsafeBufferPointer { tbs in
                EVP_DigestVerify(ctx, sig.baseAddress, sig.count, tbs.baseAddress, tbs.count)
            }
        }
        if result != 1 { ERR_clear_error() }
        return result == 1
    }

    /// OpenSSL's own public-key validation (for EC: on the curve, not infinity, right order).
    func passesPublicCheck() -> Bool {
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { return false }
        defer { EVP_PKEY_CTX_free(ctx) }
        let ok = EVP_PKEY_public_check(ctx) == 1
        if !ok { ERR_clear_error() }
        return ok
    }

    /// Size of the key in bits (RSA modulus, EC field).
    var bits: Int { Int(EVP_PKEY_get_bits(pkey)) }
}
