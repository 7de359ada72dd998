import Foundation

/// The `retention` deletes of the cleanup worker. Each statement deletes at most `limit` rows
/// in its own short transaction, so a large backlog never holds locks for long; the caller
/// repeats it until fewer than `limit` rows go.
extension Connection {
    /// Invalid orders last changed more than `days` ago (their authorization links go with
    /// them; a certificate of one keeps its record, unlinked).
    func deleteInvalidOrders(olderThanDays days: Int, limit: Int) throws -> Int {
        try execute(
            """
            DELETE FROM orders WHERE id IN (
                SELECT id FROM orders
                WHERE status = 'invalid' AND updated_at < now() - make_interval(days => $1::int)
                LIMIT $2)
            """, [.int(days), .int(limit)])
    }

    /// Authorizations whose `expires` passed more than `days` ago, whatever their status: none
    /// of them can authorize anything any more. Their challenges go with them.
    func deleteExpiredAuthorizations(olderThanDays days: Int, limit: Int) throws -> Int {
        try execute(
            """
            DELETE FROM authorizations WHERE id IN (
                SELECT id FROM authorizations
                WHERE expires < now() - make_interval(days => $1::int)
                LIMIT $2)
            """, [.int(days), .int(limit)])
    }

    /// Invalid challenges last changed more than `days` ago.
    func deleteInvalidChallenges(olderThanDays days: Int, limit: Int) throws -> Int {
        try execute(
            """
            DELETE FROM challenges WHERE id IN (
                SELECT id FROM challenges
                WHERE status = 'invalid' AND updated_at < now() - make_interval(days => $1::int)
                LIMIT $2)
            """, [.int(days), .int(limit)])
    }
}
