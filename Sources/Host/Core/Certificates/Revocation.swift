import Foundation

/// revokeCert (RFC 8555 §7.6): who may revoke, the record, then the CA.
extension CoreServices {
    /// Who signed the revocation request.
    enum Revoker: Sendable {
        /// An account (`kid`): the one that ordered the certificate, or one holding valid
        /// authorizations for all its identifiers.
        case account(Account)
        /// The certificate's own key (`jwk`): SHA-256 hex of the signer's DER SubjectPublicKeyInfo.
        case certificateKey(publicKeyFingerprint: String)
    }

    /// Revokes a certificate this server issued. The database is the record; the CA
    /// backend that issued it is told after, best effort (as ACMEEH does).
    func revoke(certificateDER der: [UInt8], reason requested: Int?, by revoker: Revoker) async throws {
        let reason = try RevocationReason.check(requested)
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
        switch revoker {
        case .account(let account) where account.id != certificate.accountID:
            let identifiers = leaf.dnsNames.map { Identifier(type: "dns", value: $0) }
                + leaf.ipAddresses.map { Identifier(type: "ip", value: $0) }
            let authorized = try await database.withConnection {
                try $0.accountHoldsValidAuthorizations(accountID: account.id, identifiers: identifiers)
            }
            guard authorized else {
                throw Problem(.unauthorized,
                              "the account neither ordered this certificate nor holds valid authorizations for all its identifiers")
            }
        case .account:
            break
        case .certificateKey(let fingerprint):
            guard fingerprint == leaf.publicKeyFingerprint else {
                throw Problem(.unauthorized, "the request is signed by neither an account nor the certificate's key")
            }
        }

        let alreadyRevoked = Problem(.alreadyRevoked, "certificate \(certificate.serial) is already revoked")
        guard certificate.revokedAt == nil else { throw alreadyRevoked }
        guard try await database.withConnection({ try $0.markCertificateRevoked(certificate.id, reason: reason) }) else {
            throw alreadyRevoked
        }
        let by: String
        switch revoker {
        case .account(let account): by = "account \(account.id)"
        case .certificateKey: by = "certificate key"
        }
        logger.info("certificate revoked", metadata: [
            "serial": "\(certificate.serial)", "reason": "\(reason.map(String.init) ?? "-")", "by": "\(by)",
        ])
        events.publish(.certificateRevoked(certificateID: certificate.id, accountID: certificate.accountID,
                                           serial: certificate.serial, reason: RevocationReason.name(reason)))
        do {
            try await ca.revoke(
                CARevokeRequest(serialHex: certificate.serial, certificateDER: der, reason: reason.map(Int32.init)),
                backend: certificate.caBackend, timeout: pluginTimeout)
        } catch {
            logger.warning("CA backend did not confirm the revocation; it is recorded in the database", metadata: [
                "serial": "\(certificate.serial)", "error": "\(error.detail)",
            ])
        }
    }
}
