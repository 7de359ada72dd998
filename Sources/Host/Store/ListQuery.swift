import Foundation

/// The WHERE clause and paging of an admin list, built from fixed condition templates with
/// every value bound as a parameter (never spliced). Lists are ordered by (`created_at`,
/// `id`), newest first unless the list says otherwise, the cursor naming the last row of
/// the previous page.
struct ListQuery {
    private(set) var conditions: [String] = []
    private(set) var params: [PostgresValue?] = []

    /// Binds `value` as the next parameter and adds the condition `template` makes of its
    /// placeholder (`$n`).
    mutating func add(_ value: PostgresValue, _ template: (String) -> String) {
        params.append(value)
        conditions.append(template("$\(params.count)"))
    }

    /// A condition without a value.
    mutating func add(_ condition: String) { conditions.append(condition) }

    var whereClause: String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }

    /// The cursor's condition (when the page has one) on `alias`'s `created_at` and `id`;
    /// returns the ORDER BY, LIMIT and OFFSET to end the statement with (OFFSET only
    /// without a cursor). Call after the last `add`, before reading `whereClause`.
    mutating func page(_ page: PageRequest, alias: String, newestFirst: Bool = true) -> String {
        if let cursor = page.after { add(beyond: cursor, alias: alias, newestFirst: newestFirst) }
        params.append(.int(max(0, page.limit)))
        let direction = newestFirst ? " DESC" : ""
        var tail = "ORDER BY \(alias).created_at\(direction), \(alias).id\(direction) LIMIT $\(params.count)"
        if page.after == nil {
            params.append(.int(max(0, page.offset)))
            tail += " OFFSET $\(params.count)"
        }
        return tail
    }

    /// Rows past `cursor` in (`created_at`, `id`) order: before it when `newestFirst`,
    /// after it otherwise.
    mutating func add(beyond cursor: PageCursor, alias: String, newestFirst: Bool) {
        params.append(.int(cursor.createdAtMicros))
        let micros = "$\(params.count)"
        params.append(.uuid(cursor.id))
        conditions.append("""
            (\(alias).created_at, \(alias).id) \(newestFirst ? "<" : ">") \
            ('epoch'::timestamptz + \(micros)::bigint * interval '1 microsecond', $\(params.count)::uuid)
            """)
    }

    /// The column a list selects for its rows' cursors.
    static func cursorColumn(_ alias: String) -> String {
        "(extract(epoch FROM \(alias).created_at) * 1000000)::bigint AS page_micros"
    }
}

extension Row {
    /// The row's position in its list (`ListQuery.cursorColumn` and `id`).
    func pageCursor() throws -> PageCursor {
        PageCursor(createdAtMicros: try int64("page_micros"), id: try uuid("id"))
    }
}
