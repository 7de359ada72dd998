/// Session-level advisory locks that elect one instance to run a background worker.
extension Connection {
    /// True while this session holds advisory lock `key`, taking it when it is free. The lock
    /// is taken once per session (never re-entered), so one unlock or the end of the session
    /// frees it for another instance.
    func holdOrTakeAdvisoryLock(_ key: Int) throws -> Bool {
        try queryFirst(
            """
            SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks
                                     WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                                       AND classid = ($1::bigint >> 32)::oid AND objid = ($1::bigint & 4294967295)::oid
                                       AND objsubid = 1)
                        THEN true ELSE pg_try_advisory_lock($1::bigint) END AS leader
            """, [.int(Int64(key))])?.bool("leader") ?? false
    }

    /// Frees advisory lock `key` held by this session (false when it was not held).
    @discardableResult
    func releaseAdvisoryLock(_ key: Int) throws -> Bool {
        try queryFirst("SELECT pg_advisory_unlock($1::bigint) AS released", [.int(Int64(key))])?.bool("released") ?? false
    }
}
