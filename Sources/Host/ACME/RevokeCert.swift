import Foundation

/// revokeCert (RFC 8555 §7.6): `{certificate, reason?}`, signed by an account (`kid`) or
/// by the certificate's own key (`jwk`); Core decides who may revoke.
extension ACMEServices {
    func revokeCert(_ request: ACMERequest) async throws -> ACMEReply {
        let payload = try request.object()
        guard let text = payload["certificate"] as? String else {
            throw Problem(.malformed, "payload lacks \"certificate\" (base64url DER)")
        }
        guard let der = Base64URL.decode(text), !der.isEmpty else {
            throw Problem(.malformed, "\"certificate\" is not base64url")
        }
        var reason: Int? = nil
        if let value = payload["reason"] {
            guard let number = value as? Int else {
                throw Problem(.malformed, "\"reason\" must be an integer CRLReason code")
            }
            reason = number
        }
        let revoker: CoreServices.Revoker
        if let account = request.account {
            revoker = .account(account)
        } else {
            guard let spki = CertificateChain.subjectPublicKeyInfo(of: request.key.publicKey.pkey) else {
                throw Problem(.badPublicKey, "the signing key cannot be encoded as a SubjectPublicKeyInfo")
            }
            revoker = .certificateKey(publicKeyFingerprint: CertificateChain.sha256Hex(spki))
        }
        try await core.revoke(certificateDER: der, reason: reason, by: revoker, request.requestGuard)
        return ACMEReply(.empty)
    }
}
