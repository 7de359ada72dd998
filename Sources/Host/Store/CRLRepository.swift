import Foundation

/// A CA backend's signed CRL as stored in `crl_cache`.
struct StoredCRL: Sendable, Equatable {
    var backend: String
    var number: Int64
    var der: [UInt8]
    var entries: Int
    var thisUpdate: Date
    var nextUpdate: Date
    var newestRevocation: Date?
}

/// A backend's CRL as far as deciding a rebuild needs (`number` 0: none built yet).
struct CRLState: Sendable, Equatable {
    var number: Int64
    var thisUpdate: Date?
    /// The newest revocation the stored CRL lists.
    var listedRevocation: Date?
    /// The newest revocation of the backend's certificates now.
    var newestRevocation: Date?
}

/// One revoked certificate as a CRL lists it (RFC 5280 §5.1.2.6).
struct RevokedEntry: Sendable, Equatable {
    /// The serial number as stored: lowercase hex.
    var serial: String
    var revokedAt: Date
    /// RFC 5280 §5.3.1 CRLReason; nil = unspecified, left out of the entry.
    var reason: Int?
}

/// `crl_cache` and the revoked certificates a CRL is built from.
extension Connection {
    func storedCRL(backend: String) throws -> StoredCRL? {
        try queryFirst(
            """
            SELECT backend, crl_number, der, entries, this_update, next_update, newest_revocation
            FROM crl_cache WHERE backend = $1
            """, [.string(backend)]
        ).map { row in
            StoredCRL(backend: try row.string("backend"), number: Int64(try row.int("crl_number")),
                      der: try row.bytes("der"), entries: try row.int("entries"),
                      thisUpdate: try row.date("this_update"), nextUpdate: try row.date("next_update"),
                      newestRevocation: try row.dateIfPresent("newest_revocation"))
        }
    }

    /// The revoked certificates of `backend` that have not expired (§5: an expired
    /// certificate may leave the list), oldest revocation first.
    func revokedEntries(backend: String, at now: Date) throws -> [RevokedEntry] {
        try query(
            """
            SELECT serial, revoked_at, revocation_reason FROM certificates
            WHERE ca_backend = $1 AND revoked_at IS NOT NULL AND not_after > $2
            ORDER BY revoked_at, serial
            """, [.string(backend), .date(now)]
        ).map { row in
            RevokedEntry(serial: try row.string("serial"), revokedAt: try row.date("revoked_at"),
                         reason: try row.intIfPresent("revocation_reason"))
        }
    }

    /// What decides whether `backend`'s CRL is due, in one light query: the stored CRL's
    /// number, thisUpdate and newest listed revocation (nil before the first), and the
    /// newest revocation there is now.
    func crlState(backend: String) throws -> CRLState {
        let row = try queryFirst(
            """
            SELECT c.crl_number, c.this_update, c.newest_revocation,
                   (SELECT max(revoked_at) FROM certificates WHERE ca_backend = $1 AND revoked_at IS NOT NULL) AS newest
            FROM (SELECT 1) AS one LEFT JOIN crl_cache c ON c.backend = $1
            """, [.string(backend)])
        return CRLState(number: try row?.intIfPresent("crl_number").map(Int64.init) ?? 0,
                        thisUpdate: try row?.dateIfPresent("this_update"),
                        listedRevocation: try row?.dateIfPresent("newest_revocation"),
                        newestRevocation: try row?.dateIfPresent("newest"))
    }

    /// Stores `crl` if it is the successor of what is stored (its number one more than the
    /// stored one, or 1 for the first), holding the row while it checks; false when another
    /// builder (the elected CRL worker of another instance, `acmeeh crl rebuild`) stored
    /// first: that CRL stays, this one is dropped unserved.
    func storeCRL(_ crl: StoredCRL) throws -> Bool {
        let values: [PostgresValue?] = [
            .string(crl.backend), .int(crl.number), .bytea(crl.der), .int(Int64(crl.entries)),
            .date(crl.thisUpdate), .date(crl.nextUpdate), crl.newestRevocation.map { .date($0) },
        ]
        return try transaction { c in
            let stored = try c.queryFirst("SELECT crl_number FROM crl_cache WHERE backend = $1 FOR UPDATE",
                                          [.string(crl.backend)]).map { Int64(try $0.int("crl_number")) }
            guard crl.number == (stored ?? 0) + 1 else { return false }
            if stored == nil {
                return try c.execute(
                    """
                    INSERT INTO crl_cache (backend, crl_number, der, entries, this_update, next_update, newest_revocation)
                    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (backend) DO NOTHING
                    """, values) == 1
            }
            return try c.execute(
                """
                UPDATE crl_cache SET crl_number = $2, der = $3, entries = $4, this_update = $5, next_update = $6,
                    newest_revocation = $7
                WHERE backend = $1
                """, values) == 1
        }
    }
}
