import Foundation

/// The counters of `security.rate_limits` (`backend: database`) and the quota counts.
extension BatchStatement {
    /// Counts one request in its window: the counter is inserted or incremented while it
    /// is below the limit, else no row comes back and the guard aborts the batch.
    static func chargeRateLimit(_ charge: RateLimitCharge) -> BatchStatement {
        .exactlyOneRow(charge.guardName, RateLimitSQL.charge,
                       [.string(charge.key), .date(charge.windowStart), .int(Int64(charge.limit))])
    }

    /// The account created fewer than `max` orders in the last 24 hours.
    static func orderQuota(accountID: UUID, max: Int, guardName: String) -> BatchStatement {
        .isTrue(guardName, """
            SELECT count(*) < $2 FROM orders WHERE account_id = $1 AND created_at > now() - interval '24 hours'
            """, [.uuid(accountID), .int(Int64(max))])
    }

    /// The account was issued fewer than `max` certificates in the last 24 hours.
    static func certificateQuota(accountID: UUID, max: Int, guardName: String) -> BatchStatement {
        .isTrue(guardName, """
            SELECT count(*) < $2 FROM certificates WHERE account_id = $1 AND created_at > now() - interval '24 hours'
            """, [.uuid(accountID), .int(Int64(max))])
    }
}

private enum RateLimitSQL {
    static let charge = """
        INSERT INTO rate_limit_counters AS c (key, window_start, count) VALUES ($1, $2, 1)
        ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + 1 WHERE c.count < $3
        RETURNING c.count
        """
}

extension Connection {
    /// Counts one request outside any batch (newNonce by HEAD/GET): false when the
    /// counter is already at the limit (nothing is changed then).
    func chargeRateLimit(_ charge: RateLimitCharge) throws -> Bool {
        try !query(RateLimitSQL.charge, [.string(charge.key), .date(charge.windowStart), .int(Int64(charge.limit))])
            .isEmpty
    }

    /// Deletes the counters of windows that started more than `seconds` ago.
    func deleteRateLimitCounters(olderThan seconds: Int) throws -> Int {
        try execute("DELETE FROM rate_limit_counters WHERE window_start < now() - make_interval(secs => $1::int)",
                    [.int(Int64(seconds))])
    }

    /// Seconds until the oldest of the account's rows of the last 24 hours in `table`
    /// (`orders` or `certificates`) leaves the rolling window.
    func quotaRetryAfter(accountID: UUID, certificates: Bool) throws -> Int {
        let table = certificates ? "certificates" : "orders"
        let row = try queryFirst("""
            SELECT ceil(extract(epoch FROM min(created_at) + interval '24 hours' - now()))::bigint AS seconds
            FROM \(table) WHERE account_id = $1 AND created_at > now() - interval '24 hours'
            """, [.uuid(accountID)])
        return max(1, (try? row?.int("seconds")) ?? 1)
    }
}
