import COpenSSL
import Foundation

/// The RFC 6962 round of `plugins check` for a CA with the precertificate feature (ABI 1.1):
/// a precertificate whose last extension is the critical poison, then the certificate of the
/// same request with a test SCT list, whose last extension carries exactly those bytes and
/// whose TBSCertificate without it equals the precertificate's without the poison.
enum PrecertificateVerification {
    /// An SCT list the CA must embed verbatim (a syntactically valid one; nothing verifies it).
    static var testSCTList: [UInt8] {
        let answer: [String: Any] = [
            "sct_version": 0, "id": Data(repeating: 0xAC, count: 32).base64EncodedString(), "timestamp": 1_800_000_000_000,
            "extensions": "", "signature": Data([4, 3, 0, 2, 0x30, 0x00]).base64EncodedString(),
        ]
        let json = (try? JSONSerialization.data(withJSONObject: answer)).map(Array.init) ?? []
        return (try? SignedCertificateTimestamp(json: json)).map { SignedCertificateTimestamp.list([$0]) } ?? []
    }

    static func check(_ ca: CAPluginInstance, csr: [UInt8], timeout: Duration) async -> ChainVerification.Check {
        func check(_ ok: Bool, _ detail: String) -> ChainVerification.Check {
            ChainVerification.Check(name: "precertificate", ok: ok, detail: detail)
        }
        var request = CASignRequest(csrDER: csr, validityDays: 7)
        request.precertificate = true
        let precertificate: [UInt8]
        do throws(PluginError) {
            guard case .issued(let pem, _, _, _) = try await ca.sign(request, timeout: timeout) else {
                return check(false, "the CA answered PENDING to a precertificate request, which the ABI does not allow")
            }
            guard let der = CertificateChain.derCertificates(pem: pem)?.first else { return check(false, "the precertificate does not parse") }
            precertificate = der
        } catch {
            return check(false, "the CA refused to sign a precertificate: \(error.detail)")
        }
        guard let poison = lastExtension(precertificate), poison.nid == NID_ct_precert_poison, poison.critical,
              poison.value == [0x05, 0x00] else {
            return check(false, "the precertificate's last extension is not the critical poison (1.3.6.1.4.1.11129.2.4.3, NULL)")
        }
        guard let leaf = try? IssuedLeaf(der: precertificate) else { return check(false, "the precertificate does not parse") }

        let list = testSCTList
        var final = CASignRequest(csrDER: csr, validityDays: 7)
        final.serialHex = leaf.serialHex
        final.notBefore = Int64(leaf.notBefore.timeIntervalSince1970)
        final.notAfter = Int64(leaf.notAfter.timeIntervalSince1970)
        final.sctList = list
        let certificate: [UInt8]
        do throws(PluginError) {
            guard case .issued(let pem, _, _, _) = try await ca.sign(final, timeout: timeout),
                  let der = CertificateChain.derCertificates(pem: pem)?.first else {
                return check(false, "the CA did not issue the certificate of the precertificate")
            }
            certificate = der
        } catch {
            return check(false, "the CA refused to sign the certificate with SCTs: \(error.detail)")
        }
        guard let scts = lastExtension(certificate), scts.nid == NID_ct_precert_scts, !scts.critical,
              scts.value == DER.tlv(0x04, list) else {
            return check(false, "the certificate's last extension is not a non-critical SCT list (1.3.6.1.4.1.11129.2.4.2) holding the bytes handed in")
        }
        guard let precertificateTBS = CTEntry.tbs(of: precertificate, without: NID_ct_precert_poison),
              let certificateTBS = CTEntry.tbs(of: certificate, without: NID_ct_precert_scts),
              precertificateTBS == certificateTBS else {
            return check(false, "the certificate differs from its precertificate beyond the poison and the SCT list (serial, validity or extensions)")
        }
        return check(true, "serial \(leaf.serialHex): poison last and critical; the certificate adds the SCT list and nothing else")
    }

    /// The NID, criticality and extnValue of a DER certificate's last extension.
    private static func lastExtension(_ der: [UInt8]) -> (nid: Int32, critical: Bool, value: [UInt8])? {
        defer { ERR_clear_error() }
        guard let x509 = der.withUnsafeBufferPointer({ buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }) else { return nil }
        defer { X509_free(x509) }
        let count = X509_get_ext_count(x509)
        guard count > 0, let ext = X509_get_ext(x509, count - 1), let data = X509_EXTENSION_get_data(ext) else { return nil }
        let value = Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(data), count: Int(ASN1_STRING_length(data))))
        return (OBJ_obj2nid(X509_EXTENSION_get_object(ext)), X509_EXTENSION_get_critical(ext) == 1, value)
    }
}
