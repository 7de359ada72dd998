import Foundation

/// Certificate download (RFC 8555 §7.4.2): the owner gets `application/pem-certificate-chain`.
extension ACMEServices {
    func certificateResource(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let id = try resourceID(request, "cert")
        guard let certificate = try await database.withConnection({ try $0.issuedCertificate(id: id) }) else {
            throw Self.notFound("cert")
        }
        try Self.requireOwner(certificate.accountID, account, "certificate")
        return ACMEReply(status: 200, .pemChain(certificate.pemChain))
    }
}
