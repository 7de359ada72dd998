import Foundation

/// keyChange (RFC 8555 §7.3.5), once the ACME layer has verified both JWS and checked
/// that the inner one names this account and its current key.
extension CoreServices {
    /// Replaces the account key in one batch opened by the request's guard, which also reads
    /// the holder of the new key; a key that another account holds is a conflict naming
    /// that account (409 with its URL in `Location`).
    func rollOverKey(_ account: Account, newJWK jwk: String, newThumbprint thumbprint: String,
                     _ requestGuard: RequestGuard? = nil) async throws -> Account {
        let results: [BatchStatementResult]
        do {
            // "Check that no account exists whose account key is the same as the key in the
            // "jwk" header parameter of the inner JWS."
            results = try await database.runBatch(after: requestGuard, [
                .replaceAccountKey(account.id, oldThumbprint: account.thumbprint, jwk: jwk, thumbprint: thumbprint),
                .account(thumbprint: thumbprint),
            ])
        } catch let error as StoreError where error.kind == .accountKeyTaken {
            // Another account took the key between the check and the update.
            guard let holder = try await database.runBatch([.account(thumbprint: thumbprint)])[0].accounts.first else {
                throw error
            }
            throw keyConflict(holder)
        }
        guard let updated = try results[0].accounts.first else {
            if let holder = try results[1].accounts.first { throw keyConflict(holder) }
            throw Problem(.unauthorized, "the account key changed or the account was deactivated meanwhile")
        }
        logger.info("account key changed", metadata: ["account": "\(account.id)"])
        events.publish(.accountKeyRolledOver(accountID: account.id, oldThumbprint: account.thumbprint,
                                             newThumbprint: thumbprint))
        return updated
    }

    private func keyConflict(_ holder: Account) -> Problem {
        Problem(.malformed, "the new key is already the key of account \(accountURL(holder.id))",
                refusal: .conflict, headers: ["Location": accountURL(holder.id)])
    }
}
