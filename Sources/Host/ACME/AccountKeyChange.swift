import Foundation

/// keyChange (RFC 8555 §7.3.5): the account, signing with its current key, hands over a
/// JWS signed by the new key that names the account and the old key.
extension ACMEServices {
    func keyChange(_ request: ACMERequest) async throws -> ACMEReply {
        let account = try request.signer
        let accountURL = url("acct", account.id)

        // The payload of the outer JWS is the inner JWS, signed by the new key with its jwk and
        // the same url (checked by KeyChange.parse).
        let change = try KeyChange.parse(outer: request.jws)
        // The new key meets the rules of any account key (RFC 8555 §6.2): allowed algorithm, key policy.
        try change.inner.header.alg.checkAllowed(config.security.allowedAlgorithms.compactMap { JWSAlgorithm(rawValue: $0.rawValue) })
        try KeyPolicy(config.security).check(change.newKey)
        // "Check that the "account" field of the keyChange object contains the URL for the account
        // matching the old key" and "that the "oldKey" field … is the same as the account key".
        try change.check(accountURL: accountURL, currentKey: try JWK(json: Array(account.jwk.utf8)))

        let updated = try await core.rollOverKey(account, newJWK: change.newKey.canonicalJSON,
                                                 newThumbprint: change.newKey.thumbprint, request.requestGuard)
        gateway.accountCache.remember(updated)
        return ACMEReply(.json(accountJSON(updated)), location: accountURL)
    }
}
