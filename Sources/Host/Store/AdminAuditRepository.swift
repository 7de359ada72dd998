import Foundation

/// `admin.audit_log`: the admin API's audit trail.
extension Connection {
    private static let auditColumns = """
        id, user_id, action, target_user_id, details::text AS details, ip_address, created_at,
        (extract(epoch FROM created_at) * 1000000)::bigint AS created_micros
        """

    func insertAdminAudit(userID: UUID?, action: String, targetUserID: UUID?, detailsJSON: String, ipAddress: String?) throws {
        _ = try execute(
            """
            INSERT INTO admin.audit_log (user_id, action, target_user_id, details, ip_address)
            VALUES ($1, $2, $3, $4, $5)
            """, [userID.map { .uuid($0) }, .string(action), targetUserID.map { .uuid($0) }, .jsonb(detailsJSON),
                  ipAddress.map { .string($0) }])
    }

    /// Entries matching `filter`, newest first, one page.
    func adminAuditEntries(_ filter: AdminAuditFilter, page: PageRequest) throws -> [AdminAuditEntry] {
        var conditions: [String] = []
        var params: [PostgresValue?] = []
        func bind(_ value: PostgresValue) -> String {
            params.append(value)
            return "$\(params.count)"
        }
        if let action = filter.action { conditions.append("action = \(bind(.string(action)))") }
        if let user = filter.userID { conditions.append("user_id = \(bind(.uuid(user)))") }
        if let since = filter.since { conditions.append("created_at >= \(bind(.date(since)))") }
        if let until = filter.until { conditions.append("created_at <= \(bind(.date(until)))") }
        if let after = page.after {
            conditions.append("(created_at, id) < ('epoch'::timestamptz + \(bind(.int(after.createdAtMicros))) * interval '1 microsecond', \(bind(.uuid(after.id))))")
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let offset = page.after == nil ? " OFFSET \(bind(.int(Int64(page.offset))))" : ""
        let limit = bind(.int(Int64(page.limit)))
        return try query(
            "SELECT \(Self.auditColumns) FROM admin.audit_log \(whereClause) ORDER BY created_at DESC, id DESC LIMIT \(limit)\(offset)",
            params).map(Self.auditEntry)
    }

    private static func auditEntry(_ row: Row) throws -> AdminAuditEntry {
        let id = try row.uuid("id")
        return AdminAuditEntry(
            id: id, userID: try row.uuidIfPresent("user_id"), action: try row.string("action"),
            targetUserID: try row.uuidIfPresent("target_user_id"), details: try row.string("details"),
            ipAddress: try row.stringIfPresent("ip_address"), createdAt: try row.date("created_at"),
            cursor: PageCursor(createdAtMicros: try row.int64("created_micros"), id: id))
    }
}
