import COpenSSL

/// A fresh P-256 key and a CSR for some DNS names, signed with it: what
/// `acmeeh ca test-sign` sends through a CA plugin (the key is never stored), and what the
/// OCSP responder has its delegated certificate issued for (with a key it keeps).
enum ThrowawayCSR {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func make(dnsNames: [String]) throws -> [UInt8] {
        guard let key = generateKey() else { throw failure("cannot generate a P-256 key") }
        defer { EVP_PKEY_free(key) }
        return try make(dnsNames: dnsNames, key: key)
    }

    /// A CSR for `dnsNames` with the caller's key (an `EVP_PKEY`, which the caller frees).
    static func make(dnsNames: [String], key: OpaquePointer) throws -> [UInt8] {
        guard let request = X509_REQ_new() else { throw failure("out of memory") }
        defer { X509_REQ_free(request) }
        guard X509_REQ_set_version(request, 0) == 1, X509_REQ_set_pubkey(request, key) == 1 else {
            throw failure("cannot set the CSR's key")
        }
        if let name = X509_NAME_new() {
            defer { X509_NAME_free(name) }
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, dnsNames[0], -1, -1, 0)
            X509_REQ_set_subject_name(request, name)
        }
        let sans = dnsNames.map { "DNS:\($0)" }.joined(separator: ",")
        guard let extensions = acmeeh_sk_X509_EXTENSION_new_null() else { throw failure("out of memory") }
        defer { acmeeh_sk_X509_EXTENSION_pop_free(extensions) }
        guard let san = X509V3_EXT_conf_nid(nil, nil, NID_subject_alt_name, sans) else {
            throw failure("cannot encode subjectAltName \(sans)")
        }
        _ = acmeeh_sk_X509_EXTENSION_push(extensions, san)
        guard X509_REQ_add_extensions(request, extensions) == 1,
              X509_REQ_sign(request, key, EVP_sha256()) > 0 else {
            throw failure("cannot sign the CSR")
        }
        let length = i2d_X509_REQ(request, nil)
        guard length > 0 else { throw failure("cannot encode the CSR") }
        var der = [UInt8](repeating: 0, count: Int(length))
        der.withUnsafeMutableBufferPointer { buffer in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = i2d_X509_REQ(request, &pointer)
        }
        return der
    }

    /// A fresh P-256 key (the caller frees it with EVP_PKEY_free); nil when OpenSSL fails.
    static func generateKey() -> OpaquePointer? {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { return nil }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1,
              EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
              EVP_PKEY_generate(context, &key) == 1 else { return nil }
        return key
    }

    private static func failure(_ what: String) -> Failure {
        let code = ERR_get_error()
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        let reason = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Failure(description: code == 0 ? what : "\(what): \(reason)")
    }
}
