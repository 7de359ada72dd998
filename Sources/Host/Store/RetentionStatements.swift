import Foundation

/// The `retention` deletes of the cleanup worker. Each statement deletes at most `limit` rows
/// in its own short transaction, so a large backlog never holds locks for long; the caller
/// repeats it until fewer than `limit` rows go.
extension Connection {
    /// Invalid orders last changed more than `days` ago (their authorization links go with
    /// them; a certificate of one keeps its record, unlinked).
    func deleteInvalidOrders(olderThanDays days: Int, limit: Int) throws -> Int {
        try deleteBatch(from: "orders", where: "status = 'invalid' AND updated_at", olderThanDays: days, limit: limit)
    }

    /// Authorizations whose `expires` passed more than `days` ago, whatever their status: none
    /// of them can authorize anything any more. Their challenges go with them.
    func deleteExpiredAuthorizations(olderThanDays days: Int, limit: Int) throws -> Int {
        try deleteBatch(from: "authorizations", where: "expires", olderThanDays: days, limit: limit)
    }

    /// Invalid challenges last changed more than `days` ago.
    func deleteInvalidChallenges(olderThanDays days: Int, limit: Int) throws -> Int {
        try deleteBatch(from: "challenges", where: "status = 'invalid' AND updated_at", olderThanDays: days, limit: limit)
    }

    /// Expiration warning notices older than `days` of certificates that have expired (a
    /// notice of a certificate still valid keeps it from being warned again).
    func deleteExpirationNotices(olderThanDays days: Int, limit: Int) throws -> Int {
        try execute(
            """
            DELETE FROM certificate_expiration_notices WHERE ctid IN (
                SELECT e.ctid FROM certificate_expiration_notices e JOIN certificates c ON c.id = e.certificate_id
                WHERE e.notified_at < now() - make_interval(days => $1::int) AND c.not_after < now() LIMIT $2)
            """, [.int(days), .int(limit)])
    }

    /// Admin audit-log rows (`admin.audit_log`) recorded more than `days` ago (`audit_retention`).
    func deleteAuditLog(olderThanDays days: Int, limit: Int) throws -> Int {
        try deleteBatch(from: "admin.audit_log", where: "created_at", olderThanDays: days, limit: limit)
    }

    /// Deletes up to `limit` rows of `table` whose condition, ending in a timestamp column,
    /// lies more than `days` in the past (the caller's literals only, never input).
    private func deleteBatch(from table: String, where condition: String, olderThanDays days: Int, limit: Int) throws -> Int {
        try execute(
            """
            DELETE FROM \(table) WHERE id IN (
                SELECT id FROM \(table) WHERE \(condition) < now() - make_interval(days => $1::int) LIMIT $2)
            """, [.int(days), .int(limit)])
    }
}
