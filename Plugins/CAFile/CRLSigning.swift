import COpenSSL
import PluginKit

/// `ca_sign_crl` (ABI 1.1): an RFC 5280 v2 CRL of the issuer, from what the host hands in.
/// The file CA keeps no revocation state: the host chooses the entries and the number.
extension CAFile {
    func signCRL(_ request: CRLRequest) throws -> [UInt8] {
        try request.deadline.check("signing a CRL")
        ERR_clear_error()
        defer { ERR_clear_error() }
        let md = try crlDigest(request.hashAlgorithm)

        guard let crl = X509_CRL_new() else { throw openSSLFailure("X509_CRL_new") }
        defer { X509_CRL_free(crl) }
        // version v2 (1): required once there are extensions (RFC 5280 §5.1.2.1).
        guard X509_CRL_set_version(crl, 1) == 1,
              X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) == 1 else {
            throw openSSLFailure("X509_CRL_set_version/issuer_name")
        }
        try withTime(request.thisUpdate) { time throws(PluginError) in
            guard X509_CRL_set1_lastUpdate(crl, time) == 1 else { throw openSSLFailure("X509_CRL_set1_lastUpdate") }
        }
        try withTime(request.nextUpdate) { time throws(PluginError) in
            guard X509_CRL_set1_nextUpdate(crl, time) == 1 else { throw openSSLFailure("X509_CRL_set1_nextUpdate") }
        }
        for entry in request.entries {
            try addRevoked(entry, to: crl)
        }

        // cRLNumber (RFC 5280 §5.2.3, non-critical) and authorityKeyIdentifier (§5.2.1).
        try withInteger(request.crlNumber) { number throws(PluginError) in
            guard X509_CRL_add1_ext_i2d(crl, NID_crl_number, UnsafeMutableRawPointer(number), 0, 0) == 1 else {
                throw openSSLFailure("adding the cRLNumber extension")
            }
        }
        for ext in authorityKeyIdentifier.extensions {
            guard X509_CRL_add_ext(crl, ext, -1) == 1 else { throw openSSLFailure("adding the authorityKeyIdentifier extension") }
        }
        guard X509_CRL_sign(crl, issuerKey, md) > 0 else { throw openSSLFailure("X509_CRL_sign") }

        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_X509_CRL(crl, &out)
        guard length > 0, let out else { throw openSSLFailure("i2d_X509_CRL") }
        defer { acmeeh_OPENSSL_free(out) }
        log.info("CRL signed: \(request.entries.count) entries, number \(hex(request.crlNumber))")
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// The request's hash, or the instance's `hash_algorithm` when it names none.
    private func crlDigest(_ name: String?) throws(PluginError) -> OpaquePointer {
        switch name {
        case nil: return digest
        case "sha256": return EVP_sha256()
        case "sha384": return EVP_sha384()
        case "sha512": return EVP_sha512()
        case let other?: throw .invalidInput("hash_algorithm \"\(other.prefix(32))\" is not sha256, sha384 or sha512")
        }
    }

    /// One revokedCertificates entry: serial, revocationDate, and reasonCode when given.
    private func addRevoked(_ entry: CRLEntry, to crl: OpaquePointer) throws(PluginError) {
        guard let revoked = X509_REVOKED_new() else { throw openSSLFailure("X509_REVOKED_new") }
        var owned = true
        defer { if owned { X509_REVOKED_free(revoked) } }
        try withInteger(entry.serial) { serial throws(PluginError) in
            guard X509_REVOKED_set_serialNumber(revoked, serial) == 1 else { throw openSSLFailure("X509_REVOKED_set_serialNumber") }
        }
        try withTime(entry.revocationTime) { time throws(PluginError) in
            guard X509_REVOKED_set_revocationDate(revoked, time) == 1 else { throw openSSLFailure("X509_REVOKED_set_revocationDate") }
        }
        if let reason = entry.reason {
            // CRLReason codes are 0...10, 7 unused (RFC 5280 §5.3.1).
            guard (0...10).contains(reason), reason != 7 else {
                throw PluginError.invalidInput("CRL reason code \(reason) is not an RFC 5280 CRLReason")
            }
            guard let code = ASN1_ENUMERATED_new() else { throw openSSLFailure("ASN1_ENUMERATED_new") }
            defer { ASN1_ENUMERATED_free(code) }
            guard ASN1_ENUMERATED_set(code, Int(reason)) == 1,
                  X509_REVOKED_add1_ext_i2d(revoked, NID_crl_reason, UnsafeMutableRawPointer(code), 0, 0) == 1 else {
                throw openSSLFailure("adding the reasonCode extension")
            }
        }
        guard X509_CRL_add0_revoked(crl, revoked) == 1 else { throw openSSLFailure("X509_CRL_add0_revoked") }
        owned = false
    }
}

/// A positive ASN1_INTEGER of the unsigned big-endian `bytes`, for the duration of `body`.
private func withInteger(_ bytes: [UInt8], _ body: (UnsafeMutablePointer<ASN1_INTEGER>) throws(PluginError) -> Void) throws(PluginError) {
    guard let bn = bytes.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, Int32($0.count), nil) }) else {
        throw openSSLFailure("BN_bin2bn")
    }
    defer { BN_free(bn) }
    guard let integer = BN_to_ASN1_INTEGER(bn, nil) else { throw openSSLFailure("BN_to_ASN1_INTEGER") }
    defer { ASN1_INTEGER_free(integer) }
    try body(integer)
}

/// An ASN1_TIME of unix `seconds` (UTCTime until 2049, then GeneralizedTime), for `body`.
private func withTime(_ seconds: Int64, _ body: (UnsafeMutablePointer<ASN1_TIME>) throws(PluginError) -> Void) throws(PluginError) {
    guard let time = ASN1_TIME_set(nil, time_t(seconds)) else { throw openSSLFailure("ASN1_TIME_set") }
    defer { ASN1_TIME_free(time) }
    try body(time)
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
