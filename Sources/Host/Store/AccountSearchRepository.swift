import Foundation

/// The admin reads of the `accounts` table: search with filters and paging, and one
/// account with its counts.
extension Connection {
    static let accountRecordColumns = "\(accountColumns), a.updated_at, \(ListQuery.cursorColumn("a"))"

    /// One page of the accounts matching `search`, newest first.
    func searchAccounts(_ search: AccountSearch, page: PageRequest) throws -> [AccountRecord] {
        var list = Self.accountFilter(search)
        let tail = list.page(page, alias: "a")
        return try query("SELECT \(Self.accountRecordColumns) FROM accounts a \(list.whereClause) \(tail)", list.params)
            .map(Self.accountRecord)
    }

    /// How many accounts match `search` (every page together).
    func countAccounts(_ search: AccountSearch) throws -> Int {
        let list = Self.accountFilter(search)
        return try queryFirst("SELECT count(*) AS n FROM accounts a \(list.whereClause)", list.params)?.int("n") ?? 0
    }

    /// The account with its contacts and how many orders and certificates it has.
    func accountDetail(id: UUID) throws -> AccountDetail? {
        guard let row = try queryFirst(
            """
            SELECT \(Self.accountRecordColumns),
                   (SELECT count(*) FROM orders o WHERE o.account_id = a.id) AS order_count,
                   (SELECT count(*) FROM certificates c WHERE c.account_id = a.id) AS certificate_count,
                   (SELECT count(*) FROM certificates c
                    WHERE c.account_id = a.id AND c.revoked_at IS NULL AND c.not_after > now()) AS active_certificate_count
            FROM accounts a WHERE a.id = $1
            """, [.uuid(id)]) else { return nil }
        return AccountDetail(record: try Self.accountRecord(row), orderCount: try row.int("order_count"),
                             certificateCount: try row.int("certificate_count"),
                             activeCertificateCount: try row.int("active_certificate_count"))
    }

    static func accountFilter(_ search: AccountSearch) -> ListQuery {
        var list = ListQuery()
        if let status = search.status { list.add(.string(status.rawValue)) { "a.status = \($0)" } }
        if search.eabOnly { list.add("a.eab_kid IS NOT NULL") }
        if let kid = search.eabKID { list.add(.string(kid)) { "a.eab_kid = \($0)" } }
        if let contact = search.contact {
            list.add(.string(contact.lowercased())) {
                "EXISTS (SELECT 1 FROM account_contacts k WHERE k.account_id = a.id AND strpos(lower(k.uri), \($0)) > 0)"
            }
        }
        if let before = search.createdBefore { list.add(.date(before)) { "a.created_at < \($0)" } }
        if let after = search.createdAfter { list.add(.date(after)) { "a.created_at >= \($0)" } }
        return list
    }

    static func accountRecord(_ row: Row) throws -> AccountRecord {
        AccountRecord(account: try account(row), updatedAt: try row.date("updated_at"), pageCursor: try row.pageCursor())
    }
}
