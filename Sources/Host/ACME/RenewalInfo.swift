import Foundation
import Hummingbird

/// ACME Renewal Information (RFC 9773 §4): `GET <ari.path>/<certID>` when `ari.enabled`.
extension ACMEServices {
    func registerRenewalInfo(on router: Router<ACMERequestContext>) {
        guard let path = urls.renewalInfoPath else { return }
        router.get(RouterPath(urls.route(path) + "/:certID")) { _, context in
            let certID = context.parameters.get("certID") ?? ""
            return await self.gateway.respond(context) { try await self.renewalInfo(certID) }
        }
    }

    func renewalInfo(_ text: String) async throws -> ACMEReply {
        logger.info("renewalInfo request", metadata: ["certID": "\(text)"])
        let (start, end) = try await core.renewalWindow(text)
        var reply = ACMEReply(status: 200, .json([
            "suggestedWindow": ["start": Self.timestamp(start), "end": Self.timestamp(end)] as [String: any Sendable],
        ]))
        // RFC 9773 §4.3: when to ask again.
        reply.retryAfter = 21_600
        return reply
    }
}
