import Foundation

/// A stored CSR profile (`admin.csr_profiles`): a named set of rules, as the JSON object
/// the admin API received (`profileData`, checked by Core's `CSRProfile` before it is
/// stored), applied at finalize to the CSRs of the accounts linked to it.
struct CSRProfileRecord: Sendable, Equatable {
    var id: UUID
    var name: String
    var description: String
    /// The rules, as JSON text (an object).
    var profileData: String
    var createdBy: UUID?
    var createdAt: Date
    var updatedAt: Date
    /// Its position in the admin list (exact `created_at`, `id`), the next page's `after`.
    var pageCursor: PageCursor
    /// The accounts linked to it, when the read asked for them (nil otherwise).
    var accountIDs: [UUID]?
}

/// What finalize reads, in its batch, for an account's CSR profile: the profile, and the
/// facts about this server's certificates that its `reuse_key` and `renewal_window_days`
/// rules need.
struct CSRProfileFacts: Sendable, Equatable {
    var profile: CSRProfileRecord
    /// A certificate this server issued (to any account) has the CSR's public key.
    var keyAlreadyIssued: Bool
    /// The latest `not_after` of the account's unrevoked, unexpired certificates for
    /// exactly the CSR's names (nil when there is none).
    var sameNamesNotAfter: Date?
}
