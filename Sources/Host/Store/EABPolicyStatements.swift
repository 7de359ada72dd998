import Foundation

/// The statements that tie accounts to their external account binding credential beyond
/// the binding itself: the credential's allowlist and CSR profile copied to the account
/// (newAccount), and the credential's revocation with its accounts (admin API).
extension BatchStatement {
    /// The account's links that came from a credential (`from_eab`) become the links of
    /// the credential `kid`: its allowed identifiers, and its CSR profile unless an
    /// operator gave the account one of its own. Links an operator made stay.
    static func syncEABPolicies(accountID: UUID, kid: String) -> [BatchStatement] {
        [
            BatchStatement("DELETE FROM admin.account_allowed_identifiers WHERE account_id = $1 AND from_eab",
                           [.uuid(accountID)]),
            BatchStatement(
                """
                INSERT INTO admin.account_allowed_identifiers (account_id, identifier_id, from_eab)
                SELECT $1, l.identifier_id, true FROM admin.eab_allowed_identifiers l
                JOIN eab_credentials e ON e.id = l.eab_id WHERE e.kid = $2
                ON CONFLICT (account_id, identifier_id) DO NOTHING
                """, [.uuid(accountID), .string(kid)]),
            BatchStatement("DELETE FROM admin.account_csr_profiles WHERE account_id = $1 AND from_eab", [.uuid(accountID)]),
            BatchStatement(
                """
                INSERT INTO admin.account_csr_profiles (account_id, profile_id, from_eab)
                SELECT $1, l.profile_id, true FROM admin.eab_csr_profiles l
                JOIN eab_credentials e ON e.id = l.eab_id WHERE e.kid = $2
                ON CONFLICT (account_id) DO NOTHING
                """, [.uuid(accountID), .string(kid)]),
        ]
    }

    /// The account is bound to `kid` from now on (a binding sent again by a known account).
    static func rebindAccount(_ accountID: UUID, kid: String) -> BatchStatement {
        BatchStatement("UPDATE accounts SET eab_kid = $2 WHERE id = $1 AND eab_kid IS DISTINCT FROM $2",
                       [.uuid(accountID), .string(kid)])
    }

    /// The credential `id` is revoked (guard `eab-credential-exists`: it exists; its kid is
    /// returned); the valid accounts bound to it (`accounts.eab_kid`) become `revoked`
    /// (their ids returned); and the pending and valid authorizations of every account
    /// revoked under it become `deactivated` (their ids returned). In this order.
    static func revokeEABCredential(id: UUID) -> [BatchStatement] {
        [
            .exactlyOneRow("eab-credential-exists",
                           "UPDATE eab_credentials SET revoked = true WHERE id = $1 RETURNING kid", [.uuid(id)]),
            BatchStatement(
                """
                UPDATE accounts SET status = 'revoked'
                WHERE eab_kid = (SELECT kid FROM eab_credentials WHERE id = $1) AND status = 'valid' RETURNING id
                """, [.uuid(id)]),
            BatchStatement(
                """
                UPDATE authorizations SET status = 'deactivated'
                WHERE status IN ('pending', 'valid') AND account_id IN (
                    SELECT a.id FROM accounts a WHERE a.status = 'revoked'
                    AND a.eab_kid = (SELECT kid FROM eab_credentials WHERE id = $1))
                RETURNING id
                """, [.uuid(id)]),
        ]
    }
}
