import COpenSSL

/// What a log's SCT covers (RFC 6962 §3.2 `signed_entry`): the final certificate
/// (`x509_entry`) or the precertificate's TBSCertificate without the poison extension,
/// bound to the issuer's key (`precert_entry`).
enum CTEntry: Sendable, Equatable {
    case x509(certificate: [UInt8])
    case precert(issuerKeyHash: [UInt8], tbsCertificate: [UInt8])

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    /// The precert_entry of a precertificate signed by `issuer` (both DER).
    static func precert(_ precertificate: [UInt8], issuer: [UInt8]) throws(Unreadable) -> CTEntry {
        guard let issuerKey = try? CertificateChain.leaf(der: issuer).subjectPublicKeyInfo else {
            throw Unreadable(description: "the issuer certificate cannot be parsed")
        }
        guard let tbs = tbs(of: precertificate, without: NID_ct_precert_poison) else {
            throw Unreadable(description: "the precertificate cannot be parsed or has no poison extension")
        }
        return .precert(issuerKeyHash: Digest.sha256(issuerKey), tbsCertificate: tbs)
    }

    /// entry_type (uint16) and the entry, each with its uint24 length prefix.
    var signedEntry: [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .x509(let certificate):
            out.appendBigEndian(0, bytes: 2)
            out.appendBigEndian(UInt64(certificate.count), bytes: 3)
            out += certificate
        case .precert(let issuerKeyHash, let tbs):
            out.appendBigEndian(1, bytes: 2)
            out += issuerKeyHash
            out.appendBigEndian(UInt64(tbs.count), bytes: 3)
            out += tbs
        }
        return out
    }

    /// The TBSCertificate re-encoded without the extension `nid` (the poison, §3.2), nil
    /// when the input is not one DER certificate carrying it.
    static func tbs(of der: [UInt8], without nid: Int32) -> [UInt8]? {
        let x509 = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let x509 = d2i_X509(nil, &cursor, buffer.count) else { return nil }
            guard cursor == buffer.baseAddress.map({ $0 + buffer.count }) else {
                X509_free(x509)
                return nil
            }
            return x509
        }
        guard let x509 else {
            ERR_clear_error()
            return nil
        }
        defer { X509_free(x509) }
        let index = X509_get_ext_by_NID(x509, nid, -1)
        guard index >= 0, let removed = X509_delete_ext(x509, index) else { return nil }
        X509_EXTENSION_free(removed)
        let length = i2d_re_X509_tbs(x509, nil)
        guard length > 0 else { return nil }
        var tbs = [UInt8](repeating: 0, count: Int(length))
        let written = tbs.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_re_X509_tbs(x509, &pointer)
        }
        return written == length ? tbs : nil
    }
}
