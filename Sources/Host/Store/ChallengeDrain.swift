import Foundation

/// The challenges an instance holds at shutdown (deployment guide, graceful shutdown step
/// 3): back to `pending` so that the restart or another instance finishes them.
extension Connection {
    /// Processing challenges locked by `owner` (every lock name of one instance starts
    /// with it) become pending, marked by `next_retry_at` as drained; the count.
    @discardableResult
    func drainChallenges(lockedBy owner: String) throws -> Int {
        try execute(
            """
            UPDATE challenges SET status = 'pending', locked_by = NULL, locked_at = NULL, next_retry_at = now()
            WHERE status = 'processing' AND starts_with(locked_by, $1)
            """, [.string(owner)])
    }

    /// Drained challenges (pending with `next_retry_at` set) whose authorization is still
    /// pending and unexpired go back to the worker's queue (processing, unlocked); the count.
    @discardableResult
    func requeueDrainedChallenges() throws -> Int {
        try execute(
            """
            UPDATE challenges c SET status = 'processing', next_retry_at = NULL
            FROM authorizations a
            WHERE c.status = 'pending' AND c.next_retry_at IS NOT NULL AND c.locked_by IS NULL
              AND a.id = c.authorization_id AND a.status = 'pending' AND a.expires > now()
            """)
    }
}
