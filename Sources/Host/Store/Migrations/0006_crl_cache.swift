/// `crl_cache`: the signed CRL of each CA backend (RFC 5280 §5), one row a backend, so that
/// every instance serves the same bytes; `crl_number` only grows (§5.2.3).
enum Migration0006 {
    static let crlCache = Migration(version: 6, name: "crl_cache", sql: sql)

    private static let sql = #"""
        CREATE TABLE crl_cache (
            -- the ca.backend / ca.failover name whose certificates the CRL lists
            backend      text PRIMARY KEY,
            crl_number   bigint NOT NULL CHECK (crl_number > 0),
            der          bytea NOT NULL,
            entries      integer NOT NULL CHECK (entries >= 0),
            this_update  timestamptz NOT NULL,
            next_update  timestamptz NOT NULL,
            -- the newest revocation the CRL lists (NULL: none), to see when it is behind
            newest_revocation  timestamptz,
            CHECK (next_update > this_update)
        );
        """#
}
