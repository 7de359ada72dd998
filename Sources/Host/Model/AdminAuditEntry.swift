import Foundation

/// One row of the admin audit trail (`admin.audit_log`): who did what to which target, from where.
struct AdminAuditEntry: Sendable, Equatable {
    let id: UUID
    let userID: UUID?
    let action: String
    let targetUserID: UUID?
    /// A JSON object.
    let details: String
    let ipAddress: String?
    let createdAt: Date
    /// The row's position for keyset paging.
    let pageCursor: PageCursor
}

/// What an audit-log listing or export keeps.
struct AdminAuditFilter: Sendable, Equatable {
    var action: String? = nil
    var userID: UUID? = nil
    var since: Date? = nil
    var until: Date? = nil
}
