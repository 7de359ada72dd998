import Foundation

/// The order resource (RFC 8555 §7.1.3, §7.4): POST-as-GET by its owner.
extension ACMEServices {
    func orderResource(_ request: ACMERequest) async throws -> ACMEReply {
        orderReply(try await core.order(try resourceID(request, "order"), for: try request.signer, request.requestGuard))
    }
}
