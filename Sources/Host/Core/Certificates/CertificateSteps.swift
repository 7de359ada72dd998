import Foundation

/// Certificate download (RFC 8555 §7.4.2) and renewal information (RFC 9773 §4).
extension CoreServices {
    /// The certificate with its chain, for the account that ordered it (a read, committed
    /// without waiting for the flush).
    func certificate(_ id: UUID, for account: Account, _ requestGuard: RequestGuard? = nil) async throws -> IssuedCertificate {
        let results = try await database.runBatch(after: requestGuard, [.issuedCertificate(id: id)], asynchronousCommit: true)
        guard let certificate = try results[0].issuedCertificates.first else {
            throw ResourceAccess.notFound("certificate")
        }
        try ResourceAccess.requireOwner(certificate.accountID, account, "certificate")
        events.publish(.certificateDelivered(certificateID: certificate.id, accountID: certificate.accountID,
                                             serial: certificate.serial))
        return certificate
    }

    /// RFC 9773 §4.2: when the certificate named by `certID` should be renewed.
    func renewalWindow(_ certID: String) async throws -> (start: Date, end: Date) {
        let id = try CertificateID.parse(certID)
        let found = try await database.withConnection { try $0.issuedCertificate(serial: id.serialHex) }
        guard let certificate = found, (try? CertificateID(pemChain: certificate.pemChain)) == id else {
            throw Problem(.malformed, "no certificate \(certID) was issued here", refusal: .notFound)
        }
        if certificate.revokedAt != nil {
            // A revoked certificate should be replaced now.
            let now = Date()
            return (now, now.addingTimeInterval(3600))
        }
        // Renew once `renewal_percentage` of the lifetime has passed, before expiry.
        let lifetime = certificate.notAfter.timeIntervalSince(certificate.notBefore)
        return (certificate.notBefore.addingTimeInterval(lifetime * config.ari.renewalPercentage), certificate.notAfter)
    }
}
