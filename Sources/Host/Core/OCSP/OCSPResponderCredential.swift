import COpenSSL
import Foundation

/// The delegated OCSP responder (RFC 6960 §4.2.2.2): a P-256 key that lives only in this
/// process's memory, the certificate the primary CA issued for it (extended key usage
/// id-kp-OCSPSigning), and that CA's certificate, which the requests' CertIDs must name.
/// Immutable once made; the OpenSSL objects are only read (signing with a shared key is safe).
final class OCSPResponderCredential: @unchecked Sendable {
    /// `EVP_PKEY`.
    let key: OpaquePointer
    /// `X509`: the responder certificate.
    let certificate: OpaquePointer
    /// `X509`: the CA certificate that issued it (and the certificates the responder answers for).
    let issuer: OpaquePointer
    /// Lowercase hex without leading zeros.
    let serialHex: String
    let notAfter: Date

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Takes ownership of `key`; reads the responder certificate and its issuer from the
    /// PEM chain the CA returned (leaf first, then the issuer) and checks that the leaf
    /// certifies `key` for OCSP signing and was issued by the next certificate.
    init(key: OpaquePointer, chainPEM: String) throws {
        var certificates: [OpaquePointer] = []
        let bytes = Array(chainPEM.utf8)
        bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return }
            defer { BIO_free(bio) }
            while certificates.count < 2, let x509 = PEM_read_bio_X509(bio, nil, nil, nil) {
                certificates.append(x509)
            }
        }
        ERR_clear_error()
        var keep = false
        defer { if !keep { certificates.forEach { X509_free($0) }; EVP_PKEY_free(key) } }
        guard certificates.count == 2 else {
            throw Failure(description: "the CA returned no issuer certificate after the responder certificate")
        }
        let (leaf, issuer) = (certificates[0], certificates[1])
        guard X509_check_private_key(leaf, key) == 1 else {
            ERR_clear_error()
            throw Failure(description: "the CA's certificate does not certify the responder key")
        }
        guard X509_check_issued(issuer, leaf) == X509_V_OK else {
            throw Failure(description: "the second certificate of the CA's chain did not issue the responder certificate")
        }
        // X509_get_extended_key_usage caches the extensions; XKU_OCSP_SIGN = id-kp-OCSPSigning.
        guard X509_get_extension_flags(leaf) & UInt32(EXFLAG_XKUSAGE) != 0,
              X509_get_extended_key_usage(leaf) & UInt32(XKU_OCSP_SIGN) != 0 else {
            throw Failure(description: "the CA issued the responder certificate without extended key usage "
                          + "id-kp-OCSPSigning (it must honour the profile's extended_key_usages)")
        }
        let facts = try CertificateChain(pem: chainPEM).leaf
        self.key = key
        self.certificate = leaf
        self.issuer = issuer
        self.serialHex = CertificateID.normalisedSerial(facts.serialHex)
        self.notAfter = facts.notAfter
        keep = true
    }

    deinit {
        EVP_PKEY_free(key)
        X509_free(certificate)
        X509_free(issuer)
    }
}
