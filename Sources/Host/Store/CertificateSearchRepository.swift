import Foundation

/// A certificate a bulk revocation may revoke: what the revocation needs, and the chain its
/// leaf goes to the CA backend from.
struct RevocationCandidate: Sendable, Equatable {
    var certificate: RevocableCertificate
    /// As issued (PEM, leaf first).
    var pemChain: String
    /// Its position in the scan (oldest first).
    var pageCursor: PageCursor
}

/// The admin reads of the `certificates` table: search with filters and paging, one by
/// serial or fingerprint, and the unrevoked matches a bulk revocation walks through.
extension Connection {
    static let certificateRecordColumns = """
        c.id, c.account_id, c.order_id, c.serial, c.fingerprint, c.not_before, c.not_after, c.revoked_at,
        c.revocation_reason, c.san_values, c.ca_backend, c.created_at, \(ListQuery.cursorColumn("c"))
        """

    /// One page of the certificates matching `search`, newest first.
    func searchCertificates(_ search: CertificateSearch, page: PageRequest) throws -> [CertificateRecord] {
        var list = Self.certificateFilter(search)
        let tail = list.page(page, alias: "c")
        return try query("SELECT \(Self.certificateRecordColumns) FROM certificates c \(list.whereClause) \(tail)",
                         list.params).map(Self.certificateRecord)
    }

    /// How many certificates match `search` (every page together).
    func countCertificates(_ search: CertificateSearch) throws -> Int {
        let list = Self.certificateFilter(search)
        return try queryFirst("SELECT count(*) AS n FROM certificates c \(list.whereClause)", list.params)?.int("n") ?? 0
    }

    func certificateRecord(id: UUID) throws -> CertificateRecord? {
        try queryFirst("SELECT \(Self.certificateRecordColumns) FROM certificates c WHERE c.id = $1", [.uuid(id)])
            .map(Self.certificateRecord)
    }

    /// The certificate with this serial number (any form `CertificateRecord.normalizedSerial`
    /// accepts; nil for one that is not hex).
    func certificateRecord(serial: String) throws -> CertificateRecord? {
        guard let serial = CertificateRecord.normalizedSerial(serial) else { return nil }
        return try queryFirst("SELECT \(Self.certificateRecordColumns) FROM certificates c WHERE c.serial = $1",
                              [.string(serial)]).map(Self.certificateRecord)
    }

    /// The certificate whose DER has this SHA-256 (hex, any case).
    func certificateRecord(fingerprint: String) throws -> CertificateRecord? {
        try queryFirst("SELECT \(Self.certificateRecordColumns) FROM certificates c WHERE c.fingerprint = $1",
                       [.string(fingerprint.lowercased())]).map(Self.certificateRecord)
    }

    /// How many unrevoked certificates match `search` (its `status` ignored).
    func countRevocationCandidates(_ search: CertificateSearch) throws -> Int {
        var unrevoked = search
        unrevoked.status = nil
        var list = Self.certificateFilter(unrevoked)
        list.add("c.revoked_at IS NULL")
        return try queryFirst("SELECT count(*) AS n FROM certificates c \(list.whereClause)", list.params)?.int("n") ?? 0
    }

    /// Up to `limit` unrevoked certificates matching `search` (its `status` ignored), oldest
    /// first, after `cursor` in that order.
    func revocationCandidates(_ search: CertificateSearch, after cursor: PageCursor?, limit: Int) throws -> [RevocationCandidate] {
        var unrevoked = search
        unrevoked.status = nil
        var list = Self.certificateFilter(unrevoked)
        list.add("c.revoked_at IS NULL")
        if let cursor { list.add(beyond: cursor, alias: "c", newestFirst: false) }
        let sql = """
            SELECT c.id, c.account_id, c.serial, c.fingerprint, c.public_key_fingerprint, c.not_after, c.revoked_at,
                   c.revocation_reason, c.ca_backend, c.pem_chain, \(ListQuery.cursorColumn("c"))
            FROM certificates c \(list.whereClause)
            ORDER BY c.created_at, c.id LIMIT \(max(0, limit))
            """
        return try query(sql, list.params).map { row in
            RevocationCandidate(
                certificate: RevocableCertificate(
                    id: try row.uuid("id"), accountID: try row.uuid("account_id"), serial: try row.string("serial"),
                    fingerprint: try row.string("fingerprint"), publicKeyFingerprint: try row.string("public_key_fingerprint"),
                    notAfter: try row.date("not_after"), revokedAt: try row.dateIfPresent("revoked_at"),
                    revocationReason: try row.intIfPresent("revocation_reason"), caBackend: try row.string("ca_backend")),
                pemChain: try row.string("pem_chain"), pageCursor: try row.pageCursor())
        }
    }

    /// The conditions of `search` on `certificates c`. A serial that is not hex matches nothing.
    static func certificateFilter(_ search: CertificateSearch) -> ListQuery {
        var list = ListQuery()
        if let accountID = search.accountID { list.add(.uuid(accountID)) { "c.account_id = \($0)" } }
        if let serial = search.serial {
            list.add(.string(CertificateRecord.normalizedSerial(serial) ?? "not hex")) { "c.serial = \($0)" }
        }
        if !search.serials.isEmpty {
            list.add(.textArray(search.serials.map { CertificateRecord.normalizedSerial($0) ?? "not hex" })) {
                "c.serial = ANY(\($0)::text[])"
            }
        }
        if let fingerprint = search.fingerprint { list.add(.string(fingerprint.lowercased())) { "c.fingerprint = \($0)" } }
        switch search.status {
        case .active: list.add("c.revoked_at IS NULL AND c.not_after > now()")
        case .revoked: list.add("c.revoked_at IS NOT NULL")
        case .expired: list.add("c.revoked_at IS NULL AND c.not_after <= now()")
        case nil: break
        }
        // `@>` with a one-element array: the GIN index on san_values answers it.
        if let domain = search.domain { list.add(.textArray([domain.lowercased()])) { "c.san_values @> \($0)::text[]" } }
        if let before = search.expiringBefore { list.add(.date(before)) { "c.not_after < \($0)" } }
        if let after = search.issuedAfter { list.add(.date(after)) { "c.created_at >= \($0)" } }
        if let before = search.issuedBefore { list.add(.date(before)) { "c.created_at < \($0)" } }
        return list
    }

    static func certificateRecord(_ row: Row) throws -> CertificateRecord {
        CertificateRecord(
            id: try row.uuid("id"), accountID: try row.uuid("account_id"), orderID: try row.uuidIfPresent("order_id"),
            serial: try row.string("serial"), fingerprint: try row.string("fingerprint"),
            notBefore: try row.date("not_before"), notAfter: try row.date("not_after"),
            revokedAt: try row.dateIfPresent("revoked_at"), revocationReason: try row.intIfPresent("revocation_reason"),
            sanValues: try row.stringArray("san_values"), caBackend: try row.string("ca_backend"),
            createdAt: try row.date("created_at"), pageCursor: try row.pageCursor())
    }
}
