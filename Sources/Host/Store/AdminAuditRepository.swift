import Foundation

/// `admin.audit_log`: the admin API's audit trail.
extension Connection {
    private static let auditColumns = """
        a.id, a.user_id, a.action, a.target_user_id, a.details::text AS details, a.ip_address, a.created_at,
        \(ListQuery.cursorColumn("a"))
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
        var list = ListQuery()
        if let action = filter.action { list.add(.string(action)) { "a.action = \($0)" } }
        if let user = filter.userID { list.add(.uuid(user)) { "a.user_id = \($0)" } }
        if let since = filter.since { list.add(.date(since)) { "a.created_at >= \($0)" } }
        if let until = filter.until { list.add(.date(until)) { "a.created_at <= \($0)" } }
        let tail = list.page(page, alias: "a")
        return try query("SELECT \(Self.auditColumns) FROM admin.audit_log a \(list.whereClause) \(tail)", list.params)
            .map(Self.auditEntry)
    }

    private static func auditEntry(_ row: Row) throws -> AdminAuditEntry {
        let id = try row.uuid("id")
        return AdminAuditEntry(
            id: id, userID: try row.uuidIfPresent("user_id"), action: try row.string("action"),
            targetUserID: try row.uuidIfPresent("target_user_id"), details: try row.string("details"),
            ipAddress: try row.stringIfPresent("ip_address"), createdAt: try row.date("created_at"),
            pageCursor: try row.pageCursor())
    }
}
