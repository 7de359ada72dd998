import COpenSSL

/// The CSR a flow finalizes with (RFC 8555 §7.4): a fresh key, CN the first name, every
/// name in subjectAltName, signed with SHA-256; DER, ready for base64url.
enum CertificateRequest {
    static func der(names: [String], key: KeyPair) throws -> [UInt8] {
        guard let request = X509_REQ_new() else { throw BenchFailure.openSSL("out of memory") }
        defer { X509_REQ_free(request) }
        guard X509_REQ_set_version(request, 0) == 1, X509_REQ_set_pubkey(request, key.pkey) == 1 else {
            throw BenchFailure.openSSL("cannot set the CSR's key")
        }
        guard let subject = X509_NAME_new() else { throw BenchFailure.openSSL("out of memory") }
        defer { X509_NAME_free(subject) }
        guard X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, names[0], -1, -1, 0) == 1,
              X509_REQ_set_subject_name(request, subject) == 1 else {
            throw BenchFailure.openSSL("cannot set the CSR's subject")
        }
        guard let extensions = acmeeh_sk_X509_EXTENSION_new_null() else { throw BenchFailure.openSSL("out of memory") }
        defer { acmeeh_sk_X509_EXTENSION_pop_free(extensions) }
        let sans = names.map { "DNS:\($0)" }.joined(separator: ",")
        guard let san = X509V3_EXT_conf_nid(nil, nil, NID_subject_alt_name, sans) else {
            throw BenchFailure.openSSL("cannot encode subjectAltName \(sans)")
        }
        _ = acmeeh_sk_X509_EXTENSION_push(extensions, san)
        guard X509_REQ_add_extensions(request, extensions) == 1,
              X509_REQ_sign(request, key.pkey, EVP_sha256()) > 0 else {
            throw BenchFailure.openSSL("cannot sign the CSR")
        }
        let length = i2d_X509_REQ(request, nil)
        guard length > 0 else { throw BenchFailure.openSSL("cannot encode the CSR") }
        var der = [UInt8](repeating: 0, count: Int(length))
        der.withUnsafeMutableBufferPointer { buffer in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = i2d_X509_REQ(request, &pointer)
        }
        return der
    }
}
