import Foundation

/// An operator of the admin API (`admin.users`). The password exists only as its bcrypt hash.
struct AdminUser: Sendable, Equatable {
    /// `admin` may change things; `auditor` may only read.
    enum Role: String, Sendable, CaseIterable {
        case admin, auditor
    }

    let id: UUID
    var username: String
    var email: String
    var passwordHash: String
    var role: Role
    var enabled: Bool
    /// Tokens issued before this instant are no longer accepted.
    var passwordChangedAt: Date
    var lastLoginAt: Date?
    let createdAt: Date
    var updatedAt: Date
}
