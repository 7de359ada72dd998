/// Small queries about the database itself: liveness for `/healthz` and `/readyz`, the
/// server version for `acmeeh db status`, and certificate serials from the sequence.
extension Connection {
    /// `SELECT 1`: the server answers.
    func ping() throws {
        let rows = try query("SELECT 1 AS ok")
        guard try rows.first?.int("ok") == 1 else { throw StoreError(.decoding, "SELECT 1 returned no row") }
    }

    /// The `server_version` setting, e.g. `15.18 (Debian 15.18-0+deb12u1)`.
    func serverVersion() throws -> String {
        try query("SELECT current_setting('server_version') AS v").first!.string("v")
    }

    /// The next value of `certificate_serial_seq` as lowercase hex without leading zeros
    /// (`ca.*.serial_source: database`). Sequences never hand out a value twice, even
    /// across rolled-back transactions and concurrent servers.
    func nextSerial() throws -> String {
        guard let row = try query("SELECT nextval('certificate_serial_seq') AS n").first else {
            throw StoreError(.decoding, "nextval returned no row")
        }
        // Canonical serial hex (acmeeh_plugin.h): lowercase, whole bytes, no leading zero byte.
        let hex = String(try row.int64("n"), radix: 16)
        return hex.count % 2 == 0 ? hex : "0" + hex
    }
}

extension Database {
    /// Health probe: checks out a connection (so pool exhaustion shows) and runs `SELECT 1`.
    func ping() async throws {
        try await withConnection { try $0.ping() }
    }

    func serverVersion() async throws -> String {
        try await withConnection { try $0.serverVersion() }
    }

    func nextSerial() async throws -> String {
        try await withConnection { try $0.nextSerial() }
    }
}
