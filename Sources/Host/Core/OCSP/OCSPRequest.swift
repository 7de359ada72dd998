import COpenSSL

/// A parsed OCSPRequest (RFC 6960 §4.1.1): its single requests' CertIDs, by serial and by
/// whether they name the responder's issuer. The request's signature, if any, is not
/// checked (the responder answers anyone); of its extensions only the nonce is used.
final class OCSPRequest: @unchecked Sendable {
    /// `OCSP_REQUEST`.
    let request: OpaquePointer

    /// One CertID of the request.
    struct Item {
        /// `OCSP_CERTID`, owned by `request`.
        let certID: OpaquePointer
        /// Lowercase hex without leading zeros; nil for a negative or unreadable serial.
        let serialHex: String?
    }

    let items: [Item]

    /// The most CertIDs one request may ask about.
    static let maxItems = 64

    /// nil for anything that is not exactly one DER OCSPRequest with 1 to `maxItems` CertIDs.
    init?(der: [UInt8]) {
        let parsed = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let base = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            guard let request = d2i_OCSP_REQUEST(nil, &cursor, buffer.count) else { return nil }
            guard cursor == base + buffer.count else {
                OCSP_REQUEST_free(request)
                return nil
            }
            return request
        }
        guard let parsed else {
            ERR_clear_error()
            return nil
        }
        let count = Int(OCSP_request_onereq_count(parsed))
        guard (1...Self.maxItems).contains(count) else {
            OCSP_REQUEST_free(parsed)
            return nil
        }
        var items: [Item] = []
        for index in 0..<count {
            guard let one = OCSP_request_onereq_get0(parsed, Int32(index)), let certID = OCSP_onereq_get0_id(one) else {
                OCSP_REQUEST_free(parsed)
                return nil
            }
            items.append(Item(certID: certID, serialHex: Self.serialHex(certID)))
        }
        request = parsed
        self.items = items
    }

    deinit { OCSP_REQUEST_free(request) }

    /// Whether `item`'s issuer name and key hashes are those of `issuer` (an `X509`), with
    /// the hash the request chose (SHA-1 as RFC 5019 asks, SHA-256, …).
    func names(_ issuer: OpaquePointer, _ item: Item) -> Bool {
        var algorithm: OpaquePointer?
        guard OCSP_id_get0_info(nil, &algorithm, nil, nil, item.certID) == 1, let algorithm,
              let digest = EVP_get_digestbyname(OBJ_nid2sn(OBJ_obj2nid(algorithm))),
              let ours = OCSP_cert_to_id(digest, nil, issuer) else {
            ERR_clear_error()
            return false
        }
        defer { OCSP_CERTID_free(ours) }
        return OCSP_id_issuer_cmp(ours, item.certID) == 0
    }

    private static func serialHex(_ certID: OpaquePointer) -> String? {
        var serial: UnsafeMutablePointer<ASN1_INTEGER>?
        guard OCSP_id_get0_info(nil, nil, nil, &serial, certID) == 1, let serial,
              let bn = ASN1_INTEGER_to_BN(serial, nil) else { return nil }
        defer { BN_free(bn) }
        guard BN_is_negative(bn) == 0, let hex = BN_bn2hex(bn) else { return nil }
        defer { acmeeh_OPENSSL_free(hex) }
        return CertificateID.normalisedSerial(String(cString: hex))
    }
}
