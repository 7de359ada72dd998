/// The SQL of one admin list page (`PageRequest`), ordered by (`created_at`, `id`)
/// ascending: the cursor's keyset condition or the offset, and the limit.
enum PageClause {
    /// The column that carries a row's exact position, for `PageCursor`.
    static func cursorColumn(_ alias: String) -> String {
        "(extract(epoch FROM \(alias).created_at) * 1000000)::bigint AS page_created_micros"
    }

    /// `AND (…) ORDER BY … LIMIT … OFFSET …` for rows aliased `alias`, its parameters
    /// numbered from `firstParameter`.
    static func sql(_ page: PageRequest, alias: String, firstParameter n: Int) -> (sql: String, params: [PostgresValue?]) {
        let order = " ORDER BY \(alias).created_at, \(alias).id LIMIT $\(n)"
        if let after = page.after {
            return ("""
                 AND (\(alias).created_at, \(alias).id) > ('epoch'::timestamptz + $\(n + 1) * interval '1 microsecond', $\(n + 2))
                """ + order, [.int(max(page.limit, 0)), .int(after.createdAtMicros), .uuid(after.id)])
        }
        return (order + " OFFSET $\(n + 1)", [.int(max(page.limit, 0)), .int(max(page.offset, 0))])
    }

    static func cursor(_ row: Row, id: String = "id") throws -> PageCursor {
        PageCursor(createdAtMicros: try row.int64("page_created_micros"), id: try row.uuid(id))
    }
}
