import Foundation

/// The admin operations on the `notifications` table: list, send the failed ones again,
/// delete old finished ones.
extension Connection {
    /// One page of the notifications (of `status` when given), newest first.
    func notifications(status: NotificationEntry.Status?, page: PageRequest) throws -> [NotificationEntry] {
        var list = ListQuery()
        if let status { list.add(.string(status.rawValue)) { "n.status = \($0)" } }
        let tail = list.page(page, alias: "n")
        return try query(
            """
            SELECT n.id, n.type, n.account_id, n.recipients, n.subject, n.status, n.attempts, n.next_attempt_at,
                   n.last_error, n.created_at, n.sent_at, \(ListQuery.cursorColumn("n"))
            FROM notifications n \(list.whereClause) \(tail)
            """, list.params
        ).map { row in
            NotificationEntry(
                id: try row.uuid("id"), type: try row.string("type"), accountID: try row.uuidIfPresent("account_id"),
                recipients: try row.stringArray("recipients"), subject: try row.string("subject"),
                status: NotificationEntry.Status(rawValue: try row.string("status")) ?? .failed,
                attempts: try row.int("attempts"), nextAttemptAt: try row.date("next_attempt_at"),
                lastError: try row.stringIfPresent("last_error"), createdAt: try row.date("created_at"),
                sentAt: try row.dateIfPresent("sent_at"), pageCursor: try row.pageCursor())
        }
    }

    /// Every `failed` notification becomes `pending` again with its attempts reset and due
    /// now, so the notification sender (which claims pending rows by `next_attempt_at`)
    /// delivers it with its full retries at its next poll. Returns how many.
    func retryFailedNotifications() throws -> Int {
        try execute("UPDATE notifications SET status = 'pending', attempts = 0, next_attempt_at = now() WHERE status = 'failed'")
    }

    /// Deletes the finished notifications (`sent`, `failed`, `unsent`; never `pending`)
    /// recorded more than `days` days ago. Returns how many.
    func purgeNotifications(olderThanDays days: Int) throws -> Int {
        try execute(
            """
            DELETE FROM notifications
            WHERE status IN ('sent', 'failed', 'unsent') AND created_at < now() - make_interval(days => $1::int)
            """, [.int(days)])
    }
}
