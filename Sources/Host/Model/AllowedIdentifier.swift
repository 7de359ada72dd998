import Foundation

/// An entry of the admin-managed identifier allowlist (`admin.allowed_identifiers`): a
/// `dns` name (possibly `*.domain`) or an `ip` address that accounts linked to it may
/// order when `security.identifier_policy.enforce_account_allowlist` is on.
struct AllowedIdentifier: Sendable, Equatable {
    var id: UUID
    var identifier: Identifier
    /// The admin user who created it (nil once that user is deleted).
    var createdBy: UUID?
    var createdAt: Date
    /// Its position in the admin list (exact `created_at`, `id`), the next page's `after`.
    var pageCursor: PageCursor
    /// The accounts linked to it, when the read asked for them (nil otherwise).
    var accountIDs: [UUID]?
}
