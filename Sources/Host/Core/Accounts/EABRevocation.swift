import Foundation

/// An operator revokes an external account binding credential (admin API), and with it
/// what was bound: the accounts registered with it (`accounts.eab_kid`) become `revoked`
/// and their pending and valid authorizations `deactivated`, in one transaction. Each
/// revoked account's holder is told (`account_revoked` notification, audit trail).
extension CoreServices {
    /// What one revocation changed.
    struct EABRevocationOutcome: Sendable, Equatable {
        var kid: String
        /// The accounts that were valid and are now revoked.
        var revokedAccountIDs: [UUID]
        /// The authorizations deactivated with them.
        var deactivatedAuthorizationIDs: [UUID]
    }

    /// Revokes the credential `id`; nil when there is no such credential. Revoking a
    /// revoked credential again revokes what was bound to it since (nothing, normally).
    func revokeEABCredential(id: UUID, reason: String = "its external account binding credential was revoked")
        async throws -> EABRevocationOutcome?
    {
        let results: [BatchStatementResult]
        do {
            results = try await database.runBatch(BatchStatement.revokeEABCredential(id: id))
        } catch let error as StoreError where error.kind == .guardFailed && error.guardName == "eab-credential-exists" {
            return nil
        }
        let outcome = EABRevocationOutcome(
            kid: try results[0].rows.first?.string("kid") ?? "",
            revokedAccountIDs: try results[1].rows.map { try $0.uuid("id") },
            deactivatedAuthorizationIDs: try results[2].rows.map { try $0.uuid("id") })
        logger.notice("EAB credential revoked", metadata: [
            "eab_kid": "\(outcome.kid)", "accounts_revoked": "\(outcome.revokedAccountIDs.count)",
            "authorizations_deactivated": "\(outcome.deactivatedAuthorizationIDs.count)",
        ])
        for account in outcome.revokedAccountIDs {
            events.publish(.accountRevoked(accountID: account, reason: reason))
        }
        return outcome
    }
}
