import Foundation

/// An ACME account as the admin API and `acmeeh inspect` show it: the stored account and
/// when it last changed.
struct AccountRecord: Sendable, Equatable {
    /// id, key (JWK and thumbprint), status, contacts, terms agreed, EAB kid, created.
    var account: Account
    var updatedAt: Date
    /// Its position in an admin list.
    var pageCursor: PageCursor
}

/// One account with what it holds (`acmeeh inspect account`, the admin account view).
struct AccountDetail: Sendable, Equatable {
    var record: AccountRecord
    /// Every order the account created, whatever its status.
    var orderCount: Int
    /// Every certificate issued to it.
    var certificateCount: Int
    /// Those neither revoked nor expired.
    var activeCertificateCount: Int
}

/// The filters of the admin account list; every one set must hold (AND).
struct AccountSearch: Sendable, Equatable {
    var status: Account.Status? = nil
    /// true: only accounts bound to an EAB credential; false or nil: all.
    var eabOnly: Bool = false
    /// Accounts bound to exactly this EAB key id.
    var eabKID: String? = nil
    /// Accounts with a contact URI containing this text, case-insensitively (a substring:
    /// `example.com` finds `mailto:ops@example.com`).
    var contact: String? = nil
    var createdBefore: Date? = nil
    /// At or after.
    var createdAfter: Date? = nil
}
