import Foundation
import Hummingbird

/// ACME Renewal Information (RFC 9773 §4): `GET <ari.path>/<certID>` when `ari.enabled`.
extension ACMEServices {
    func registerRenewalInfo(on router: Router<BasicRequestContext>) {
        guard let path = urls.renewalInfoPath else { return }
        router.get(RouterPath(urls.route(path) + "/:certID")) { _, context in
            let certID = context.parameters.get("certID") ?? ""
            return await self.gateway.respond { try await self.renewalInfo(certID) }
        }
    }

    func renewalInfo(_ text: String) async throws -> ACMEReply {
        logger.info("renewalInfo request", metadata: ["certID": "\(text)"])
        let id = try CertificateID.parse(text)
        let found = try await database.withConnection { try $0.issuedCertificate(serial: id.serialHex) }
        guard let certificate = found, (try? CertificateID(pemChain: certificate.pemChain)) == id else {
            throw Problem(.malformed, "no certificate \(text) was issued here", status: 404)
        }
        let start: Date, end: Date
        if certificate.revokedAt != nil {
            // RFC 9773 §4.2: a revoked certificate should be replaced now.
            start = Date()
            end = start.addingTimeInterval(3600)
        } else {
            // Renew once `renewal_percentage` of the lifetime has passed, before expiry.
            let lifetime = certificate.notAfter.timeIntervalSince(certificate.notBefore)
            start = certificate.notBefore.addingTimeInterval(lifetime * config.ari.renewalPercentage)
            end = certificate.notAfter
        }
        var reply = ACMEReply(status: 200, .json([
            "suggestedWindow": ["start": Self.timestamp(start), "end": Self.timestamp(end)] as [String: any Sendable],
        ]))
        // RFC 9773 §4.3: when to ask again.
        reply.retryAfter = 21_600
        return reply
    }
}
