/// `rate_limit_counters`: the fixed-window request counters of `security.rate_limits`
/// with `backend: database`, shared by every instance on the database. One row per
/// limited key and window; the cleanup worker deletes old windows.
enum Migration0005 {
    static let rateLimitCounters = Migration(version: 5, name: "rate_limit_counters", sql: sql)

    private static let sql = #"""
        CREATE TABLE rate_limit_counters (
            key           text NOT NULL,
            window_start  timestamptz NOT NULL,
            count         integer NOT NULL CHECK (count > 0),
            PRIMARY KEY (key, window_start)
        );
        CREATE INDEX rate_limit_counters_window_idx ON rate_limit_counters (window_start);
        """#
}
