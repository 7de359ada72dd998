import Foundation

/// `/notifications`: what was recorded for delivery, re-queueing the failed ones, and purging old ones.
extension AdminAPI {
    func registerNotificationRoutes(_ routes: AdminRouteTable) {
        routes.get("/notifications", .admin) { call in
            let status = try call.query.choice("status", NotificationEntry.Status.allCases.map(\.rawValue))
                .flatMap(NotificationEntry.Status.init(rawValue:))
            let page = try call.page()
            let found = try await call.api.database.withConnection { try $0.notifications(status: status, page: page) }
            return call.pageReply(found.map(Self.json), page: page, last: found.last?.pageCursor)
        }
        routes.post("/notifications/retry", .admin) { call in
            let count = try await call.api.database.withConnection { try $0.retryFailedNotifications() }
            if count > 0 { call.api.core.notificationRecorder?.bell.ring() }
            await call.audit("notifications.retry", details: ["retried": count])
            return AdminReply.json(["retried": count])
        }
        routes.post("/notifications/purge", .admin) { call in
            let body = try await call.body()
            try body.allowOnly(["days"])
            let days = try body.int("days") ?? 30
            guard days >= 1 else { throw AdminProblem(.badRequest, "\"days\" must be at least 1") }
            let count = try await call.api.database.withConnection { try $0.purgeNotifications(olderThanDays: days) }
            await call.audit("notifications.purge", details: ["days": days, "purged": count])
            return AdminReply.json(["purged": count])
        }
    }

    static func json(_ entry: NotificationEntry) -> [String: Any] {
        ["id": AdminReply.id(entry.id), "type": entry.type, "account_id": AdminReply.id(entry.accountID),
         "recipients": entry.recipients, "recipient": entry.recipients.joined(separator: ", "), "subject": entry.subject,
         "status": entry.status.rawValue, "attempts": entry.attempts, "retry_count": entry.attempts,
         "next_attempt_at": AdminReply.date(entry.nextAttemptAt), "last_error": AdminReply.value(entry.lastError),
         "created_at": AdminReply.date(entry.createdAt), "sent_at": AdminReply.date(entry.sentAt)]
    }
}
