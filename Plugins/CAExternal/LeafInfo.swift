import COpenSSL
import Glibc
import PluginKit

/// What the host needs from the leaf the signing API returned, read with OpenSSL:
/// serial (lowercase hex), notBefore and notAfter (unix seconds). Refuses a leaf whose
/// public key is not the CSR's: that answer belongs to some other request.
struct LeafInfo {
    let serialHex: String
    let notBefore: Int64
    let notAfter: Int64

    init(chainPEM: String, csrDER: [UInt8]) throws(PluginError) {
        ERR_clear_error()
        defer { ERR_clear_error() }
        let bytes = Array(chainPEM.utf8)
        let leaf: OpaquePointer? = bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let leaf else {
            throw PluginError.internal("the signing API's certificate_chain does not start with a PEM certificate")
        }
        defer { X509_free(leaf) }

        let request: OpaquePointer? = csrDER.withUnsafeBufferPointer { buffer in
            var pointer = buffer.baseAddress
            return d2i_X509_REQ(nil, &pointer, buffer.count)
        }
        if let request {
            defer { X509_REQ_free(request) }
            if let csrKey = X509_REQ_get0_pubkey(request), let leafKey = X509_get0_pubkey(leaf),
               EVP_PKEY_eq(csrKey, leafKey) != 1 {
                throw PluginError.internal("the signing API returned a certificate for another public key than the CSR's")
            }
        }

        guard let serial = X509_get_serialNumber(leaf), let bn = ASN1_INTEGER_to_BN(serial, nil) else {
            throw PluginError.internal("cannot read the serial number of the returned certificate")
        }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { throw PluginError.internal("cannot format the serial number") }
        defer { acmeeh_OPENSSL_free(hex) }
        var text = String(cString: hex).lowercased()
        while text.hasPrefix("0") && text.count > 1 { text.removeFirst() }
        serialHex = text

        guard let notBefore = Self.unixTime(X509_get0_notBefore(leaf)),
              let notAfter = Self.unixTime(X509_get0_notAfter(leaf)) else {
            throw PluginError.internal("cannot read the validity of the returned certificate")
        }
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    static func unixTime(_ time: UnsafePointer<ASN1_TIME>?) -> Int64? {
        guard let time else { return nil }
        var tm = Glibc.tm()
        guard ASN1_TIME_to_tm(time, &tm) == 1 else { return nil }
        return Int64(timegm(&tm))
    }
}
