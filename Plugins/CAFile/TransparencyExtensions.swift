import COpenSSL
import PluginKit

/// The Certificate Transparency extensions of RFC 6962 §3.1 and §3.3, added last so that a
/// precertificate and its final certificate differ only there.
enum TransparencyExtension {
    /// The precertificate poison: critical, extnValue = ASN.1 NULL.
    static func addPoison(to leaf: OpaquePointer) throws(PluginError) {
        try add(NID_ct_precert_poison, critical: true, value: [0x05, 0x00], to: leaf)
    }

    /// The SignedCertificateTimestampList: non-critical, extnValue = an OCTET STRING holding
    /// the TLS-encoded list.
    static func addSCTList(_ list: [UInt8], to leaf: OpaquePointer) throws(PluginError) {
        guard list.count >= 2, list.count <= 0xFFFF + 2 else {
            throw PluginError.invalidInput("sct_list is \(list.count) bytes: not a SignedCertificateTimestampList")
        }
        try add(NID_ct_precert_scts, critical: false, value: [0x04] + derLength(list.count) + list, to: leaf)
    }

    private static func add(_ nid: Int32, critical: Bool, value: [UInt8], to leaf: OpaquePointer) throws(PluginError) {
        guard let data = ASN1_OCTET_STRING_new() else { throw openSSLFailure("ASN1_OCTET_STRING_new") }
        defer { ASN1_OCTET_STRING_free(data) }
        guard ASN1_OCTET_STRING_set(data, value, Int32(value.count)) == 1,
              let ext = X509_EXTENSION_create_by_NID(nil, nid, critical ? 1 : 0, data) else {
            throw openSSLFailure("building extension \(String(cString: OBJ_nid2sn(nid)))")
        }
        defer { X509_EXTENSION_free(ext) }
        guard X509_add_ext(leaf, ext, -1) == 1 else { throw openSSLFailure("X509_add_ext") }
    }

    /// A DER definite length.
    private static func derLength(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(count)] }
        if count < 0x100 { return [0x81, UInt8(count)] }
        return [0x82, UInt8(count >> 8), UInt8(count & 0xFF)]
    }
}
