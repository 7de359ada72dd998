import Foundation

/// Certificate download (RFC 8555 §7.4.2): the owner gets `application/pem-certificate-chain`.
extension ACMEServices {
    func certificateResource(_ request: ACMERequest) async throws -> ACMEReply {
        let certificate = try await core.certificate(try resourceID(request, "cert"), for: try request.signer, request.requestGuard)
        return ACMEReply(status: 200, .pemChain(certificate.pemChain))
    }
}
