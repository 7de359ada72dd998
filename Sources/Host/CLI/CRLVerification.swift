import COpenSSL
import Foundation

/// Checks of a CRL a CA plugin signed for `plugins check` (ABI 1.1 `ca_sign_crl`), with
/// OpenSSL: it parses as a v2 CRL, lists what it was asked to, and its signature verifies with
/// the key of the issuer in the chain the plugin served.
enum CRLVerification {
    /// What `plugins check` asks for: one entry, the throwaway leaf, superseded, CRL number 1.
    static func request(serialHex: String, now: Int64) -> CASignCRLRequest {
        CASignCRLRequest(entries: [CRLEntry(serial: bytes(hex: serialHex), revokedAt: now, reason: 4)],
                         thisUpdate: now, nextUpdate: now + 86_400, crlNumber: [0x01])
    }

    static func verify(der: [UInt8], chainPEM: String, serialHex: String) -> ChainVerification.Check {
        func check(_ ok: Bool, _ detail: String) -> ChainVerification.Check {
            ChainVerification.Check(name: "crl", ok: ok, detail: detail)
        }
        defer { ERR_clear_error() }
        guard let crl = der.withUnsafeBufferPointer({ buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_X509_CRL(nil, &cursor, buffer.count)
        }) else { return check(false, "ca_sign_crl returned \(der.count) bytes that are not a DER CRL") }
        defer { X509_CRL_free(crl) }
        guard X509_CRL_get_version(crl) == 1 else { return check(false, "the CRL is not version 2") }

        let listed = X509_CRL_get_REVOKED(crl).map { OPENSSL_sk_num($0) } ?? 0
        let serial = bytes(hex: serialHex)
        guard listed == 1, let entry = X509_CRL_get_REVOKED(crl).flatMap({ OPENSSL_sk_value($0, 0) }),
              let number = X509_REVOKED_get0_serialNumber(OpaquePointer(entry)),
              integerBytes(number) == serial else {
            return check(false, "the CRL does not list exactly the serial \(serialHex) (\(listed) entries)")
        }

        let issuers = Array(pemCertificates(chainPEM).dropFirst())
        defer { issuers.forEach { X509_free($0) } }
        guard let issuer = issuers.first else {
            return check(true, "a v2 CRL listing serial \(serialHex); the chain holds no issuer: signature not checked")
        }
        guard let key = X509_get0_pubkey(issuer), X509_CRL_verify(crl, key) == 1 else {
            return check(false, "the CRL's signature does not verify with the key of the leaf's issuer")
        }
        return check(true, "a v2 CRL listing serial \(serialHex), signed by the leaf's issuer")
    }

    private static func integerBytes(_ integer: UnsafePointer<ASN1_INTEGER>) -> [UInt8] {
        guard let data = integer.pointee.data, integer.pointee.length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(integer.pointee.length))).drop { $0 == 0 }.map { $0 }
    }

    /// Big-endian bytes of a hex serial, without leading zero bytes.
    static func bytes(hex: String) -> [UInt8] {
        let digits = Array((hex.count.isMultiple(of: 2) ? hex : "0" + hex).utf8)
        let bytes = stride(from: 0, to: digits.count, by: 2).compactMap { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16) }
        let trimmed = Array(bytes.drop { $0 == 0 })
        return trimmed.isEmpty ? [0] : trimmed
    }

    private static func pemCertificates(_ pem: String) -> [OpaquePointer] {
        Array(pem.utf8).withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return [] }
            defer { BIO_free(bio) }
            var certificates: [OpaquePointer] = []
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) { certificates.append(certificate) }
            return certificates
        }
    }
}
