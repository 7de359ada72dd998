import Foundation

/// `GET /audit-log` (filters, keyset pages) and `POST /audit-log/export` (NDJSON).
extension AdminAPI {
    /// The most entries one export returns.
    static let maxExportEntries = 100_000

    func registerAuditLogRoutes(_ routes: AdminRouteTable) {
        routes.get("/audit-log", .reader) { call in
            let query = call.query
            let filter = AdminAuditFilter(action: query.string("action"), userID: try query.uuid("user_id"),
                                          since: try query.date("since"), until: try query.date("until"))
            let page = try call.page()
            let entries = try await call.api.database.withConnection { try $0.adminAuditEntries(filter, page: page) }
            return call.pageReply(entries.map(Self.json), page: page, last: entries.last?.pageCursor)
        }
        routes.post("/audit-log/export", .admin) { call in
            let body = try await call.body()
            try body.allowOnly(["action", "user_id", "since", "until"])
            let filter = AdminAuditFilter(action: try body.string("action"), userID: try body.uuid("user_id"),
                                          since: try body.date("since"), until: try body.date("until"))
            var lines: [Any] = []
            var page = PageRequest(limit: 1000)
            while lines.count < Self.maxExportEntries {
                let batch = try await call.api.database.withConnection { [page] in try $0.adminAuditEntries(filter, page: page) }
                lines += batch.map(Self.json)
                guard batch.count == page.limit, let last = batch.last else { break }
                page.after = last.pageCursor
            }
            await call.audit("audit_log.export", details: ["entries": lines.count])
            return AdminReply.ndjson(lines)
        }
    }

    static func json(_ entry: AdminAuditEntry) -> [String: Any] {
        let details = (try? JSONSerialization.jsonObject(with: Data(entry.details.utf8))) ?? [String: Any]()
        return ["id": AdminReply.id(entry.id), "user_id": AdminReply.id(entry.userID), "action": entry.action,
                "target_user_id": AdminReply.id(entry.targetUserID), "details": details,
                "ip_address": AdminReply.value(entry.ipAddress), "created_at": AdminReply.date(entry.createdAt)]
    }
}
