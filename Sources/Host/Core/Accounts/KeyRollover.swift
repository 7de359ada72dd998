import Foundation

/// keyChange (RFC 8555 §7.3.5), once the ACME layer has verified both JWS and checked
/// that the inner one names this account and its current key.
extension CoreServices {
    /// Replaces the account key; a key that another account holds is a conflict naming
    /// that account (409 with its URL in `Location`).
    func rollOverKey(_ account: Account, newJWK jwk: String, newThumbprint thumbprint: String) async throws -> Account {
        let conflict = { (holder: Account) in
            Problem(.malformed, "the new key is already the key of account \(self.accountURL(holder.id))",
                    status: 409, headers: ["Location": self.accountURL(holder.id)])
        }
        // "Check that no account exists whose account key is the same as the key in the
        // "jwk" header parameter of the inner JWS."
        if let holder = try await database.withConnection({ try $0.account(thumbprint: thumbprint) }) {
            throw conflict(holder)
        }
        let changed: Bool
        do {
            changed = try await database.withConnection { db in
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
        events.publish(.accountKeyRolledOver(accountID: account.id, oldThumbprint: account.thumbprint,
                                             newThumbprint: thumbprint))
        return try await reloadAccount(account.id)
    }
}
