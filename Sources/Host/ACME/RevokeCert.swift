import Foundation

/// revokeCert (RFC 8555 §7.6): `{certificate, reason?}`, signed by the account that
/// ordered the certificate, by an account authorized for all its identifiers, or by the
/// certificate's own key (`jwk`).
extension ACMEServices {
    func revokeCert(_ request: ACMERequest) async throws -> ACMEReply {
        let payload = try request.object()
        guard let text = payload["certificate"] as? String else {
            throw Problem(.malformed, "payload lacks \"certificate\" (base64url DER)")
        }
        guard let der = Base64URL.decode(text), !der.isEmpty else {
            throw Problem(.malformed, "\"certificate\" is not base64url")
        }
        var requestedReason: Int? = nil
        if let value = payload["reason"] {
            guard let number = value as? Int else {
                throw Problem(.malformed, "\"reason\" must be an integer CRLReason code")
            }
            requestedReason = number
        }
        let reason = try RevocationReason.check(requestedReason)
        let leaf: CertificateChain.Leaf
        do {
            leaf = try CertificateChain.leaf(der: der)
        } catch {
            throw Problem(.malformed, "\"certificate\" is not a DER X.509 certificate")
        }
        guard let certificate = try await database.withConnection({
            try $0.certificateForRevocation(fingerprint: leaf.fingerprint)
        }) else {
            throw Problem(.malformed, "no certificate issued by this server matches", status: 404)
        }

        // RFC 8555 §7.6: who may revoke.
        if let account = request.account {
            if account.id != certificate.accountID {
                let identifiers = leaf.dnsNames.map { Identifier(type: "dns", value: $0) }
                    + leaf.ipAddresses.map { Identifier(type: "ip", value: $0) }
                let authorized = try await database.withConnection {
                    try $0.accountHoldsValidAuthorizations(accountID: account.id, identifiers: identifiers)
                }
                guard authorized else {
                    throw Problem(.unauthorized,
                                  "the account neither ordered this certificate nor holds valid authorizations for all its identifiers")
                }
            }
        } else {
            // Signed with the certificate's key: the jwk must be the certified public key.
            guard let spki = CertificateChain.subjectPublicKeyInfo(of: request.key.publicKey.pkey),
                  CertificateChain.sha256Hex(spki) == leaf.publicKeyFingerprint
            else {
                throw Problem(.unauthorized, "the request is signed by neither an account nor the certificate's key")
            }
        }

        guard certificate.revokedAt == nil else {
            throw Problem(.alreadyRevoked, "certificate \(certificate.serial) is already revoked")
        }
        let revoked = try await database.withConnection { try $0.markCertificateRevoked(certificate.id, reason: reason) }
        guard revoked else { throw Problem(.alreadyRevoked, "certificate \(certificate.serial) is already revoked") }
        logger.info("certificate revoked", metadata: [
            "serial": "\(certificate.serial)", "reason": "\(reason.map(String.init) ?? "-")",
            "by": "\(request.account.map { "account \($0.id)" } ?? "certificate key")",
        ])

        // The database is the record; the CA is told after, best effort (as the reference).
        do {
            try await runtime.ca.revoke(
                CARevokeRequest(serialHex: certificate.serial, certificateDER: der, reason: reason.map(Int32.init)),
                backend: certificate.caBackend, timeout: runtime.pluginTimeout)
        } catch {
            logger.warning("CA backend did not confirm the revocation; it is recorded in the database", metadata: [
                "serial": "\(certificate.serial)", "error": "\(error.detail)",
            ])
        }
        return ACMEReply(.empty)
    }
}
