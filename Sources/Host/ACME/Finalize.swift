import Foundation

/// Order finalization (RFC 8555 §7.4): `{"csr": base64url(DER)}`.
extension ACMEServices {
    func finalize(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let id = try resourceID(request, "order", suffix: "/finalize")
        let payload = try request.object()
        guard let text = payload["csr"] as? String else {
            throw Problem(.malformed, "finalize needs \"csr\", the base64url DER of a PKCS#10 request")
        }
        guard let der = Base64URL.decode(text), !der.isEmpty else {
            throw Problem(.badCSR, "csr is not base64url-encoded DER")
        }
        return orderReply(try await core.finalize(id, by: account, csrDER: der, request.requestGuard))
    }
}
