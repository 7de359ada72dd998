import Foundation

/// `admin.token_revocations` and `admin.login_failures`: what every instance must agree on
/// about admin sessions (tokens ended by logout, the evidence of a login lockout).
extension Connection {
    /// Ends a token (its SHA-256) until it would have expired anyway; expired entries go.
    func revokeAdminToken(digest: [UInt8], expiresAt: Date) throws {
        _ = try execute("DELETE FROM admin.token_revocations WHERE expires_at < now()")
        _ = try execute(
            "INSERT INTO admin.token_revocations (token_digest, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [.bytea(digest), .date(expiresAt)])
    }

    func isAdminTokenRevoked(digest: [UInt8]) throws -> Bool {
        try queryFirst("SELECT 1 AS x FROM admin.token_revocations WHERE token_digest = $1", [.bytea(digest)]) != nil
    }

    /// Failed logins of `username` from `ip` in the last `seconds`, newest first.
    func adminLoginFailures(ip: String, username: String, withinSeconds seconds: Int) throws -> [Date] {
        try query(
            """
            SELECT failed_at FROM admin.login_failures
            WHERE ip_address = $1 AND username = $2 AND failed_at > now() - $3 * interval '1 second'
            ORDER BY failed_at DESC
            """, [.string(ip), .string(username), .int(Int64(seconds))]).map { try $0.date("failed_at") }
    }

    /// Records a failed login; rows older than `keepSeconds` go.
    func recordAdminLoginFailure(ip: String, username: String, keepSeconds: Int) throws {
        _ = try execute("DELETE FROM admin.login_failures WHERE failed_at < now() - $1 * interval '1 second'",
                        [.int(Int64(keepSeconds))])
        _ = try execute("INSERT INTO admin.login_failures (ip_address, username) VALUES ($1, $2)",
                        [.string(ip), .string(username)])
    }

    /// A successful login clears the failures of that IP and username.
    func clearAdminLoginFailures(ip: String, username: String) throws {
        _ = try execute("DELETE FROM admin.login_failures WHERE ip_address = $1 AND username = $2",
                        [.string(ip), .string(username)])
    }

    /// The database's clock, which every instance shares.
    func databaseNow() throws -> Date {
        guard let row = try queryFirst("SELECT now() AS now") else { throw StoreError(.decoding, "SELECT now() returned no row") }
        return try row.date("now")
    }
}
