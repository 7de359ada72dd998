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
        let newKey = change.newKey

        // "Check that no account exists whose account key is the same as the key in the "jwk"
        // header parameter of the inner JWS" — else 409 Conflict with that account's URL.
        let thumbprint = newKey.thumbprint
        let jwk = newKey.canonicalJSON
        let conflict = { (holder: Account) in
            Problem(.malformed, "the new key is already the key of account \(self.url("acct", holder.id))",
                    status: 409, headers: ["Location": self.url("acct", holder.id)])
        }
        if let holder = try await database.withConnection({ try $0.account(thumbprint: thumbprint) }) {
            throw conflict(holder)
        }
        let changed: Bool
        do {
            changed = try await database.transaction { db in
                try db.replaceAccountKey(account.id, oldThumbprint: account.thumbprint, jwk: jwk, thumbprint: thumbprint)
            }
        } catch let error as StoreError where error.isUniqueViolation {
            if let holder = try await database.withConnection({ try $0.account(thumbprint: thumbprint) }) {
                throw conflict(holder)
            }
            throw error
        }
        guard changed else {
            throw Problem(.unauthorized, "the account key changed or the account was deactivated meanwhile")
        }
        logger.info("account key changed", metadata: ["account": "\(account.id)"])
        guard let updated = try await database.withConnection({ try $0.account(id: account.id) }) else {
            throw Problem(.accountDoesNotExist, "account \(accountURL) no longer exists")
        }
        return ACMEReply(.json(accountJSON(updated)), location: accountURL)
    }
}
