import Foundation

/// revokeCert (RFC 8555 §7.6): who may revoke, the CA, then the record.
extension CoreServices {
    /// Who signed the revocation request.
    enum Revoker: Sendable {
        /// An account (`kid`): the one that ordered the certificate, or one holding valid
        /// authorizations for all its identifiers.
        case account(Account)
        /// The certificate's own key (`jwk`): SHA-256 hex of the signer's DER SubjectPublicKeyInfo.
        case certificateKey(publicKeyFingerprint: String)
    }

    /// Revokes a certificate this server issued: the certificate and the account's
    /// authorizations read in one batch opened by the request's guard, who may revoke
    /// decided, the revocation recorded with its `revocation_outbox` row in a second batch
    /// and its event published, then the CA backend that issued it told (its answer
    /// recorded in a third: a failure is retried by `RevocationForwarder` until the
    /// backend confirms; the request succeeds either way, the database being the record).
    func revoke(certificateDER der: [UInt8], reason requested: Int?, by revoker: Revoker,
                _ requestGuard: RequestGuard? = nil) async throws {
        let reason = try RevocationReason.check(requested)
        let leaf: CertificateChain.Leaf
        do {
            leaf = try CertificateChain.leaf(der: der)
        } catch {
            throw Problem(.malformed, "\"certificate\" is not a DER X.509 certificate")
        }
        var reads: [BatchStatement] = [.revocableCertificate(fingerprint: leaf.fingerprint)]
        if case .account(let account) = revoker {
            let identifiers = leaf.dnsNames.map { Identifier(type: "dns", value: $0) }
                + leaf.ipAddresses.map { Identifier(type: "ip", value: $0) }
            reads.append(.holdsValidAuthorizations(accountID: account.id, identifiers: identifiers))
        }
        let found = try await database.runBatch(after: requestGuard, reads)
        guard let certificate = try found[0].revocableCertificates.first else {
            throw Problem(.malformed, "no certificate issued by this server matches", refusal: .notFound)
        }

        // RFC 8555 §7.6: who may revoke.
        let by: String
        switch revoker {
        case .account(let account):
            let holds = try found.dropFirst().first?.rows.first?.bool("holds") ?? false
            guard account.id == certificate.accountID || holds else {
                throw Problem(.unauthorized,
                              "the account neither ordered this certificate nor holds valid authorizations for all its identifiers")
            }
            by = "account \(account.id)"
        case .certificateKey(let fingerprint):
            guard fingerprint == leaf.publicKeyFingerprint else {
                throw Problem(.unauthorized, "the request is signed by neither an account nor the certificate's key")
            }
            by = "certificate key"
        }
        let alreadyRevoked = Problem(.alreadyRevoked, "certificate \(certificate.serial) is already revoked")
        guard certificate.revokedAt == nil else { throw alreadyRevoked }

        guard try await recordRevocation(of: certificate, certificateDER: der, reason: reason, by: by) else {
            throw alreadyRevoked
        }
    }

    /// The revocation itself, shared by revokeCert and the admin's bulk revocation: records
    /// it with its `revocation_outbox` row (one round trip), publishes
    /// `certificateRevoked`, then makes the first attempt at the CA backend that issued it
    /// (a failure is retried by `RevocationForwarder` until the backend confirms). Returns
    /// false, changing nothing, when the certificate was already revoked. `reason` must
    /// have passed `RevocationReason.check`; `by` names the revoker in the log.
    func recordRevocation(of certificate: RevocableCertificate, certificateDER der: [UInt8], reason: Int?,
                          by: String) async throws -> Bool {
        let forwarding = revocationForwarding
        let recorded = try await database.runBatch([
            .markCertificateRevoked(certificate.id, reason: reason, leaseSeconds: forwarding.leaseSeconds),
        ])
        guard !recorded[0].rows.isEmpty else { return false }
        logger.info("certificate revoked", metadata: [
            "serial": "\(certificate.serial)", "reason": "\(reason.map(String.init) ?? "-")", "by": "\(by)",
        ])
        events.publish(.certificateRevoked(certificateID: certificate.id, accountID: certificate.accountID,
                                           serial: certificate.serial, reason: RevocationReason.name(reason)))
        await forwarding.attempt(certificateID: certificate.id, accountID: certificate.accountID, serial: certificate.serial,
                                 certificateDER: der,
                                 reason: reason, backend: certificate.caBackend ?? ca.primary.name, attempts: 1)
        return true
    }
}
