import Foundation

/// Order finalization (RFC 8555 §7.4): `{"csr": base64url(DER)}`.
extension ACMEServices {
    func finalize(_ request: ACMERequest) async throws -> ACMEReply {
        let (order, account) = try await loadOrder(request, suffix: "/finalize")
        // RFC 8555 §7.4: finalizing an order that is not ready (also one already finalized:
        // processing or valid) is 403 orderNotReady.
        guard order.status == .ready else {
            throw Problem(.orderNotReady, "order is \(order.status.rawValue), not ready; it cannot be finalized")
        }
        if order.expires < Date() { throw Problem(.orderNotReady, "order has expired") }
        let payload = try request.object()
        guard let text = payload["csr"] as? String else {
            throw Problem(.malformed, "finalize needs \"csr\", the base64url DER of a PKCS#10 request")
        }
        guard let der = Base64URL.decode(text), !der.isEmpty else {
            throw Problem(.badCSR, "csr is not base64url-encoded DER")
        }
        let updated = try await issuance.finalize(order: order, account: account, csrDER: der)
        return orderReply(updated)
    }
}
