import Foundation

/// newAccount (RFC 8555 §7.3): decodes the payload and the external account binding;
/// Core finds or creates the account.
extension ACMEServices {
    func newAccount(_ request: ACMERequest) async throws -> ACMEReply {
        let payload = try request.object()
        let key = request.key
        var newAccount = CoreServices.NewAccount(jwk: key.canonicalJSON, thumbprint: key.thumbprint,
                                                 clientIP: request.clientIP)
        if let only = payload["onlyReturnExisting"] {
            guard let flag = only as? Bool else { throw Problem(.malformed, "\"onlyReturnExisting\" must be a boolean") }
            newAccount.onlyReturnExisting = flag
        }
        if let value = payload["termsOfServiceAgreed"] {
            guard let flag = value as? Bool else { throw Problem(.malformed, "\"termsOfServiceAgreed\" must be a boolean") }
            newAccount.termsOfServiceAgreed = flag
        }
        if let value = payload["contact"] { newAccount.contacts = try Self.contactList(value) }
        // RFC 8555 §7.3.4: the binding is a JWS over the account key, MAC'd with the credential's key.
        let parsedBinding: ExternalAccountBinding?
        do {
            parsedBinding = try ExternalAccountBinding.inNewAccountPayload(payload)
        } catch {
            core.events.publish(.requestRefused(.init(kind: .eab, problem: error.type.rawValue, detail: error.detail,
                                                      clientIP: request.clientIP)))
            throw error
        }
        if let binding = parsedBinding {
            let url = request.url
            newAccount.binding = CoreServices.Binding(kid: binding.kid) { hmacKey in
                _ = try binding.verify(hmacKey: hmacKey, outerJWK: key, expectedURL: url)
            }
        }

        let (account, created) = try await core.newAccount(newAccount, request.requestGuard)
        gateway.accountCache.remember(account)
        // RFC 8555 §7.3.1: a known key gets its account back, 200 + Location.
        guard created else { return ACMEReply(status: 200, .json(accountJSON(account)), location: url("acct", account.id)) }
        var body = accountJSON(account)
        // RFC 8555 §7.1.2: the account object carries the binding it was created with.
        if let binding = payload["externalAccountBinding"] as? [String: Any] {
            body["externalAccountBinding"] = [
                "protected": binding["protected"] as? String ?? "",
                "payload": binding["payload"] as? String ?? "",
                "signature": binding["signature"] as? String ?? "",
            ]
        }
        return ACMEReply(status: 201, .json(body), location: url("acct", account.id))
    }
}
