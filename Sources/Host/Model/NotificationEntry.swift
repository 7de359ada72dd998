import Foundation

/// A recorded notification (`notifications`, migration 0008) as the admin API lists it:
/// what was sent to whom, and where its delivery stands. The bodies are left out.
struct NotificationEntry: Sendable, Equatable {
    /// `pending` until delivered (`sent`) or given up (`failed`); `unsent`: recorded while
    /// `smtp.enabled` was false, never sent.
    enum Status: String, Sendable, CaseIterable {
        case pending, sent, failed, unsent
    }

    var id: UUID
    /// A `notifications.types` name.
    var type: String
    var accountID: UUID?
    var recipients: [String]
    var subject: String
    var status: Status
    var attempts: Int
    var nextAttemptAt: Date
    var lastError: String?
    var createdAt: Date
    var sentAt: Date?
    /// Its position in an admin list.
    var pageCursor: PageCursor
}
