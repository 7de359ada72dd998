import COpenSSL
import Foundation

/// Encodes OCSPResponses (RFC 6960 §4.2.1): the unsigned error statuses and the signed
/// BasicOCSPResponse with one SingleResponse per CertID of the request, in its order.
enum OCSPResponseBuilder {
    /// A CertID's certStatus (§4.2.1).
    enum Status: Equatable {
        case good
        /// `reason` is a CRLReason (RFC 5280 §5.3.1); nil leaves it out.
        case revoked(at: Date, reason: Int?)
        case unknown
    }

    /// OCSPResponseStatus values other than successful, which carry no response body.
    enum ErrorStatus: Int32 {
        case malformedRequest = 1
        case internalError = 2
        case tryLater = 3
    }

    /// The DER of an OCSPResponse with only an error status.
    static func error(_ status: ErrorStatus) -> [UInt8] {
        guard let response = OCSP_response_create(status.rawValue, nil) else { return fallback(status) }
        defer { OCSP_RESPONSE_free(response) }
        return encode(response) ?? fallback(status)
    }

    /// The DER of a successful response: `statuses[i]` answers `request.items[i]`, valid from
    /// `now` to `nextUpdate`, the request's nonce (§4.4.1) copied, signed by `credential`
    /// with SHA-256, the responder certificate included and named by its key hash; nil when
    /// OpenSSL fails.
    static func signed(_ request: OCSPRequest, statuses: [Status], credential: OCSPResponderCredential,
                       now: Date, nextUpdate: Date) -> [UInt8]? {
        guard statuses.count == request.items.count, let basic = OCSP_BASICRESP_new() else { return nil }
        defer { OCSP_BASICRESP_free(basic) }
        let thisUpdate = ASN1_TIME_set(nil, time_t(now.timeIntervalSince1970))
        let next = ASN1_TIME_set(nil, time_t(nextUpdate.timeIntervalSince1970))
        defer { ASN1_TIME_free(thisUpdate); ASN1_TIME_free(next) }
        guard thisUpdate != nil, next != nil else { return nil }
        for (item, status) in zip(request.items, statuses) {
            let added: OpaquePointer?
            switch status {
            case .good:
                added = OCSP_basic_add1_status(basic, item.certID, V_OCSP_CERTSTATUS_GOOD, 0, nil, thisUpdate, next)
            case .unknown:
                added = OCSP_basic_add1_status(basic, item.certID, V_OCSP_CERTSTATUS_UNKNOWN, 0, nil, thisUpdate, next)
            case .revoked(let at, let reason):
                let revoked = ASN1_TIME_set(nil, time_t(at.timeIntervalSince1970))
                defer { ASN1_TIME_free(revoked) }
                added = OCSP_basic_add1_status(basic, item.certID, V_OCSP_CERTSTATUS_REVOKED,
                                               Int32(reason ?? Int(OCSP_REVOKED_STATUS_NOSTATUS)), revoked, thisUpdate, next)
            }
            guard added != nil else { return failed() }
        }
        guard OCSP_copy_nonce(basic, request.request) > 0,
              OCSP_basic_sign(basic, credential.certificate, credential.key, EVP_sha256(), nil,
                              UInt(OCSP_RESPID_KEY)) == 1,
              let response = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic) else { return failed() }
        defer { OCSP_RESPONSE_free(response) }
        return encode(response) ?? failed()
    }

    private static func failed() -> [UInt8]? {
        ERR_clear_error()
        return nil
    }

    private static func encode(_ response: OpaquePointer) -> [UInt8]? {
        let length = i2d_OCSP_RESPONSE(response, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_OCSP_RESPONSE(response, &pointer)
        }
        return written == length ? der : nil
    }

    /// OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } without OpenSSL.
    private static func fallback(_ status: ErrorStatus) -> [UInt8] {
        [0x30, 0x03, 0x0A, 0x01, UInt8(status.rawValue)]
    }
}
